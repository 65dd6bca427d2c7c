use lamella_lineage::{Graph, Node, NodeKind, to_svg};

use crate::{NASTY_LABELS, nasty, provenance, species};

/// XML escaping of text content, as an SVG must contain it.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A small well-formedness check: one root `<svg>` element, balanced tags, quoted attributes,
/// no raw `<` in text and every `&` starting an entity.
fn assert_well_formed(svg: &str) {
    let body = svg.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => {
            rest.split_once("?>")
                .expect("unterminated XML declaration")
                .1
        }
        None => body,
    };
    assert!(
        body.trim_start().starts_with("<svg"),
        "no <svg> root: {body:.80}"
    );

    for (i, _) in svg.match_indices('&') {
        let rest = &svg[i + 1..];
        let ok = ["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| rest.starts_with(e))
            || (rest.starts_with('#') && rest[1..].find(';').is_some_and(|end| end > 0));
        assert!(ok, "raw '&' at byte {i}: {:.30}", &svg[i..]);
    }

    let mut stack: Vec<&str> = Vec::new();
    let mut rest = body;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(!text.contains('>'), "raw '>' in text: {text:.40}");
        let tag_start = &rest[open + 1..];
        // Scan to the closing '>' outside attribute quotes.
        let mut quote = None;
        let mut end = None;
        for (j, c) in tag_start.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '<') => panic!("'<' inside a tag: {tag_start:.40}"),
                (None, '>') => {
                    end = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("unterminated tag");
        let tag = &tag_start[..end];
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().expect("closing tag without opening tag");
            assert_eq!(top, name.trim(), "mismatched closing tag");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("empty tag");
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(name);
        } else if stack.is_empty() {
            roots += 1;
        }
        rest = &tag_start[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    assert!(rest.trim().is_empty(), "text after the root element");
    assert_eq!(roots, 1, "exactly one root element");
}

#[test]
fn svg_is_well_formed_and_contains_every_label() {
    for graph in [species(), provenance()] {
        let svg = to_svg(&graph).unwrap();
        assert_well_formed(&svg);
        for node in graph.nodes() {
            assert!(
                svg.contains(&xml_escape(&node.label)),
                "{} missing",
                node.label
            );
        }
    }
}

#[test]
fn svg_escapes_special_characters() {
    let svg = to_svg(&nasty()).unwrap();
    assert_well_formed(&svg);
    for label in NASTY_LABELS {
        // layout-rs writes each line of a label as its own <tspan>.
        for line in label.lines() {
            assert!(svg.contains(&xml_escape(line)), "{line:?} missing from SVG");
        }
    }
    assert!(
        !svg.contains("<b>"),
        "label markup must not leak into the SVG"
    );
}

#[test]
fn svg_of_empty_and_single_node_graphs() {
    assert_well_formed(&to_svg(&Graph::new()).unwrap());
    let mut g = Graph::new();
    g.add_node(Node::new("x", "alone", NodeKind::Artifact).highlighted());
    let svg = to_svg(&g).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("alone"));
}

#[test]
fn svg_is_deterministic() {
    assert_eq!(
        to_svg(&provenance()).unwrap(),
        to_svg(&provenance()).unwrap()
    );
}

#[test]
fn svg_handles_a_wider_dag() {
    // Diamond plus a long edge that skips ranks, which layout-rs splits with connectors.
    let mut g = Graph::new();
    for id in ["a", "b", "c", "d", "e"] {
        g.add_node(Node::new(id, format!("node {id}"), NodeKind::Label));
    }
    for (from, to) in [
        ("a", "b"),
        ("a", "c"),
        ("b", "d"),
        ("c", "d"),
        ("d", "e"),
        ("a", "e"),
    ] {
        g.add_edge(from, to).unwrap();
    }
    assert_well_formed(&to_svg(&g).unwrap());
}

/// A graph too large to lay out in reasonable time is refused at once, naming the ways out;
/// DOT and Mermaid still render it.
#[test]
fn svg_refuses_graphs_beyond_the_layout_limit() {
    use lamella_lineage::{Error, Format, Graph, MAX_SVG_NODES, Node, NodeKind, render};
    let mut g = Graph::new();
    for i in 0..=MAX_SVG_NODES {
        g.add_node(Node::new(
            format!("a{i}"),
            format!("step {i}"),
            NodeKind::Artifact,
        ));
        if i > 0 {
            g.add_edge(&format!("a{}", i - 1), &format!("a{i}"))
                .unwrap();
        }
    }
    let t = std::time::Instant::now();
    let e = render(&g, Format::Svg).unwrap_err();
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        matches!(e, Error::TooLarge { nodes, .. } if nodes == MAX_SVG_NODES + 1),
        "{e}"
    );
    assert!(e.to_string().contains("write DOT or Mermaid"), "{e}");
    assert!(render(&g, Format::Dot).is_ok() && render(&g, Format::Mermaid).is_ok());
}
