//! What `ulabel` and `feature` share: create output, list, search, delete, name resolution.

use anyhow::{Result, anyhow};
use lamella_core::{Error, Named, Registry, Saved, SavedAll, SavedNames, ULabel};
use serde::Serialize;

use crate::cli::{ListArgs, SynonymCommand};
use crate::output::{
    Out, SHOWN_NOTES, bulk_json, created_or_existing, outcome_json, quote, quote_all, repr,
    shell_word,
};

/// The command word for a registry (`ulabel`, `feature`), for hints.
fn word<T: Named>() -> String {
    T::REGISTRY.name.to_ascii_lowercase()
}

/// The record named (or with uid) `name`; a miss says how to find the right one.
pub fn find<T: Named>(reg: &Registry<T>, name: &str) -> Result<T> {
    reg.resolve(name).map_err(|e| hint_miss::<T>(e, name))
}

/// [`find`] for many names, in one statement for all that are names; after a miss, the
/// names are looked up again one by one so the error names the first that matched nothing.
pub fn find_all<T: Named>(reg: &Registry<T>, names: &[String]) -> Result<Vec<T>> {
    match reg.resolve_all(names) {
        Err(Error::NotFound { .. } | Error::Ambiguous { .. }) => {
            names.iter().map(|n| find(reg, n)).collect()
        }
        other => Ok(other?),
    }
}

fn hint_miss<T: Named>(e: Error, name: &str) -> anyhow::Error {
    match e {
        e @ Error::NotFound { .. } => crate::errors::hinted(
            e,
            format!(
                "list them with `lamella {w} list`, or search with `lamella {w} search {}`",
                shell_word(name),
                w = word::<T>()
            ),
        ),
        other => other.into(),
    }
}

/// Prints the messages of a `create` (loaded existing record, similar names, notes) and the
/// record; `--json`: `{"record", "outcome": "created"|"existing", "similar", "notes"}`.
pub fn print_saved<T: Named>(saved: &Saved<T>, out: &mut Out) -> Result<()> {
    let name = saved.record.name_str();
    if saved.existed {
        out.warn(format!(
            "loaded {} record with same name: {}",
            T::REGISTRY.name,
            quote(name)
        ))?;
    }
    if !saved.similar.is_empty() {
        out.warn(format!(
            "{} is similar to existing: {}",
            quote(name),
            quote_all(&saved.similar)
        ))?;
    }
    for note in &saved.notes {
        out.warn(note)?;
    }
    if out.json {
        let mut v = outcome_json(&saved.record, created_or_existing(saved.existed))?;
        v["similar"] = serde_json::json!(saved.similar);
        v["notes"] = serde_json::json!(saved.notes);
        return out.json(&v);
    }
    out.line(repr(&saved.record)?)
}

/// Prints the outcome of a bulk save: a summary with messages (at most [`SHOWN_NOTES`] of
/// each kind, then a count), then (human) the records when there are few, or (`--json`) all
/// of them in the bulk envelope.
pub fn print_saved_all<T: Named>(saved: &SavedAll<T>, out: &mut Out) -> Result<()> {
    let summary = Summary {
        given: saved.records.len(),
        created: saved.created,
        existing: &saved.existing,
        similar: &saved.similar,
        notes: &saved.notes,
    };
    summary.print::<T>(out, &saved.records, || Ok(dedup_by_uid(&saved.records)))
}

/// Prints the outcome of [`lamella_core::ULabels::save_names`] like [`print_saved_all`]; the
/// records are read back by id — a few for the human view, all of them streamed, a batch at
/// a time, for `--json`.
pub fn print_saved_names(reg: &Registry<ULabel>, saved: &SavedNames, out: &mut Out) -> Result<()> {
    let summary = Summary {
        given: saved.ids.len(),
        created: saved.created,
        existing: &saved.existing,
        similar: &saved.similar,
        notes: &[],
    };
    let records = RecordsById {
        reg,
        ids: &saved.ids,
    };
    summary.print::<ULabel>(out, records, || {
        Ok(dedup_by_uid(&labels_in_order(reg, &saved.ids)?))
    })
}

/// The counts and messages of a bulk save.
struct Summary<'a> {
    given: usize,
    created: usize,
    existing: &'a [String],
    similar: &'a [(String, Vec<String>)],
    notes: &'a [String],
}

impl Summary<'_> {
    /// The messages, then `--json`'s envelope around `records`, or the summary line and
    /// (at most 20 given) the records `few` returns.
    fn print<T: Named>(
        &self,
        out: &mut Out,
        records: impl Serialize,
        few: impl FnOnce() -> Result<Vec<T>>,
    ) -> Result<()> {
        let reg = T::REGISTRY.name;
        if !self.existing.is_empty() {
            let shown: Vec<&String> = self.existing.iter().take(SHOWN_NOTES).collect();
            out.warn(format!(
                "loaded {} {reg} record{} with same name: {}{}",
                self.existing.len(),
                plural(self.existing.len()),
                quote_all(&shown),
                more(self.existing.len(), SHOWN_NOTES)
            ))?;
        }
        for (name, similar) in self.similar.iter().take(SHOWN_NOTES) {
            out.warn(format!(
                "{} is similar to existing: {}",
                quote(name),
                quote_all(similar)
            ))?;
        }
        if self.similar.len() > SHOWN_NOTES {
            out.warn(format!(
                "… and {} more names similar to existing ones (--json lists all)",
                self.similar.len() - SHOWN_NOTES
            ))?;
        }
        for note in self.notes.iter().take(SHOWN_NOTES) {
            out.warn(note)?;
        }
        if self.notes.len() > SHOWN_NOTES {
            out.warn(format!(
                "… and {} more notes (--json lists all)",
                self.notes.len() - SHOWN_NOTES
            ))?;
        }
        if out.json {
            return out.json(&bulk_json(
                records,
                self.given,
                self.created,
                self.existing,
                self.similar,
                self.notes,
            ));
        }
        out.line(format!(
            "✅ saved {} new {reg} record{} ({} given, {} existed)",
            self.created,
            plural(self.created),
            self.given,
            self.existing.len()
        ))?;
        if self.given <= 20 {
            out.records(&few()?)?;
        }
        Ok(())
    }
}

/// Labels serialized in the order of `ids`, read [`READ_BATCH`] ids at a time.
struct RecordsById<'a> {
    reg: &'a Registry<ULabel>,
    ids: &'a [i64],
}

/// Ids per read of [`RecordsById`].
const READ_BATCH: usize = 5_000;

impl Serialize for RecordsById<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.ids.len()))?;
        for batch in self.ids.chunks(READ_BATCH) {
            for record in labels_in_order(self.reg, batch).map_err(S::Error::custom)? {
                seq.serialize_element(&record)?;
            }
        }
        seq.end()
    }
}

/// The labels with `ids`, in that order (an id given twice, twice), by one read.
fn labels_in_order(reg: &Registry<ULabel>, ids: &[i64]) -> Result<Vec<ULabel>> {
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let found = reg.filter("id__in", wanted).all()?;
    let by_id: std::collections::HashMap<i64, &ULabel> =
        found.iter().filter_map(|r| Some((r.id?, r))).collect();
    ids.iter()
        .map(|id| {
            by_id
                .get(id)
                .map(|r| (*r).clone())
                .ok_or_else(|| anyhow!("the ULabel with id {id} was not found"))
        })
        .collect()
}

/// `, … N more` when `n` exceeds `shown`.
fn more(n: usize, shown: usize) -> String {
    if n > shown {
        format!(", … {} more", n - shown)
    } else {
        String::new()
    }
}

fn dedup_by_uid<T: Named>(records: &[T]) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    records
        .iter()
        .filter(|r| seen.insert(r.uid().to_string()))
        .cloned()
        .collect()
}

/// `s` for counts other than one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `… list [--filter F=V]… [--order F] [--limit N]`
pub fn list<T: Named>(reg: &Registry<T>, args: &ListArgs, out: &mut Out) -> Result<()> {
    let mut q = reg.query();
    for f in &args.filters {
        q = q.filter(&f.field, f.value.as_str());
    }
    q = q.order_by(args.order.as_deref().unwrap_or("id"));
    if let Some(n) = args.limit {
        if n < 0 {
            anyhow::bail!("--limit must be zero or more, got {n}");
        }
        q = q.limit(n);
    }
    // Page by page: a million labels list in the memory of one page.
    let mut stream = crate::output::RecordStream::new(out);
    for page in q.pages(LIST_PAGE) {
        stream.page(out, &page?)?;
    }
    stream.finish(out, &format!("no {} records", T::REGISTRY.name))
}

/// Records per page of a listing.
const LIST_PAGE: usize = 10_000;

/// A search hit: `{"record": …, "match": "prefix"}`.
#[derive(Serialize)]
struct HitJson<'a, T: Serialize> {
    record: &'a T,
    #[serde(rename = "match")]
    kind: String,
}

fn kind_name(kind: lamella_core::MatchKind) -> String {
    use lamella_core::MatchKind as K;
    match kind {
        K::Exact => "exact",
        K::ExactIgnoringCase => "exact ignoring case",
        K::Synonym => "synonym",
        K::Prefix => "prefix",
        K::Substring => "substring",
        K::CloseSpelling => "close spelling",
    }
    .into()
}

/// `… search TEXT`
pub fn search<T: Named>(reg: &Registry<T>, text: &str, limit: usize, out: &mut Out) -> Result<()> {
    let hits: Vec<_> = reg.search(text)?.into_iter().take(limit).collect();
    if out.json {
        let rows: Vec<_> = hits
            .iter()
            .map(|h| HitJson {
                record: &h.record,
                kind: kind_name(h.kind),
            })
            .collect();
        return out.json(&rows);
    }
    if hits.is_empty() {
        return out.line(format!("no {} matches {}", T::REGISTRY.name, quote(text)));
    }
    let w = hits
        .iter()
        .map(|h| kind_name(h.kind).len())
        .max()
        .unwrap_or(0);
    for h in &hits {
        out.line(format!("{:<w$}  {}", kind_name(h.kind), repr(&h.record)?))?;
    }
    Ok(())
}

/// `… delete NAME`
pub fn delete<T: Named>(reg: &Registry<T>, name: &str, out: &mut Out) -> Result<()> {
    let record = find(reg, name)?;
    reg.delete(&record)?;
    if out.json {
        return out.json(&crate::output::deleted_json(
            &record,
            lamella_core::Deleted::Removed {
                object_removed: false,
            },
            false,
        )?);
    }
    out.line(format!(
        "✅ deleted {} {}",
        T::REGISTRY.name,
        quote(record.name_str())
    ))
}

/// `… synonym add NAME SYNONYM`
pub fn synonym(reg: &Registry<impl Named>, cmd: SynonymCommand, out: &mut Out) -> Result<()> {
    let changed = match &cmd {
        SynonymCommand::Add { name, synonym } => {
            let mut record = find(reg, name)?;
            reg.add_synonym(&mut record, synonym)?;
            (record, true)
        }
        SynonymCommand::Remove { name, synonym } => {
            let mut record = find(reg, name)?;
            let removed = reg.remove_synonym(&mut record, synonym)?;
            (record, removed)
        }
    };
    let (record, changed) = changed;
    if out.json {
        return out.json(&outcome_json(
            &record,
            if changed { "updated" } else { "unchanged" },
        )?);
    }
    let synonyms = lamella_core::split_synonyms(record.synonyms_str());
    let name = quote(record.name_str());
    let kind = registry_name(reg);
    match (&cmd, changed) {
        (SynonymCommand::Remove { synonym, .. }, false) => out.line(format!(
            "{kind} {name} has no synonym {}; nothing changed",
            quote(synonym)
        )),
        _ if synonyms.is_empty() => out.line(format!("✅ {kind} {name} has no synonyms")),
        _ => out.line(format!(
            "✅ {kind} {name} has the synonyms {}",
            quote_all(&synonyms)
        )),
    }
}

fn registry_name<T: Named>(_reg: &Registry<T>) -> &'static str {
    T::REGISTRY.name
}

/// `… inspect VALUE… | --from-file FILE`: which values are names; exit code 1 when some
/// are not.
pub fn inspect<T: Named>(
    reg: &Registry<T>,
    values: &[String],
    from_file: Option<&std::path::Path>,
    out: &mut Out,
) -> Result<()> {
    let values = values_and_file(values, from_file)?;
    let i = reg.inspect(&values)?;
    if out.json {
        out.json(&i)?;
    } else {
        out.line(format!(
            "{} of {} distinct value{} validated",
            i.validated.len(),
            i.validated.len() + i.not_validated.len(),
            plural(i.validated.len() + i.not_validated.len())
        ))?;
        for u in &i.not_validated {
            let hint = match (&u.synonym_of, u.suggestions.first()) {
                (Some(s), _) => format!(
                    " → synonym of {} (`{} standardize` maps it)",
                    quote(s),
                    T::REGISTRY.name.to_lowercase()
                ),
                (None, Some(s)) => format!(" → did you mean {}?", quote(s)),
                (None, None) => String::new(),
            };
            out.line(format!("  ✗ {} ({}×){hint}", quote(&u.value), u.count))?;
        }
    }
    if i.is_valid() {
        Ok(())
    } else {
        Err(super::ExitCode(1).into())
    }
}

/// VALUES, then one value per non-empty line of FILE.
fn values_and_file(values: &[String], from_file: Option<&std::path::Path>) -> Result<Vec<String>> {
    let mut values = values.to_vec();
    if let Some(f) = from_file {
        let text =
            std::fs::read_to_string(f).map_err(|e| anyhow!("cannot read {}: {e}", f.display()))?;
        values.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    Ok(values)
}

/// `… standardize VALUE… | --from-file FILE`: synonyms mapped to names.
pub fn standardize<T: Named>(
    reg: &Registry<T>,
    values: &[String],
    from_file: Option<&std::path::Path>,
    out: &mut Out,
) -> Result<()> {
    let values = values_and_file(values, from_file)?;
    let s = reg.standardize(&values)?;
    if out.json {
        return out.json(&s);
    }
    if s.mapping.is_empty() {
        return out.line("no synonyms among the values: nothing to map");
    }
    for (from, to) in &s.mapping {
        out.line(format!("{} → {}", quote(from), quote(to)))?;
    }
    out.line(format!(
        "✅ {} synonym{} mapped to {} name{}",
        s.mapping.len(),
        plural(s.mapping.len()),
        T::REGISTRY.name,
        plural(s.mapping.len())
    ))
}

/// Says which branch labels `--create-branch` created (none when all existed).
pub fn print_created_branches(saved: &SavedAll<lamella_core::ULabel>, out: &mut Out) -> Result<()> {
    let created: Vec<&str> = saved
        .records
        .iter()
        .filter(|l| !saved.existing.contains(&l.name))
        .map(|l| l.name.as_str())
        .collect();
    if !created.is_empty() && !out.json {
        out.note(format!(
            "created the branch label{} {}",
            if created.len() == 1 { "" } else { "s" },
            quote_all(&created)
        ))?;
    }
    Ok(())
}
