//! How each node kind looks, shared by all renderers so DOT, Mermaid and SVG agree.

use crate::graph::{Node, NodeKind};

/// Outline of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Box,
    Rounded,
    Ellipse,
}

/// Resolved look of one node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    pub shape: Shape,
    pub fill: &'static str,
    pub stroke: &'static str,
    pub pen_width: u8,
    pub font_size: u8,
    pub bold: bool,
}

/// Default font size of node labels, in points.
pub(crate) const FONT_SIZE: u8 = 12;
/// Font size of runs, which are drawn smaller.
pub(crate) const RUN_FONT_SIZE: u8 = 10;
/// Colour of edges.
pub(crate) const EDGE_COLOR: &str = "#6b7280";
/// Fill of the highlighted node (LaminDB's lighter green).
const HIGHLIGHT_FILL: &str = "#10b981";
/// Outline width of the highlighted node; the SVG writer also sets its label in bold.
pub(crate) const HIGHLIGHT_PEN_WIDTH: u8 = 3;
/// Outline of the highlighted node (LaminDB's darker green).
const HIGHLIGHT_STROKE: &str = "#065f46";

/// The colours and shape of `kind`, before highlighting.
pub(crate) fn kind_look(kind: NodeKind) -> Look {
    let (shape, fill, stroke, font_size) = match kind {
        NodeKind::Label => (Shape::Box, "#f0fff0", "#065f46", FONT_SIZE),
        NodeKind::Transform => (Shape::Box, "#e0e7ff", "#3730a3", FONT_SIZE),
        NodeKind::Run => (Shape::Box, "#f3f4f6", "#6b7280", RUN_FONT_SIZE),
        NodeKind::Artifact => (Shape::Rounded, "#d1fae5", "#065f46", FONT_SIZE),
        NodeKind::Collection => (Shape::Ellipse, "#fce7f3", "#9d174d", FONT_SIZE),
    };
    Look {
        shape,
        fill,
        stroke,
        pen_width: 1,
        font_size,
        bold: false,
    }
}

/// The look of `node`, highlighted if asked.
pub(crate) fn look(node: &Node) -> Look {
    let mut look = kind_look(node.kind);
    if node.highlight {
        look.fill = HIGHLIGHT_FILL;
        look.stroke = HIGHLIGHT_STROKE;
        look.pen_width = HIGHLIGHT_PEN_WIDTH;
        look.bold = true;
    }
    look
}

/// Lower-case name of a kind, used as Mermaid class name.
pub(crate) fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Label => "label",
        NodeKind::Transform => "transform",
        NodeKind::Run => "run",
        NodeKind::Artifact => "artifact",
        NodeKind::Collection => "collection",
    }
}

/// All kinds in a fixed order, for deterministic class definitions.
pub(crate) const ALL_KINDS: [NodeKind; 5] = [
    NodeKind::Label,
    NodeKind::Transform,
    NodeKind::Run,
    NodeKind::Artifact,
    NodeKind::Collection,
];

/// Replaces control characters other than newline by spaces and normalises line endings,
/// so no renderer has to care about them (they are not even valid in XML 1.0).
pub(crate) fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}
