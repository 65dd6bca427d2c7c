//! Choosing a rendering by file extension, and writing it.

use std::path::Path;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::{dot, mermaid, svg};

/// An output format for a [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Graphviz DOT (`.dot`, `.gv`).
    Dot,
    /// Mermaid flowchart (`.mmd`, `.mermaid`).
    Mermaid,
    /// SVG image laid out in process (`.svg`).
    Svg,
}

impl Format {
    /// The format named by `path`'s extension (case-insensitive).
    ///
    /// ```
    /// use lamella_lineage::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::from_path(Path::new("lineage.gv"))?, Format::Dot);
    /// let err = Format::from_path(Path::new("lineage.png")).unwrap_err();
    /// assert_eq!(err.to_string(), "unknown graph format '.png': use .svg, .dot or .mmd");
    /// # Ok::<(), lamella_lineage::Error>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Self> {
        let Some(ext) = path.extension() else {
            return Err(Error::MissingExtension {
                path: path.to_owned(),
            });
        };
        let ext = ext.to_string_lossy();
        match ext.to_ascii_lowercase().as_str() {
            "dot" | "gv" => Ok(Self::Dot),
            "mmd" | "mermaid" => Ok(Self::Mermaid),
            "svg" => Ok(Self::Svg),
            _ => Err(Error::UnknownFormat {
                extension: ext.into_owned(),
            }),
        }
    }

    /// The usual file extension of the format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Dot => "dot",
            Self::Mermaid => "mmd",
            Self::Svg => "svg",
        }
    }
}

/// Renders `graph` in `format`; only [`Format::Svg`] can fail.
pub fn render(graph: &Graph, format: Format) -> Result<String> {
    match format {
        Format::Dot => Ok(dot::to_dot(graph)),
        Format::Mermaid => Ok(mermaid::to_mermaid(graph)),
        Format::Svg => svg::to_svg(graph),
    }
}

/// Renders `graph` in the format chosen by `path`'s extension and writes it there.
///
/// Returns the format used. This is the crate's only IO.
pub fn write_to(graph: &Graph, path: &Path) -> Result<Format> {
    let format = Format::from_path(path)?;
    let text = render(graph, format)?;
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(format)
}
