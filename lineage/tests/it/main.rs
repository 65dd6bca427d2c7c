//! Integration tests of `lamella-lineage`: snapshots of every rendering, SVG validity, formats.

mod format;
mod snapshots;
mod svg;

use lamella_lineage::{Graph, Node, NodeKind};

/// The tutorial's label hierarchy: `is_species` → the three iris species, `is_species` asked about.
pub fn species() -> Graph {
    let mut g = Graph::new();
    g.add_node(Node::new("ulabel:1", "is_species", NodeKind::Label).highlighted());
    for (i, name) in ["setosa", "versicolor", "virginica"].iter().enumerate() {
        let id = format!("ulabel:{}", i + 2);
        g.add_node(Node::new(&id, *name, NodeKind::Label));
        g.add_edge("ulabel:1", &id).unwrap();
    }
    g
}

/// A provenance chain: transform → run → artifact → run2 → collection, the collection asked about.
pub fn provenance() -> Graph {
    let mut g = Graph::new();
    g.add_node(Node::new(
        "transform:1",
        "ingest.ipynb",
        NodeKind::Transform,
    ));
    g.add_node(Node::new("run:1", "run 2024-05-01", NodeKind::Run));
    g.add_node(Node::new("artifact:1", "iris.parquet", NodeKind::Artifact));
    g.add_node(Node::new("run:2", "run 2024-05-02", NodeKind::Run));
    g.add_node(Node::new("collection:1", "iris studies", NodeKind::Collection).highlighted());
    for (from, to) in [
        ("transform:1", "run:1"),
        ("run:1", "artifact:1"),
        ("artifact:1", "run:2"),
        ("run:2", "collection:1"),
    ] {
        g.add_edge(from, to).unwrap();
    }
    g
}

/// Labels with every character that needs escaping somewhere.
pub const NASTY_LABELS: [&str; 6] = [
    r#"say "hi""#,
    "R&D <b>bold</b>",
    "ulabel:12 #3; `x`",
    r"C:\data\n",
    "Zellkern – Ω µm 細胞",
    "two\nlines",
];

/// A graph whose nodes carry [`NASTY_LABELS`], one of each kind, chained.
pub fn nasty() -> Graph {
    let kinds = [
        NodeKind::Label,
        NodeKind::Transform,
        NodeKind::Run,
        NodeKind::Artifact,
        NodeKind::Collection,
        NodeKind::Label,
    ];
    let mut g = Graph::new();
    for (i, (label, kind)) in NASTY_LABELS.iter().zip(kinds).enumerate() {
        g.add_node(Node::new(format!("id:{i}\"&<"), *label, kind));
        if i > 0 {
            g.add_edge(&format!("id:{}\"&<", i - 1), &format!("id:{i}\"&<"))
                .unwrap();
        }
    }
    g
}
