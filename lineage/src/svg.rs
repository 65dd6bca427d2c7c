//! SVG rendering: layout-rs places the nodes in process (no Graphviz needed), and our own
//! [`RenderBackend`] writes the document, so escaping, fonts, size and order are under our
//! control (layout-rs's `SVGWriter` overestimates the canvas and orders styles by hash).

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::style::{self, EDGE_COLOR, FONT_SIZE, HIGHLIGHT_PEN_WIDTH, Shape};

/// Corner radius of rounded boxes, in pixels.
const ROUNDING: usize = 10;
/// Empty space around the drawing, in pixels.
const MARGIN: f64 = 12.0;
/// Distance between the baselines of a multi-line label, in font sizes.
const LINE_HEIGHT: f64 = 1.25;
/// Font of every label; the sizes estimated below assume a Helvetica-like face.
const FONT_FAMILY: &str = "Helvetica, Arial, sans-serif";

/// The most nodes an SVG layout takes: the layout's cost grows about with the cube of a
/// chain's length (800 nodes ≈ 0.5 s, 2,000 ≈ 75 s), so larger graphs are refused with
/// [`Error::TooLarge`] instead of hanging; DOT and Mermaid have no limit.
pub const MAX_SVG_NODES: usize = 1_000;

/// Renders `graph` as a standalone SVG document, laid out top to bottom by layout-rs.
///
/// Labels are XML-escaped; control characters become spaces. Each node's shape carries its
/// stable key as `data-id`. Fails with [`Error::Layout`] if the layout engine gives up.
///
/// ```
/// use lamella_lineage::{Graph, Node, NodeKind, to_svg};
/// let mut g = Graph::new();
/// g.add_node(Node::new("ulabel:1", "R&D <2>", NodeKind::Label));
/// let svg = to_svg(&g)?;
/// assert!(svg.contains("R&amp;D &lt;2&gt;"));
/// # Ok::<(), lamella_lineage::Error>(())
/// ```
pub fn to_svg(graph: &Graph) -> Result<String> {
    let nodes = graph.len();
    if nodes > MAX_SVG_NODES {
        return Err(Error::TooLarge {
            nodes,
            max: MAX_SVG_NODES,
        });
    }
    let mut writer = SvgWriter::default();
    if !graph.is_empty() {
        let mut vg = build(graph);
        // layout-rs reports internal inconsistencies by panicking; turn that into an error.
        catch_unwind(AssertUnwindSafe(|| {
            vg.do_it(false, false, false, &mut writer);
        }))
        .map_err(|panic| Error::Layout {
            message: panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "layout engine panicked".to_owned()),
        })?;
    }
    Ok(writer.finish())
}

/// Translates the graph into layout-rs's model, nodes and edges in insertion order.
fn build(graph: &Graph) -> VisualGraph {
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    let handles: Vec<_> = graph
        .nodes()
        .map(|node| {
            let look = style::look(node);
            let text = style::clean(&node.label);
            let font = f64::from(look.font_size);
            let (mut w, h) = text_size(&text, font);
            if look.bold {
                w *= 1.1;
            }
            let (shape, size) = match look.shape {
                Shape::Box | Shape::Rounded => {
                    let pad = if look.font_size < FONT_SIZE { 0.6 } else { 1.0 };
                    (
                        ShapeKind::new_box(&text),
                        Point::new(w + 2.0 * font * pad, h + font * pad),
                    )
                }
                // An ellipse around a w×h box has half-axes √2 times the box's.
                Shape::Ellipse => (
                    ShapeKind::new_circle(&text),
                    Point::new((w + font) * 1.42, (h + 0.5 * font) * 1.42),
                ),
            };
            let attr = StyleAttr::new(
                Color::fast(look.stroke),
                usize::from(look.pen_width),
                Some(Color::fast(look.fill)),
                if look.shape == Shape::Rounded {
                    ROUNDING
                } else {
                    0
                },
                usize::from(look.font_size),
            );
            // Like layout-rs's DOT front-end: shapes of a top-down graph use the flipped
            // orientation.
            let elem =
                Element::create_with_properties(shape, attr, dir.flip(), size, node.id.clone());
            vg.add_node(elem)
        })
        .collect();
    let edge_look = StyleAttr::new(Color::fast(EDGE_COLOR), 1, None, 0, usize::from(FONT_SIZE));
    for (a, b) in graph.edge_indices() {
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            "",
            &edge_look,
            &None,
            &None,
        );
        vg.add_edge(arrow, handles[a], handles[b]);
    }
    vg
}

/// Estimated width and height of `text` in a Helvetica-like font of size `font`.
fn text_size(text: &str, font: f64) -> (f64, f64) {
    let width = text
        .lines()
        .map(|line| line.chars().map(char_width).sum::<f64>())
        .fold(0.0, f64::max);
    let lines = text.lines().count().max(1) as f64;
    (width.max(1.0) * font, lines * font * LINE_HEIGHT)
}

/// Approximate advance of `c` in ems.
fn char_width(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.3,
        'm' | 'w' | 'M' | 'W' | '@' => 0.85,
        'A'..='Z' | '&' | '%' => 0.68,
        // East Asian wide characters (CJK, kana, hangul, full-width forms) and emoji.
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{1F300}'..='\u{1FAFF}' => 1.0,
        _ => 0.56,
    }
}

/// Escapes text for XML content and double-quoted attribute values.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An SVG colour: `#rrggbb`, `#rrggbbaa` with transparency, or `none`.
fn color(c: Option<Color>) -> String {
    let web = c.unwrap_or_else(Color::transparent).to_web_color();
    match web.strip_suffix("ff") {
        Some(opaque) => opaque.to_owned(),
        None if web.ends_with("00") => "none".to_owned(),
        None => web,
    }
}

/// A coordinate with one decimal, so output is compact and stable.
fn num(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// Collects drawing calls from layout-rs as SVG elements and tracks their bounding box.
#[derive(Debug, Default)]
struct SvgWriter {
    body: String,
    clips: Vec<String>,
    min: Option<Point>,
    max: Option<Point>,
}

impl SvgWriter {
    fn grow(&mut self, p: Point) {
        let (min, max) = match (self.min, self.max) {
            (Some(min), Some(max)) => (
                Point::new(min.x.min(p.x), min.y.min(p.y)),
                Point::new(max.x.max(p.x), max.y.max(p.y)),
            ),
            _ => (p, p),
        };
        self.min = Some(min);
        self.max = Some(max);
    }

    fn data_id(properties: Option<String>) -> String {
        properties
            .map(|id| format!(" data-id=\"{}\"", xml_escape(&id)))
            .unwrap_or_default()
    }

    fn finish(self) -> String {
        let min = self.min.unwrap_or_else(Point::zero);
        let max = self.max.unwrap_or_else(Point::zero);
        let (x, y) = (min.x - MARGIN, min.y - MARGIN);
        let (w, h) = (max.x - min.x + 2.0 * MARGIN, max.y - min.y + 2.0 * MARGIN);
        let mut out = String::with_capacity(self.body.len() + 600);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"{x} {y} {w} {h}\" font-family=\"{FONT_FAMILY}\">",
            w = num(w.ceil()),
            h = num(h.ceil()),
            x = num(x.floor()),
            y = num(y.floor()),
        );
        out.push_str("<defs>\n");
        let _ = writeln!(
            out,
            "<marker id=\"arrowhead\" markerWidth=\"10\" markerHeight=\"7\" refX=\"10\" refY=\"3.5\" orient=\"auto\"><polygon points=\"0 0, 10 3.5, 0 7\" fill=\"{EDGE_COLOR}\"/></marker>"
        );
        for clip in &self.clips {
            out.push_str(clip);
            out.push('\n');
        }
        out.push_str("</defs>\n");
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

impl RenderBackend for SvgWriter {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
        clip: Option<ClipHandle>,
    ) {
        self.grow(xy);
        self.grow(xy.add(size));
        let clip = clip
            .map(|c| format!(" clip-path=\"url(#clip{c})\""))
            .unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{clip}/>",
            Self::data_id(properties),
            num(xy.x),
            num(xy.y),
            num(size.x),
            num(size.y),
            look.rounded,
            color(look.fill_color),
            color(Some(look.line_color)),
            look.line_width,
        );
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        look: &StyleAttr,
        properties: Option<String>,
    ) {
        self.grow(start);
        self.grow(stop);
        let _ = writeln!(
            self.body,
            "<line{} x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            Self::data_id(properties),
            num(start.x),
            num(start.y),
            num(stop.x),
            num(stop.y),
            color(Some(look.line_color)),
            look.line_width,
        );
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
    ) {
        let half = size.scale(0.5);
        self.grow(xy.sub(half));
        self.grow(xy.add(half));
        let _ = writeln!(
            self.body,
            "<ellipse{} cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            Self::data_id(properties),
            num(xy.x),
            num(xy.y),
            num(half.x),
            num(half.y),
            color(look.fill_color),
            color(Some(look.line_color)),
            look.line_width,
        );
    }

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        let font = look.font_size as f64;
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            return;
        }
        let (w, h) = text_size(text, font);
        self.grow(Point::new(xy.x - w / 2.0, xy.y - h / 2.0));
        self.grow(Point::new(xy.x + w / 2.0, xy.y + h / 2.0));
        // Baseline of the first line so that the block of lines is centred on `xy`; 0.35 em
        // below the middle puts the x-height's centre on it.
        let first = xy.y - (lines.len() - 1) as f64 * font * LINE_HEIGHT / 2.0 + 0.35 * font;
        let weight = if look.line_width >= usize::from(HIGHLIGHT_PEN_WIDTH) {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let _ = write!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"#111827\"{weight}>",
            num(xy.x),
            num(first),
            look.font_size,
        );
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                self.body.push_str(&xml_escape(line));
            } else {
                let _ = write!(
                    self.body,
                    "<tspan x=\"{}\" dy=\"{}\">{}</tspan>",
                    num(xy.x),
                    num(font * LINE_HEIGHT),
                    xml_escape(line)
                );
            }
        }
        self.body.push_str("</text>\n");
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        head: (bool, bool),
        look: &StyleAttr,
        properties: Option<String>,
        text: &str,
    ) {
        // `path` is [(start, control), (control, point), …] as in layout-rs's SVG writer.
        if path.len() < 2 {
            return;
        }
        for (a, b) in path {
            self.grow(*a);
            self.grow(*b);
        }
        let mut d = format!(
            "M {} {} C {} {}, {} {}, {} {}",
            num(path[0].0.x),
            num(path[0].0.y),
            num(path[0].1.x),
            num(path[0].1.y),
            num(path[1].0.x),
            num(path[1].0.y),
            num(path[1].1.x),
            num(path[1].1.y),
        );
        for (a, b) in &path[2..] {
            let _ = write!(d, " S {} {}, {} {}", num(a.x), num(a.y), num(b.x), num(b.y));
        }
        let dash = if dashed {
            " stroke-dasharray=\"5,5\""
        } else {
            ""
        };
        let start = if head.0 {
            " marker-start=\"url(#arrowhead)\""
        } else {
            ""
        };
        let end = if head.1 {
            " marker-end=\"url(#arrowhead)\""
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            "<path{} d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{dash}{start}{end}/>",
            Self::data_id(properties),
            color(Some(look.line_color)),
            look.line_width,
        );
        if !text.is_empty() {
            let mid = path[path.len() / 2].0;
            self.draw_text(mid, text, look);
        }
    }

    fn create_clip(&mut self, xy: Point, size: Point, rounded_px: usize) -> ClipHandle {
        let handle = self.clips.len();
        self.clips.push(format!(
            "<clipPath id=\"clip{handle}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{rounded_px}\"/></clipPath>",
            num(xy.x),
            num(xy.y),
            num(size.x),
            num(size.y),
        ));
        handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_covers_markup_and_controls() {
        assert_eq!(
            xml_escape("R&D <b> \"q\" 'a' \u{7}Ω"),
            "R&amp;D &lt;b&gt; &quot;q&quot; &apos;a&apos;  Ω"
        );
    }

    #[test]
    fn colors_drop_opaque_alpha() {
        assert_eq!(color(Some(Color::fast("#10b981"))), "#10b981");
        assert_eq!(color(None), "none");
    }

    #[test]
    fn wide_characters_are_wider() {
        assert!(text_size("細胞", 10.0).0 > text_size("ab", 10.0).0);
        assert_eq!(text_size("a\nb\nc", 10.0).1, 3.0 * 10.0 * LINE_HEIGHT);
    }
}
