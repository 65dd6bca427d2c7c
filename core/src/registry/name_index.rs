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
use crate::names::{
    MAX_PAIRED_NAMES, SimilarityIndex, normalize, similar_pairs, tagged, witnesses,
};

/// Bumped whenever the fingerprints change, which rebuilds every index on its next use.
const VERSION: i32 = 2;

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

/// The key of a name as characters (lower case, letters and digits).
fn key_chars(name: &str) -> Vec<char> {
    normalize(name).chars().collect()
}

fn kinded(kind: u8, fp: u64) -> i64 {
    tagged(fp, kind) as i64
}

/// Calls `f` with each fingerprint a stored name is filed under (a fingerprint may come twice,
/// as from the deletion of either of two equal neighbours). Allocates nothing.
fn each_stored(name: &str, mut f: impl FnMut(i64)) {
    thread_local! {
        static CHARS: std::cell::RefCell<Vec<char>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    CHARS.with(|chars| {
        let chars = &mut *chars.borrow_mut();
        chars.clear();
        chars.extend(
            name.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase),
        );
        witnesses(chars, |deleted, fp| {
            let kind = match deleted {
                None => F,
                Some(c) if c.is_numeric() => D,
                Some(_) => L,
            };
            f(kinded(kind, fp));
        });
    });
}

/// The fingerprints a stored name is filed under.
pub(crate) fn stored(name: &str) -> Vec<i64> {
    let mut fps = Vec::new();
    each_stored(name, |fp| fps.push(fp));
    fps.sort_unstable();
    fps.dedup();
    fps
}

/// The fingerprints a new name probes (see the module's table).
pub(crate) fn probes(name: &str) -> Vec<i64> {
    let key = key_chars(name);
    let mut fps = Vec::new();
    witnesses(&key, |deleted, fp| match deleted {
        None => {
            fps.push(kinded(F, fp));
            if key.len() >= 4 {
                fps.push(kinded(L, fp));
            }
        }
        Some(c) if c.is_numeric() => fps.push(kinded(L, fp)),
        Some(_) => fps.extend([F, L, D].map(|k| kinded(k, fp))),
    });
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
    let records: Vec<(i64, &str)> = names.iter().map(|(id, n)| (*id, n.as_str())).collect();
    add_rows(conn, registry, &records)?;
    lamella_schema::name_index_set_version(conn, registry, VERSION)?;
    Ok(())
}

/// Rows of the index written per round of [`add_rows`] (16 bytes each while held; two rounds
/// are in flight).
const ROUND_ROWS: usize = 1_500_000;

/// Files `records` (id, name) in the index. Rows go in key order — the index is a B-tree on
/// (registry, fp, record_id), and rows in order fill its pages one after the other instead
/// of splitting pages all over it — in rounds, each over one range of fingerprints, so a round
/// touches only its part of the tree and at most two rounds of about [`ROUND_ROWS`] rows are
/// held (a million names file about 15 million rows). A round recomputes the fingerprints
/// (O(1) each, no allocation) rather than keeping all of them, on other threads while the
/// database writes the round before.
fn add_rows(conn: &mut Conn<'_>, registry: i16, records: &[(i64, &str)]) -> Result<()> {
    use rayon::prelude::*;
    let estimate: usize = records.iter().map(|(_, n)| n.len() + 1).sum();
    let rounds = estimate.div_ceil(ROUND_ROWS).max(1) as u128;
    // The round of a fingerprint: its range in the index's (signed) order.
    let round_of = |fp: i64| ((u128::from((fp as u64) ^ (1 << 63)) * rounds) >> 64) as u64;
    let round_rows = |round: u64| -> Vec<(i64, i64)> {
        // Parts per chunk, then one allocation of the exact size (merging growing vectors
        // would hold up to twice the round).
        let parts: Vec<Vec<(i64, i64)>> = records
            .par_chunks(4096)
            .map(|chunk| {
                let mut rows = Vec::new();
                for &(id, name) in chunk {
                    each_stored(name, |fp| {
                        if rounds == 1 || round_of(fp) == round {
                            rows.push((fp, id));
                        }
                    });
                }
                rows.shrink_to_fit();
                rows
            })
            .collect();
        let mut rows: Vec<(i64, i64)> = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            rows.extend(part);
        }
        rows.par_sort_unstable();
        // Equal neighbours deleted give one fingerprint twice.
        rows.dedup();
        rows
    };
    if rounds == 1 {
        lamella_schema::name_keys_insert(conn, registry, &round_rows(0))?;
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(i64, i64)>>(1);
        scope.spawn(move || {
            for round in 0..rounds as u64 {
                if tx.send(round_rows(round)).is_err() {
                    // The writer stopped on an error, which it returns.
                    return;
                }
            }
        });
        for rows in rx {
            lamella_schema::name_keys_insert(conn, registry, &rows)?;
        }
        Ok(())
    })
}

/// Files saved records under their names.
pub(super) fn add<T: Named>(conn: &mut Conn<'_>, records: &[T]) -> Result<()> {
    let records: Vec<(i64, &str)> = records
        .iter()
        .filter_map(|r| Some((r.id()?, r.name_str())))
        .collect();
    add_ids::<T>(conn, &records)
}

/// Files saved records, given as `(id, name)`, under their names.
pub(super) fn add_ids<T: Named>(conn: &mut Conn<'_>, records: &[(i64, &str)]) -> Result<()> {
    add_rows(conn, code::<T>(), records)
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

/// For each name, the similar existing names, from one read of every existing name and one
/// sort ([`similar_among`]; for large batches).
pub(super) fn similar_all<T: Named>(
    conn: &mut Conn<'_>,
    names: &[&str],
) -> Result<Vec<Vec<String>>> {
    let stored = lamella_schema::names(conn, T::REGISTRY, "name")?;
    let old: Vec<&str> = stored.iter().map(|(_, n)| n.as_str()).collect();
    similar_among::<T>(names, &old, false)
}

/// For each name, the similar `old` names — and with `within`, the similar names in the batch
/// — by one sort ([`similar_pairs`]).
pub(super) fn similar_among<T: Named>(
    names: &[&str],
    old: &[&str],
    within: bool,
) -> Result<Vec<Vec<String>>> {
    if names.len() + old.len() > MAX_PAIRED_NAMES {
        return Err(crate::error::Error::InvalidValue {
            what: format!("a batch of {} names", T::REGISTRY.name),
            value: names.len().to_string(),
            reason: format!(
                "the name check takes {MAX_PAIRED_NAMES} names, {} are registered: save the \
                 batch in parts",
                old.len()
            ),
        });
    }
    let pairs = similar_pairs(names, old);
    let mut similar: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    if within {
        for (i, j) in pairs.within {
            similar[i].push(names[j].to_string());
            similar[j].push(names[i].to_string());
        }
    }
    for (i, j) in pairs.across {
        similar[i].push(old[j].to_string());
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
