//! Graphviz DOT rendering.

use std::fmt::Write as _;

use crate::graph::Graph;
use crate::style::{self, EDGE_COLOR, FONT_SIZE, Shape};

/// Renders `graph` as a Graphviz DOT `digraph`, top to bottom, nodes `n0`, `n1`, … in
/// insertion order.
///
/// Labels are quoted and escaped; `&` is written `&amp;` because Graphviz decodes HTML
/// entities in ordinary labels. Each node's stable key becomes its `id` attribute (the
/// element id in Graphviz's SVG output).
///
/// ```
/// use lamella_lineage::{Graph, Node, NodeKind, to_dot};
/// let mut g = Graph::new();
/// g.add_node(Node::new("ulabel:1", "say \"hi\"", NodeKind::Label));
/// assert!(to_dot(&g).contains(r#"label="say \"hi\"""#));
/// ```
pub fn to_dot(graph: &Graph) -> String {
    let mut out = String::new();
    out.push_str("digraph lamella {\n");
    out.push_str("    rankdir=TB;\n");
    let _ = writeln!(
        out,
        "    node [fontname=\"Helvetica\", fontsize={FONT_SIZE}, style=filled];"
    );
    let _ = writeln!(out, "    edge [color=\"{EDGE_COLOR}\", arrowsize=0.7];");
    for (i, node) in graph.nodes().enumerate() {
        let look = style::look(node);
        let (shape, style) = match look.shape {
            Shape::Box => ("box", "filled"),
            Shape::Rounded => ("box", "rounded,filled"),
            Shape::Ellipse => ("ellipse", "filled"),
        };
        let _ = write!(
            out,
            "    n{i} [id={}, label={}, shape={shape}, style=\"{style}\", fillcolor=\"{}\", color=\"{}\"",
            quote(&node.id, false),
            quote(&node.label, true),
            look.fill,
            look.stroke,
        );
        if look.pen_width != 1 {
            let _ = write!(out, ", penwidth={}", look.pen_width);
        }
        if look.font_size != FONT_SIZE {
            let _ = write!(
                out,
                ", fontsize={}, height=0.3, margin=\"0.08,0.03\"",
                look.font_size
            );
        }
        if look.bold {
            out.push_str(", fontname=\"Helvetica-Bold\"");
        }
        out.push_str("];\n");
    }
    for (a, b) in graph.edge_indices() {
        let _ = writeln!(out, "    n{a} -> n{b};");
    }
    out.push_str("}\n");
    out
}

/// A DOT double-quoted string. Backslashes and quotes are escaped, newlines become `\n`
/// (a centred line break); with `entities`, `&` becomes `&amp;` so Graphviz shows it as is.
pub(crate) fn quote(text: &str, entities: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in style::clean(text).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '&' if entities => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quote_escapes_dot_specials() {
        assert_eq!(quote(r#"say "hi""#, true), r#""say \"hi\"""#);
        assert_eq!(quote(r"C:\data", true), r#""C:\\data""#);
        assert_eq!(quote("R&D <b>", true), r#""R&amp;D <b>""#);
        assert_eq!(quote("R&D", false), r#""R&D""#);
        assert_eq!(quote("two\nlines\r\nend", true), r#""two\nlines\nend""#);
        assert_eq!(quote("tab\there\u{7}", true), r#""tab here ""#);
        assert_eq!(quote("ulabel:12", false), r#""ulabel:12""#);
        assert_eq!(quote("Zellkern – Ω µm", true), r#""Zellkern – Ω µm""#);
        assert_eq!(quote("", true), r#""""#);
    }
}
