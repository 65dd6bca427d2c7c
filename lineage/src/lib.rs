//! Lamella's graphs: label and transform hierarchies and provenance (transform → run →
//! artifact → … → collection), rendered as Graphviz DOT, Mermaid or SVG.
//!
//! A [`Graph`] holds [`Node`]s keyed by a stable id (`"ulabel:12"`) with edges from parent to
//! child and from input to output. It is always acyclic: [`Graph::add_edge`] refuses an edge
//! that would close a cycle, and [`Graph::would_create_cycle`] answers the question up front.
//! Nodes and edges keep their insertion order, so renderings are reproducible.
//!
//! The renderers [`to_dot`], [`to_mermaid`] and [`to_svg`] are pure functions returning text;
//! [`render`] picks one by [`Format`], and [`write_to`] chooses it from a file extension and
//! writes the file.
//!
//! This crate knows nothing of databases, storage or the terminal.
//!
//! ```
//! use lamella_lineage::{Format, Graph, Node, NodeKind, render};
//!
//! let mut g = Graph::new();
//! g.add_node(Node::new("ulabel:1", "is_species", NodeKind::Label).highlighted());
//! g.add_node(Node::new("ulabel:2", "setosa", NodeKind::Label));
//! g.add_edge("ulabel:1", "ulabel:2")?;
//!
//! assert!(g.would_create_cycle("ulabel:2", "ulabel:1"));
//! assert!(g.add_edge("ulabel:2", "ulabel:1").is_err());
//!
//! let dot = render(&g, Format::Dot)?;
//! assert!(dot.contains("n0 -> n1;"));
//! let svg = render(&g, Format::Svg)?;
//! assert!(svg.contains("setosa"));
//! # Ok::<(), lamella_lineage::Error>(())
//! ```

mod dot;
mod error;
mod format;
mod graph;
mod mermaid;
mod style;
mod svg;
mod tree;

pub use dot::to_dot;
pub use error::{Error, Result};
pub use format::{Format, render, write_to};
pub use graph::{Graph, Node, NodeId, NodeKind};
pub use mermaid::to_mermaid;
pub use svg::{MAX_SVG_NODES, to_svg};
pub use tree::tree_lines;
