//! Mermaid flowchart rendering.

use std::fmt::Write as _;

use crate::graph::Graph;
use crate::style::{self, ALL_KINDS, Shape};

/// Renders `graph` as a Mermaid flowchart (`graph TD`), nodes `n0`, `n1`, … in insertion order.
///
/// Labels are always quoted; characters Mermaid would interpret are written as its entity
/// codes (`#quot;`, `#amp;`, `#lt;`, `#gt;`, `#35;` for `#`, `#96;` for a backtick, `#92;`
/// for a backslash) and
/// newlines as `<br/>`. Each kind gets a `classDef`; the highlighted node a `style` line.
///
/// ```
/// use lamella_lineage::{Graph, Node, NodeKind, to_mermaid};
/// let mut g = Graph::new();
/// g.add_node(Node::new("ulabel:1", "a \"b\"", NodeKind::Label));
/// assert!(to_mermaid(&g).contains(r#"n0["a #quot;b#quot;"]:::label"#));
/// ```
pub fn to_mermaid(graph: &Graph) -> String {
    let mut out = String::from("graph TD\n");
    for (i, node) in graph.nodes().enumerate() {
        let (open, close) = match style::kind_look(node.kind).shape {
            Shape::Box => ("[", "]"),
            Shape::Rounded => ("(", ")"),
            Shape::Ellipse => ("([", "])"),
        };
        let _ = writeln!(
            out,
            "    n{i}{open}\"{}\"{close}:::{}",
            escape(&node.label),
            style::kind_name(node.kind)
        );
    }
    for (a, b) in graph.edge_indices() {
        let _ = writeln!(out, "    n{a} --> n{b}");
    }
    for kind in ALL_KINDS {
        if graph.nodes().any(|n| n.kind == kind) {
            let look = style::kind_look(kind);
            let _ = writeln!(
                out,
                "    classDef {} fill:{},stroke:{},color:#111827,font-size:{}px",
                style::kind_name(kind),
                look.fill,
                look.stroke,
                look.font_size
            );
        }
    }
    for (i, node) in graph.nodes().enumerate().filter(|(_, n)| n.highlight) {
        let look = style::look(node);
        let _ = writeln!(
            out,
            "    style n{i} fill:{},stroke:{},stroke-width:{}px,font-weight:bold",
            look.fill, look.stroke, look.pen_width
        );
    }
    out
}

/// Text safe inside a double-quoted Mermaid label.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in style::clean(text).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\\' => out.push_str("#92;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_uses_mermaid_entity_codes() {
        assert_eq!(escape(r#"say "hi""#), "say #quot;hi#quot;");
        assert_eq!(escape("R&D <b>"), "R#amp;D #lt;b#gt;");
        assert_eq!(escape("#1; `code`"), "#35;1; #96;code#96;");
        assert_eq!(escape("two\nlines"), "two<br/>lines");
        assert_eq!(escape(r"C:\data\n"), "C:#92;data#92;n");
        assert_eq!(escape("a:b [c] (d) {e} |f|"), "a:b [c] (d) {e} |f|");
        assert_eq!(escape("Zellkern – Ω µm"), "Zellkern – Ω µm");
    }
}
