//! What `ulabel` and `feature` share: create output, list, search, delete, name resolution.

use anyhow::{Result, anyhow};
use lamella_core::{Error, Named, Registry, Saved, SavedAll};
use serde::Serialize;

use crate::cli::{ListArgs, SynonymCommand};
use crate::output::{Out, quote, quote_all, repr, shell_word};

/// The command word for a registry (`ulabel`, `feature`), for hints.
fn word<T: Named>() -> String {
    T::REGISTRY.name.to_ascii_lowercase()
}

/// The record named (or with uid) `name`; a miss says how to find the right one.
pub fn find<T: Named>(reg: &Registry<T>, name: &str) -> Result<T> {
    reg.resolve(name).map_err(|e| match e {
        e @ Error::NotFound { .. } => crate::errors::hinted(
            e,
            format!(
                "list them with `lamella {w} list`, or search with `lamella {w} search {}`",
                shell_word(name),
                w = word::<T>()
            ),
        ),
        other => other.into(),
    })
}

/// A created (or loaded) record with what `create` found out, for `--json`.
#[derive(Serialize)]
struct CreatedJson<'a, T: Serialize> {
    #[serde(flatten)]
    record: &'a T,
    existed: bool,
    similar: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// Prints the messages of a `create` (loaded existing record, similar names, notes) and the
/// record.
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
        return out.json(&CreatedJson {
            record: &saved.record,
            existed: saved.existed,
            similar: &saved.similar,
            notes: &saved.notes,
        });
    }
    out.line(repr(&saved.record)?)
}

#[derive(Serialize)]
struct SimilarJson<'a> {
    name: &'a str,
    similar: &'a [String],
}

#[derive(Serialize)]
struct SavedAllJson<'a, T: Serialize> {
    created: usize,
    existing: &'a [String],
    similar: Vec<SimilarJson<'a>>,
    records: &'a [T],
}

/// Prints the outcome of a bulk save: a summary with messages, then (human) the records when
/// there are few, or (`--json`) all of them.
pub fn print_saved_all<T: Named>(saved: &SavedAll<T>, out: &mut Out) -> Result<()> {
    let reg = T::REGISTRY.name;
    if !saved.existing.is_empty() {
        out.warn(format!(
            "loaded {} {reg} record{} with same name: {}",
            saved.existing.len(),
            plural(saved.existing.len()),
            quote_all(&saved.existing)
        ))?;
    }
    for (name, similar) in &saved.similar {
        out.warn(format!(
            "{} is similar to existing: {}",
            quote(name),
            quote_all(similar)
        ))?;
    }
    for note in &saved.notes {
        out.warn(note)?;
    }
    if out.json {
        return out.json(&SavedAllJson {
            created: saved.created,
            existing: &saved.existing,
            similar: saved
                .similar
                .iter()
                .map(|(name, similar)| SimilarJson { name, similar })
                .collect(),
            records: &saved.records,
        });
    }
    out.line(format!(
        "✅ saved {} new {reg} record{} ({} given, {} existed)",
        saved.created,
        plural(saved.created),
        saved.records.len(),
        saved.existing.len()
    ))?;
    if saved.records.len() <= 20 {
        out.records(&dedup_by_uid(&saved.records))?;
    }
    Ok(())
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

#[derive(Serialize)]
struct HitJson<'a, T: Serialize> {
    #[serde(flatten)]
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
        return out.json(&serde_json::json!({ "deleted": &record }));
    }
    out.line(format!(
        "✅ deleted {} {}",
        T::REGISTRY.name,
        quote(record.name_str())
    ))
}

/// `… synonym add NAME SYNONYM`
pub fn synonym(reg: &Registry<impl Named>, cmd: SynonymCommand, out: &mut Out) -> Result<()> {
    let SynonymCommand::Add { name, synonym } = cmd;
    let mut record = find(reg, &name)?;
    reg.add_synonym(&mut record, &synonym)?;
    if out.json {
        return out.json(&record);
    }
    out.line(format!(
        "✅ {} {} has the synonyms {}",
        registry_name(reg),
        quote(record.name_str()),
        quote_all(&lamella_core::split_synonyms(record.synonyms_str()))
    ))
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
                (Some(s), _) => format!(" → synonym of {} (standardize)", quote(s)),
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
