//! The crate's single error type.

use std::path::PathBuf;

/// Everything that can go wrong while building or rendering a graph.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An edge or a query named a node id that is not in the graph.
    #[error("no node '{id}' in the graph")]
    UnknownNode {
        /// The stable key that was looked up, e.g. `ulabel:12`.
        id: String,
    },
    /// Adding the edge would close a cycle (this includes an edge from a node to itself).
    #[error(
        "edge '{from}' -> '{to}' would create a cycle: '{to}' is already an ancestor of '{from}'"
    )]
    Cycle {
        /// Stable key of the parent/input end of the refused edge.
        from: String,
        /// Stable key of the child/output end of the refused edge.
        to: String,
    },
    /// The output path's extension names no supported format.
    #[error("unknown graph format '.{extension}': use .svg, .dot or .mmd")]
    UnknownFormat {
        /// The extension as given, without the dot.
        extension: String,
    },
    /// The output path has no extension to choose a format from.
    #[error("cannot choose a graph format for '{}': it has no extension; use .svg, .dot or .mmd", path.display())]
    MissingExtension {
        /// The path without an extension.
        path: PathBuf,
    },
    /// The in-process layout engine (layout-rs) failed on this graph.
    #[error("could not lay out the graph as SVG: {message}")]
    Layout {
        /// What the layout engine reported.
        message: String,
    },
    /// The graph has too many nodes for an SVG layout in reasonable time.
    #[error(
        "the graph has {nodes} nodes, more than the {max} an SVG layout takes in reasonable time: limit its depth, draw many siblings as one node, or write DOT or Mermaid"
    )]
    TooLarge {
        /// The graph's nodes.
        nodes: usize,
        /// The limit.
        max: usize,
    },
    /// Writing the rendered graph failed.
    #[error("could not write graph to '{}'", path.display())]
    Io {
        /// The file that could not be written.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },
}

/// Result type of this crate, defaulting to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
