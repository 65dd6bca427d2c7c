//! Everything the binary prints: records in LaminDB's `ULabel(uid='…', name='…')` style,
//! aligned tables from Arrow record batches, JSON, and messages.

use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use lamella_core::arrow::array::ArrayRef;
use lamella_core::arrow::compute::cast;
use lamella_core::arrow::datatypes::{DataType, Field, Schema};

use lamella_core::{ArrayFormatter, FormatOptions, Record, RecordBatch, records_to_batch};
use serde::Serialize;

/// Longest cell shown in a human table; longer values are cut with `…`.
const MAX_CELL: usize = 40;

/// Where output goes, and in which form.
pub struct Out {
    /// Print JSON instead of human text.
    pub json: bool,
    /// Messages (warnings, notes) go to stdout with the rest instead of stderr — for the
    /// tutorial, whose transcript is its output.
    inline_messages: bool,
    pub(crate) w: Box<dyn Write>,
}

impl Out {
    /// Output on the process's stdout.
    pub fn stdout(json: bool) -> Out {
        Out {
            json,
            inline_messages: false,
            w: Box::new(io::BufWriter::new(io::stdout())),
        }
    }

    /// Sends messages to stdout too (the tutorial's transcript).
    pub fn inline_messages(&mut self) {
        self.inline_messages = true;
    }

    /// Writes one line of human output; control characters (an ANSI escape in a label's
    /// name, say) are shown escaped, never sent to the terminal.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        writeln!(self.w, "{}", printable(text.as_ref(), true))?;
        Ok(())
    }

    /// Writes an empty line.
    pub fn blank(&mut self) -> Result<()> {
        self.line("")
    }

    /// Writes `value` as pretty JSON.
    pub fn json(&mut self, value: &impl Serialize) -> Result<()> {
        serde_json::to_writer_pretty(&mut self.w, value)?;
        writeln!(self.w)?;
        Ok(())
    }

    /// A warning, LaminDB-style: `❗ …`.
    pub fn warn(&mut self, text: impl AsRef<str>) -> Result<()> {
        self.message(&format!("❗ {}", text.as_ref()))
    }

    /// A hint or note: `💡 …`.
    pub fn note(&mut self, text: impl AsRef<str>) -> Result<()> {
        self.message(&format!("💡 {}", text.as_ref()))
    }

    fn message(&mut self, text: &str) -> Result<()> {
        if self.inline_messages {
            self.line(text)
        } else {
            // Keep the order of stdout and stderr lines when both go to a terminal.
            self.w.flush()?;
            let mut e = io::stderr().lock();
            writeln!(e, "{}", crate::redact::scrub(&printable(text, true)))?;
            Ok(())
        }
    }

    /// Writes a table (see [`table_lines`]).
    pub fn table(&mut self, batch: &RecordBatch) -> Result<()> {
        for l in table_lines(batch)? {
            self.line(l)?;
        }
        Ok(())
    }

    /// Writes a user's table in full width: every column, even one without values.
    pub fn data_table(&mut self, batch: &RecordBatch) -> Result<()> {
        for l in render_table(batch, false)? {
            self.line(l)?;
        }
        Ok(())
    }

    /// Writes records as a table with one column per field.
    pub fn records<T: Record + Serialize>(&mut self, records: &[T]) -> Result<()> {
        if records.is_empty() {
            return self.line(format!("no {} records", T::REGISTRY.name));
        }
        self.table(&records_to_batch(T::REGISTRY, records)?)
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<()> {
        self.w.flush()?;
        Ok(())
    }
}

/// `batch` with named time zones (`UTC`) turned into the equal fixed offset (`+00:00`): arrow
/// can only display named zones with its `chrono-tz` feature. Other columns are kept as they are.
pub fn displayable(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        match field.data_type() {
            DataType::Timestamp(unit, Some(tz))
                if matches!(tz.as_ref(), "UTC" | "utc" | "Z" | "Etc/UTC") =>
            {
                let ty = DataType::Timestamp(*unit, Some("+00:00".into()));
                let micros = cast(array, &DataType::Int64)?;
                columns.push(cast(&micros, &ty)?);
                fields.push(Field::new(field.name(), ty, field.is_nullable()));
            }
            _ => {
                columns.push(array.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    Ok(RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_null("None")
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S"))
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S"))
}

fn cut(s: String) -> String {
    let s = printable(&s.replace(['\n', '\r', '\t'], " "), false).into_owned();
    if s.chars().count() <= MAX_CELL {
        s
    } else {
        let mut c: String = s.chars().take(MAX_CELL - 1).collect();
        c.push('…');
        c
    }
}

/// `s` with control characters escaped (`\u{1b}`), keeping newlines when `keep_newlines`.
pub fn printable(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Renders a record batch as aligned columns: a header, a rule, one line per row. Columns
/// without any value are left out (JSON output has every field); numbers are right-aligned.
pub fn table_lines(batch: &RecordBatch) -> Result<Vec<String>> {
    render_table(batch, true)
}

/// [`table_lines`], optionally keeping columns without values.
fn render_table(batch: &RecordBatch, hide_empty: bool) -> Result<Vec<String>> {
    Ok(render_columns(batch, &Layout::hiding_empty(hide_empty))?.0)
}

/// Which columns a table shows and how wide they are at least: a listing printed page by
/// page keeps the first page's columns and widths.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    hide_empty: bool,
    columns: Option<Vec<String>>,
    widths: Vec<usize>,
}

impl Layout {
    fn hiding_empty(hide_empty: bool) -> Layout {
        Layout {
            hide_empty,
            ..Layout::default()
        }
    }
}

/// The lines of a table laid out by `layout`, and the layout that continues it.
fn render_columns(batch: &RecordBatch, layout: &Layout) -> Result<(Vec<String>, Layout)> {
    let batch = &displayable(batch)?;
    let opts = options();
    let schema = batch.schema();
    let mut columns: Vec<(String, bool, Vec<String>)> = Vec::new();
    let mut names = Vec::new();
    for (i, array) in batch.columns().iter().enumerate() {
        let field = schema.field(i);
        let shown = match &layout.columns {
            Some(keep) => keep.contains(field.name()),
            None => {
                !(layout.hide_empty
                    && batch.num_rows() > 0
                    && array.null_count() == batch.num_rows())
            }
        };
        if !shown {
            continue;
        }
        names.push(field.name().clone());
        let field = schema.field(i);
        let fmt = ArrayFormatter::try_new(array.as_ref(), &opts)?;
        // A run's environment is a JSON object; a table shows its gist (`--json` has all).
        let environment = field.name() == "environment";
        let mut cells = (0..batch.num_rows())
            .map(|r| {
                let s = fmt.value(r).try_to_string()?;
                Ok::<_, lamella_core::arrow::error::ArrowError>(cut(if environment {
                    environment_gist(&s)
                } else {
                    s
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if field.data_type().is_floating() {
            same_decimals(&mut cells);
        }
        columns.push((
            printable(field.name(), false).into_owned(),
            field.data_type().is_numeric(),
            cells,
        ));
    }
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, _, cells))| {
            cells
                .iter()
                .map(|c| width(c))
                .chain([width(name), layout.widths.get(i).copied().unwrap_or(0)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |text: &str, w: usize, right: bool| {
        let fill = " ".repeat(w.saturating_sub(width(text)));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    let join = |cells: Vec<String>| cells.join("  ").trim_end().to_string();
    let mut lines = Vec::with_capacity(batch.num_rows() + 2);
    lines.push(join(
        columns
            .iter()
            .zip(&widths)
            .map(|((name, num, _), w)| pad(name, *w, *num))
            .collect(),
    ));
    lines.push(join(widths.iter().map(|w| "-".repeat(*w)).collect()));
    for r in 0..batch.num_rows() {
        lines.push(join(
            columns
                .iter()
                .zip(&widths)
                .map(|((_, num, cells), w)| pad(&cells[r], *w, *num))
                .collect(),
        ));
    }
    let next = Layout {
        hide_empty: layout.hide_empty,
        columns: Some(names),
        widths,
    };
    Ok((lines, next))
}

/// Records written as they come, page by page: a JSON array, or one aligned table whose
/// columns and widths the first page sets (memory bounded by a page, not the listing).
pub struct RecordStream {
    json: bool,
    written: usize,
    layout: Option<Layout>,
}

impl RecordStream {
    /// A stream in the output's form.
    pub fn new(out: &Out) -> RecordStream {
        RecordStream {
            json: out.json,
            written: 0,
            layout: None,
        }
    }

    /// Writes one page of records.
    pub fn page<T: Record + Serialize>(&mut self, out: &mut Out, records: &[T]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if self.json {
            for r in records {
                let text = serde_json::to_string_pretty(r)?;
                let indented = text.replace('\n', "\n  ");
                let sep = if self.written == 0 { "[\n  " } else { ",\n  " };
                write!(out.w, "{sep}{indented}")?;
                self.written += 1;
            }
            return Ok(());
        }
        let batch = records_to_batch(T::REGISTRY, records)?;
        let layout = self
            .layout
            .take()
            .unwrap_or_else(|| Layout::hiding_empty(true));
        let first = self.written == 0;
        let (lines, next) = render_columns(&batch, &layout)?;
        for l in lines.into_iter().skip(if first { 0 } else { 2 }) {
            out.line(l)?;
        }
        self.layout = Some(next);
        self.written += records.len();
        Ok(())
    }

    /// Ends the listing (`[]` or `]` for JSON, `none` for an empty human listing).
    pub fn finish(self, out: &mut Out, none: &str) -> Result<()> {
        if self.json {
            if self.written == 0 {
                writeln!(out.w, "[]")?;
            } else {
                writeln!(out.w, "\n]")?;
            }
            return Ok(());
        }
        if self.written == 0 {
            out.line(none)?;
        }
        Ok(())
    }
}

/// Pads plain decimal numbers with zeros to the same number of decimals (at most 6), as pandas
/// prints a float column: `0.05` next to `0.051` becomes `0.050`. Other cells (nulls, `NaN`,
/// exponents) are left as they are.
fn same_decimals(cells: &mut [String]) {
    let plain = |c: &str| {
        let digits = c.strip_prefix('-').unwrap_or(c);
        !digits.is_empty()
            && digits.chars().all(|ch| ch.is_ascii_digit() || ch == '.')
            && digits.matches('.').count() <= 1
    };
    let decimals = |c: &str| c.split_once('.').map_or(0, |(_, d)| d.len());
    let want = cells
        .iter()
        .filter(|c| plain(c))
        .map(|c| decimals(c))
        .max()
        .unwrap_or(0);
    if want == 0 || want > 6 {
        return;
    }
    for c in cells.iter_mut().filter(|c| plain(c)) {
        let have = decimals(c);
        if have == 0 {
            c.push('.');
        }
        c.push_str(&"0".repeat(want - have));
    }
}

/// A record in LaminDB's style: `ULabel(uid='zH0xGp3I', name='project1', …)` — the fields
/// that have a value, in the registry's order, without the database id (and, like LaminDB,
/// without `created_at` when there is an `updated_at`).
pub fn repr<T: Record + Serialize>(record: &T) -> Result<String> {
    let batch = displayable(&records_to_batch(
        T::REGISTRY,
        std::slice::from_ref(record),
    )?)?;
    let opts = options().with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S UTC"));
    let schema = batch.schema();
    let mut parts = Vec::new();
    for (i, array) in batch.columns().iter().enumerate() {
        let field = schema.field(i);
        // (`nullable` shows only when false: true is every feature's default.)
        let default_true = field.name() == "nullable"
            && array
                .as_any()
                .downcast_ref::<lamella_core::arrow::array::BooleanArray>()
                .is_some_and(|b| !array.is_null(0) && b.value(0));
        let hidden = field.name() == "id"
            || field.name() == "environment"
            || default_true
            || (field.name() == "created_at" && schema.field_with_name("updated_at").is_ok());
        if hidden || array.is_null(0) {
            continue;
        }
        let value = ArrayFormatter::try_new(array.as_ref(), &opts)?
            .value(0)
            .try_to_string()?;
        if field.data_type().is_string() {
            parts.push(format!("{}={}", field.name(), quote(&value)));
        } else {
            parts.push(format!("{}={value}", field.name()));
        }
    }
    Ok(format!("{}({})", T::REGISTRY.name, parts.join(", ")))
}

/// `lamella 0.1.0 linux/x86_64` for a run's environment JSON (the value itself when it is
/// not one).
fn environment_gist(cell: &str) -> String {
    let Ok(serde_json::Value::Object(env)) = serde_json::from_str::<serde_json::Value>(cell) else {
        return cell.to_owned();
    };
    let field = |k: &str| env.get(k).and_then(|v| v.as_str()).unwrap_or("?");
    format!(
        "lamella {} {}/{}",
        field("lamella"),
        field("os"),
        field("arch")
    )
}

/// An argument as a shell needs it, so a suggested command can be pasted: as it is when it
/// holds only plain characters, else in single quotes (a quote inside as `'\''`).
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A name in single quotes, as LaminDB prints them.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Names in quotes, comma-separated.
pub fn quote_all<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| quote(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether progress bars may be drawn (stderr is a terminal).
/// A spinner on stderr for work of unknown length (hidden when stderr is not a terminal).
pub fn spinner(message: String) -> indicatif::ProgressBar {
    if !crate::progress::enabled() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        pb.set_style(style);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    pb
}

pub fn interactive() -> bool {
    io::stderr().is_terminal()
}

/// The JSON of one record and what happened to it: `{"record": …, "outcome": "created"}`,
/// with more fields added by the caller. Every single-record result has this shape, so a
/// record is the same object whatever command returned it.
pub fn outcome_json<T: Serialize>(record: &T, outcome: &str) -> Result<serde_json::Value> {
    Ok(serde_json::json!({
        "record": serde_json::to_value(record)?,
        "outcome": outcome,
    }))
}

/// `created` or `existing`.
pub fn created_or_existing(existed: bool) -> &'static str {
    if existed { "existing" } else { "created" }
}

/// The JSON envelope of a bulk save: `{"records", "counts": {"given", "created",
/// "existing"}, "existing", "similar": [{"name", "similar"}], "notes"}` (keys written in
/// sorted order, as everywhere). `records` is any serializable sequence, so a million records
/// can be streamed rather than held.
pub fn bulk_json<'a, R: Serialize>(
    records: R,
    given: usize,
    created: usize,
    existing: &'a [String],
    similar: &'a [(String, Vec<String>)],
    notes: &'a [String],
) -> BulkJson<'a, R> {
    BulkJson {
        counts: BulkCounts {
            created,
            existing: existing.len(),
            given,
        },
        existing,
        notes,
        records,
        similar: similar
            .iter()
            .map(|(name, similar)| SimilarJson { name, similar })
            .collect(),
    }
}

/// See [`bulk_json`].
#[derive(Serialize)]
pub struct BulkJson<'a, R> {
    counts: BulkCounts,
    existing: &'a [String],
    notes: &'a [String],
    records: R,
    similar: Vec<SimilarJson<'a>>,
}

#[derive(Serialize)]
struct BulkCounts {
    created: usize,
    existing: usize,
    given: usize,
}

#[derive(Serialize)]
struct SimilarJson<'a> {
    name: &'a str,
    similar: &'a [String],
}

/// At most this many similar-name or other notes are printed one per line; the rest are
/// counted (`--json` lists all).
pub const SHOWN_NOTES: usize = 20;

/// The JSON of a delete: `{"record": …, "outcome": "trashed"|"removed"}`, and for an
/// artifact (the only record with a stored object) `"object_removed"`.
pub fn deleted_json<T: Serialize>(
    record: &T,
    done: lamella_core::Deleted,
    has_object: bool,
) -> Result<serde_json::Value> {
    let (outcome, object_removed) = match done {
        lamella_core::Deleted::Trashed => ("trashed", false),
        lamella_core::Deleted::Removed { object_removed } => ("removed", object_removed),
    };
    let mut v = serde_json::json!({
        "record": serde_json::to_value(record)?,
        "outcome": outcome,
    });
    if has_object {
        v["object_removed"] = serde_json::json!(object_removed);
    }
    Ok(v)
}

/// The JSON of a restore: `{"record": …, "outcome": "restored"|"unchanged"}`.
pub fn restored_json<T: Serialize>(r: &lamella_core::Restored<T>) -> Result<serde_json::Value> {
    Ok(serde_json::json!({
        "record": serde_json::to_value(&r.record)?,
        "outcome": if r.changed { "restored" } else { "unchanged" },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lamella_core::ULabel;

    #[test]
    fn repr_skips_id_and_nulls() {
        let mut l = ULabel::new("project1").description("it's mine");
        l.uid = "zH0xGp3I".into();
        l.id = Some(3);
        let r = repr(&l).unwrap();
        assert!(
            r.starts_with(
                "ULabel(uid='zH0xGp3I', name='project1', description='it\\'s mine', updated_at="
            ),
            "{r}"
        );
        assert!(!r.contains("id=3"));
        assert!(!r.contains("reference"));
    }

    #[test]
    fn float_columns_share_decimals() {
        let mut cells: Vec<String> = ["0.05", "0.051", "1", "None", "-0.5", "NaN"]
            .map(String::from)
            .to_vec();
        same_decimals(&mut cells);
        assert_eq!(cells, ["0.050", "0.051", "1.000", "None", "-0.500", "NaN"]);
        let mut long: Vec<String> = ["0.1", "0.12345678"].map(String::from).to_vec();
        same_decimals(&mut long);
        assert_eq!(long, ["0.1", "0.12345678"]);
    }

    #[test]
    fn tables_are_aligned() {
        let mut a = ULabel::new("a");
        a.id = Some(1);
        let mut b = ULabel::new("a much longer name").description("d");
        b.id = Some(10);
        let batch = records_to_batch(<ULabel as Record>::REGISTRY, &[a, b]).unwrap();
        let lines = table_lines(&batch).unwrap();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("id  uid"), "{lines:?}");
        assert!(lines[2].starts_with(" 1  "), "{lines:?}");
        assert!(lines[3].starts_with("10  "), "{lines:?}");
        assert!(
            !lines[0].contains("reference"),
            "all-null columns are hidden"
        );
        let name_col = lines[0].find("name").unwrap();
        assert_eq!(&lines[3][name_col..name_col + 6], "a much");
    }
}
