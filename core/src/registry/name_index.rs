//! The persisted index of the similar-name check, so that one create costs the same among a
//! million names as among a thousand.
//!
//! Two names are similar (`names::similar_keys`) when their normalised keys are equal, or —
//! both at least 4 characters — one edit apart (insertion, deletion, substitution, adjacent
//! transposition) with an edit that involves a letter (`study0`/`study1` differ in digits only:
//! a series, not a typo). Every such pair shares a *witness*: a string both reach by deleting at
//! most one character. Each stored name is filed under fingerprints of
//! - `F`: its key;
//! - `L`: its key with one letter deleted, for every letter;
//! - `D`: its key with one digit deleted, for every digit.
//!
//! A new name probes only the fingerprints whose witness involves a letter:
//!
//! | edit between new `q` and stored `s` | probe |
//! |---|---|
//! | equal keys | `F(q)` |
//! | `s` = `q` + a letter | `L(q)` (matches `s`'s letter deletion) |
//! | `q` = `s` + a letter | `F(q − letter)` |
//! | letter ↔ letter, or two letters transposed | `L(q − letter)` |
//! | letter in `q` ↔ digit in `s` | `D(q − letter)` |
//! | digit in `q` ↔ letter in `s` | `L(q − digit)` |
//!
//! Digit ↔ digit edits are never probed, so numbered series (`sample_000001`, …) never meet.
//! A probe is one `IN` query on the primary key; its candidates are checked with the exact rule,
//! so a fingerprint collision only costs a comparison. Rows are written in the transaction that
//! writes the records; an instance from before the index is indexed on its first name check.

use lamella_schema::Conn;

use super::Named;
use crate::error::Result;
use crate::names::{SimilarityIndex, normalize};

/// Bumped whenever the fingerprints change, which rebuilds every index on its next use.
const VERSION: i32 = 1;

/// Batches with more probes than this stream every existing name through an in-memory index
/// instead (one pass over the registry beats tens of thousands of probes): about 2,000 names
/// of ordinary length, fewer long ones.
const PROBE_BUDGET: usize = 60_000;

/// Whether a batch of new names is checked by probing the index (else by one pass over every
/// name).
pub(super) fn probe_pays(new_names: &[&str]) -> bool {
    new_names.len() <= 2_000
        && new_names
            .iter()
            .map(|n| 3 * n.chars().count() + 2)
            .sum::<usize>()
            <= PROBE_BUDGET
}

const F: u8 = b'F';
const L: u8 = b'L';
const D: u8 = b'D';

/// The index's code of a named registry.
fn code<T: Named>() -> i16 {
    match T::REGISTRY.table {
        "lamella_ulabels" => 1,
        "lamella_features" => 2,
        _ => 0,
    }
}

/// FNV-1a over the kind and the characters (stable across versions and platforms).
fn fingerprint(kind: u8, chars: impl Iterator<Item = char>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(kind);
    let mut buf = [0u8; 4];
    for c in chars {
        for b in c.encode_utf8(&mut buf).bytes() {
            eat(b);
        }
    }
    h as i64
}

fn without(key: &[char], p: usize) -> impl Iterator<Item = char> + '_ {
    key.iter()
        .enumerate()
        .filter(move |(i, _)| *i != p)
        .map(|(_, c)| *c)
}

/// The fingerprints a stored name is filed under.
pub(crate) fn stored(name: &str) -> Vec<i64> {
    let key: Vec<char> = normalize(name).chars().collect();
    if key.is_empty() {
        return Vec::new();
    }
    let mut fps = vec![fingerprint(F, key.iter().copied())];
    if key.len() >= 4 {
        for p in 0..key.len() {
            let kind = if key[p].is_numeric() { D } else { L };
            fps.push(fingerprint(kind, without(&key, p)));
        }
    }
    fps.sort_unstable();
    fps.dedup();
    fps
}

/// The fingerprints a new name probes (see the module's table).
pub(crate) fn probes(name: &str) -> Vec<i64> {
    let key: Vec<char> = normalize(name).chars().collect();
    if key.is_empty() {
        return Vec::new();
    }
    let mut fps = vec![fingerprint(F, key.iter().copied())];
    if key.len() >= 4 {
        fps.push(fingerprint(L, key.iter().copied()));
        for p in 0..key.len() {
            if key[p].is_numeric() {
                fps.push(fingerprint(L, without(&key, p)));
            } else {
                fps.push(fingerprint(F, without(&key, p)));
                fps.push(fingerprint(L, without(&key, p)));
                fps.push(fingerprint(D, without(&key, p)));
            }
        }
    }
    fps.sort_unstable();
    fps.dedup();
    fps
}

/// Makes sure the index of `T`'s registry covers every record (building it once for an
/// instance created before the index existed). Runs inside the caller's write transaction,
/// under the registry's names lock.
/// Whether the index of `T`'s registry is built and current (reads only).
pub(super) fn is_current<T: Named>(conn: &mut Conn<'_>) -> Result<bool> {
    Ok(lamella_schema::name_index_version(conn, code::<T>())? == Some(VERSION))
}

pub(super) fn ensure<T: Named>(conn: &mut Conn<'_>) -> Result<()> {
    let registry = code::<T>();
    if lamella_schema::name_index_version(conn, registry)? == Some(VERSION) {
        return Ok(());
    }
    tracing::info!(
        registry = T::REGISTRY.name,
        "building the similar-name index"
    );
    lamella_schema::name_index_clear(conn, registry)?;
    let names = lamella_schema::names(conn, T::REGISTRY, "name")?;
    add_rows(
        conn,
        registry,
        names.iter().map(|(id, n)| (*id, n.as_str())),
    )?;
    lamella_schema::name_index_set_version(conn, registry, VERSION)?;
    Ok(())
}

fn add_rows<'n>(
    conn: &mut Conn<'_>,
    registry: i16,
    records: impl Iterator<Item = (i64, &'n str)>,
) -> Result<()> {
    let mut rows: Vec<(i64, i64)> = Vec::new();
    // Inserted in key order: the index is a B-tree on (registry, fp, record_id), and rows in
    // order fill its pages one after the other instead of splitting pages all over it.
    let flush = |conn: &mut Conn<'_>, rows: &mut Vec<(i64, i64)>| -> Result<()> {
        rows.sort_unstable();
        // A record's fingerprints are distinct and records are new: no row is inserted twice.
        rows.dedup();
        lamella_schema::name_keys_insert(conn, registry, rows)?;
        rows.clear();
        Ok(())
    };
    for (id, name) in records {
        rows.extend(stored(name).into_iter().map(|fp| (fp, id)));
        if rows.len() >= 200_000 {
            flush(conn, &mut rows)?;
        }
    }
    flush(conn, &mut rows)
}

/// Files saved records under their names.
pub(super) fn add<T: Named>(conn: &mut Conn<'_>, records: &[T]) -> Result<()> {
    let registry = code::<T>();
    add_rows(
        conn,
        registry,
        records.iter().filter_map(|r| Some((r.id()?, r.name_str()))),
    )
}

/// Removes a record filed under `name`.
pub(super) fn remove<T: Named>(conn: &mut Conn<'_>, id: i64, name: &str) -> Result<()> {
    lamella_schema::name_keys_delete(conn, code::<T>(), id, &stored(name))?;
    Ok(())
}

/// For each new name, the existing names similar to it (unsorted), from the index: one probe
/// query for all names, one query for the candidates' names.
pub(super) fn similar_existing<T: Named>(
    conn: &mut Conn<'_>,
    new_names: &[&str],
    index: &SimilarityIndex,
) -> Result<Vec<Vec<String>>> {
    let mut fps: Vec<i64> = new_names.iter().flat_map(|n| probes(n)).collect();
    fps.sort_unstable();
    fps.dedup();
    let ids = lamella_schema::name_keys_probe(conn, code::<T>(), &fps)?;
    let candidates: Vec<T> = lamella_schema::load_by_ids(conn, &ids)?;
    let mut similar: Vec<Vec<String>> = vec![Vec::new(); new_names.len()];
    for c in &candidates {
        for i in index.matches(c.name_str()) {
            similar[i].push(c.name_str().to_string());
        }
    }
    Ok(similar)
}

/// For each new name, the existing names similar to it, by streaming every name through an
/// in-memory index (for large batches).
pub(super) fn similar_streaming<T: Named>(
    conn: &mut Conn<'_>,
    new_names: &[&str],
    index: &SimilarityIndex,
) -> Result<Vec<Vec<String>>> {
    use rayon::prelude::*;
    let names = lamella_schema::names(conn, T::REGISTRY, "name")?;
    // Matched on every core; the index is read-only.
    let hits: Vec<Vec<usize>> = names.par_iter().map(|(_, n)| index.matches(n)).collect();
    let mut similar: Vec<Vec<String>> = vec![Vec::new(); new_names.len()];
    for ((_, name), hits) in names.iter().zip(hits) {
        for i in hits {
            similar[i].push(name.clone());
        }
    }
    Ok(similar)
}

/// The index's view of which stored names a probe reaches, for tests: name → whether found.
#[cfg(test)]
fn reaches(stored_names: &[&str], probe: &str) -> std::collections::HashMap<String, bool> {
    let p: std::collections::HashSet<i64> = probes(probe).into_iter().collect();
    stored_names
        .iter()
        .map(|s| (s.to_string(), stored(s).iter().any(|f| p.contains(f))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::similar_keys;

    /// Every similar pair is found by the probes (no false negatives), on systematic edits and
    /// random names.
    #[test]
    fn probes_find_every_similar_name() {
        let alphabet: Vec<char> = "ab1é2xZ_".chars().collect();
        let mut names: Vec<String> = vec![
            "project1".into(),
            "project 1".into(),
            "Project-1".into(),
            "label_0000001".into(),
            "label_0000002".into(),
            "CD4".into(),
            "CD8".into(),
            "setosa".into(),
            "setsoa".into(),
            "versicolor".into(),
            "versicolour".into(),
            "sample٣".into(),
            "samplex".into(),
        ];
        // Deterministic pseudo-random names and their one-edit neighbours.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let len = 3 + (next() % 6) as usize;
            let base: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let chars: Vec<char> = base.chars().collect();
            let p = (next() % chars.len() as u64) as usize;
            let c = alphabet[(next() % alphabet.len() as u64) as usize];
            let mut sub = chars.clone();
            sub[p] = c;
            let mut del = chars.clone();
            del.remove(p);
            let mut ins = chars.clone();
            ins.insert(p, c);
            let mut swap = chars.clone();
            if p + 1 < swap.len() {
                swap.swap(p, p + 1);
            }
            names.push(base);
            for v in [sub, del, ins, swap] {
                names.push(v.into_iter().collect());
            }
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut pairs = 0;
        for q in &refs {
            let reached = reaches(&refs, q);
            for s in &refs {
                if similar_keys(&normalize(q), &normalize(s)) {
                    pairs += 1;
                    assert!(reached[*s], "{q:?} does not reach the similar {s:?}");
                }
            }
        }
        assert!(pairs > 1000, "{pairs}");
    }

    #[test]
    fn numbered_series_do_not_meet() {
        let series: Vec<String> = (0..200).map(|i| format!("label_{i:07}")).collect();
        let refs: Vec<&str> = series.iter().map(String::as_str).collect();
        let reached = reaches(&refs, "label_0000500");
        assert!(
            reached.values().all(|r| !r),
            "a series name reached another"
        );
    }
}
