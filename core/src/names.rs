//! Pure functions on names: similarity (to warn about near-duplicates), search ranking and
//! identifier-safe lookup keys.

/// The comparison key of a name: lower case, letters and digits only, so `Project 1`,
/// `project-1` and `project1` share one key.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two normalized keys are "similar": equal, or one edit (insertion, deletion,
/// substitution, transposition) apart when long enough — except names that differ only in
/// their digits (`study0` / `study1`, `CD4` / `CD8`), which are deliberate series, not typos.
pub(crate) fn similar_keys(a: &str, b: &str) -> bool {
    if a == b {
        return !a.is_empty();
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.min(lb) < 4 || la.abs_diff(lb) > 1 {
        return false;
    }
    let letters = |s: &str| -> String { s.chars().filter(|c| !c.is_numeric()).collect() };
    if letters(a) == letters(b) {
        return false;
    }
    strsim::osa_distance(a, b) <= 1
}

/// Kinds of one-edit variants of a key.
const FULL: u64 = 0;
const DELETED_LETTER: u64 = 1;
const WILD_LETTER: u64 = 2;
const WILD_DIGIT: u64 = 3;
const SWAPPED: u64 = 4;
const BASE: u64 = 0x100_0000_01b3;
const WILDCARD: u64 = 0x9e37_79b9;

/// Mixes a polynomial hash with the variant kind and length (splitmix64 finaliser).
fn finish(h: u64, tag: u64, len: usize) -> u64 {
    let mut z = h ^ (tag << 56) ^ ((len as u64) << 48);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `f(pow, pre)` on polynomial prefix hashes of `key` — `pow[i] = BASE^i`, `pre[i]` the
/// hash of `key[..i]` — held in per-thread buffers, so hashing a million names allocates once.
fn with_prefix_hashes<R>(key: &[char], f: impl FnOnce(&[u64], &[u64]) -> R) -> R {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<u64>)> =
            const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    SCRATCH.with(|scratch| {
        let (pow, pre) = &mut *scratch.borrow_mut();
        pow.clear();
        pre.clear();
        pow.push(1u64);
        pre.push(0u64);
        for (i, &ch) in key.iter().enumerate() {
            pow.push(pow[i].wrapping_mul(BASE));
            pre.push(pre[i].wrapping_mul(BASE).wrapping_add(u64::from(ch) + 1));
        }
        f(pow, pre)
    })
}

/// Calls `f(deleted, fingerprint)` for `key` itself (`deleted = None`) and, when it has at
/// least 4 characters, for each of its one-character deletions (`Some(the deleted character)`):
/// the *witnesses* two similar keys share (see [`similar_pairs`]). A fingerprint depends on the
/// witness's characters only, so a deletion of one key and another key itself meet. O(1) each.
pub(crate) fn witnesses(key: &[char], mut f: impl FnMut(Option<char>, u64)) {
    let n = key.len();
    if n == 0 {
        return;
    }
    with_prefix_hashes(key, |pow, pre| {
        let full = pre[n];
        f(None, finish(full, FULL, n));
        if n < 4 {
            return;
        }
        for (p, &ch) in key.iter().enumerate() {
            let suffix = full.wrapping_sub(pre[p + 1].wrapping_mul(pow[n - p - 1]));
            let h = pre[p].wrapping_mul(pow[n - 1 - p]).wrapping_add(suffix);
            f(Some(ch), finish(h, FULL, n - 1));
        }
    });
}

/// `fp` remixed with a tag, for fingerprints of several kinds of one witness.
pub(crate) fn tagged(fp: u64, tag: u8) -> u64 {
    finish(fp, u64::from(tag), 0)
}

/// Calls `f(kind, fingerprint)` for every one-edit variant of `key` that involves a letter
/// (and, for substitutions, digit wildcards too). Polynomial prefix hashes make each variant's
/// fingerprint O(1); equal fingerprints are verified by the caller.
fn variants(key: &[char], with_swaps: bool, mut f: impl FnMut(u64, u64)) {
    with_prefix_hashes(key, |pow, pre| {
        variants_with(key, with_swaps, pow, pre, &mut f)
    });
}

fn variants_with(
    key: &[char],
    with_swaps: bool,
    pow: &[u64],
    pre: &[u64],
    f: &mut impl FnMut(u64, u64),
) {
    let n = key.len();
    let c = |i: usize| u64::from(key[i]) + 1;
    let full = pre[n];
    f(FULL, finish(full, FULL, n));
    if n < 4 {
        return;
    }
    // hash of key[i..] = full - pre[i] * BASE^(n-i)
    let suffix = |i: usize| full.wrapping_sub(pre[i].wrapping_mul(pow[n - i]));
    for p in 0..n {
        let letter = !key[p].is_numeric();
        let weight = pow[n - 1 - p];
        if letter {
            let h = pre[p]
                .wrapping_mul(pow[n - 1 - p])
                .wrapping_add(suffix(p + 1));
            f(DELETED_LETTER, finish(h, FULL, n - 1));
        }
        let wild = full
            .wrapping_sub(c(p).wrapping_mul(weight))
            .wrapping_add(WILDCARD.wrapping_mul(weight));
        let tag = if letter { WILD_LETTER } else { WILD_DIGIT };
        f(tag, finish(wild, WILD_LETTER, n));
        if with_swaps && letter && p + 1 < n && key[p + 1] != key[p] && !key[p + 1].is_numeric() {
            let w2 = pow[n - 2 - p];
            let h = full
                .wrapping_sub(c(p).wrapping_mul(weight))
                .wrapping_sub(c(p + 1).wrapping_mul(w2))
                .wrapping_add(c(p + 1).wrapping_mul(weight))
                .wrapping_add(c(p).wrapping_mul(w2));
            f(SWAPPED, finish(h, FULL, n));
        }
    }
}

/// The set of character classes of a key as 64 bits.
fn char_mask(chars: &[char]) -> u64 {
    chars.iter().fold(0u64, |m, &c| {
        m | 1u64 << ((u32::from(c).wrapping_mul(0x9E37_79B1)) >> 26)
    })
}

/// The fingerprints of the indexed keys' variants, each with its key's number, in one sorted
/// array of `fp32 << 32 | key` (8 bytes an entry: a million names file ~25 million variants,
/// which a map of buckets would hold in over a gigabyte), with a directory on the top bits so
/// a lookup is a short binary search. 32 bits of fingerprint suffice: every hit is verified.
#[derive(Debug, Default)]
struct FpTable {
    entries: Vec<u64>,
    /// `dir[b]`: the first entry whose fingerprint's top [`DIR_BITS`] bits are `>= b`.
    dir: Vec<u32>,
}

const DIR_BITS: u32 = 16;

impl FpTable {
    fn entry(fp: u64, key: u32) -> u64 {
        ((fp >> 32) << 32) | u64::from(key)
    }

    fn build(mut entries: Vec<u64>) -> FpTable {
        use rayon::slice::ParallelSliceMut as _;
        if entries.len() > 100_000 {
            entries.par_sort_unstable();
        } else {
            entries.sort_unstable();
        }
        entries.dedup();
        entries.shrink_to_fit();
        let mut dir = Vec::with_capacity((1 << DIR_BITS) + 1);
        let mut i = 0usize;
        for b in 0..=(1u64 << DIR_BITS) {
            while i < entries.len() && (entries[i] >> (64 - DIR_BITS)) < b {
                i += 1;
            }
            dir.push(i as u32);
        }
        FpTable { entries, dir }
    }

    /// Calls `f` with the number of every key filed under `fp`.
    fn get(&self, fp: u64, mut f: impl FnMut(u32)) {
        if self.entries.is_empty() {
            return;
        }
        let top = (fp >> 32) as u32;
        let b = (fp >> (64 - DIR_BITS)) as usize;
        let bucket = &self.entries[self.dir[b] as usize..self.dir[b + 1] as usize];
        let start = bucket.partition_point(|e| ((e >> 32) as u32) < top);
        for e in &bucket[start..] {
            if (e >> 32) as u32 != top {
                break;
            }
            f(*e as u32);
        }
    }
}

/// Finds, for new names, the similar names among candidates in time linear in the number of
/// candidates. Each indexed key is filed under fingerprints of its one-edit variants (deleted
/// letter, any character replaced by a wildcard); a candidate probes only the variants that
/// can meet them — a digit wildcard only against letter wildcards — so numbered series
/// (`sample_0001`, `sample_0002`, …) never collide and buckets stay tiny.
#[derive(Debug, Default)]
pub struct SimilarityIndex {
    keys: Vec<String>,
    /// One bit per character class present in each key: one edit changes at most two bits,
    /// a cheap first test when only a few names are indexed (a single create).
    masks: Vec<u64>,
    /// Fingerprints of full keys and letter deletions.
    exact: FpTable,
    /// Fingerprints of wildcard variants at letters.
    wild_letters: FpTable,
    /// Fingerprints of wildcard variants at digits.
    wild_digits: FpTable,
}

impl SimilarityIndex {
    /// Indexes the names to be checked.
    pub fn new<S: AsRef<str>>(names: &[S]) -> SimilarityIndex {
        let mut keys = Vec::with_capacity(names.len());
        let mut masks = Vec::with_capacity(names.len());
        let (mut exact, mut wild_letters, mut wild_digits) = (Vec::new(), Vec::new(), Vec::new());
        let mut chars: Vec<char> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let key = normalize(n.as_ref());
            chars.clear();
            chars.extend(key.chars());
            masks.push(char_mask(&chars));
            if !chars.is_empty() {
                let i = i as u32;
                variants(&chars, false, |kind, fp| {
                    let table = match kind {
                        WILD_LETTER => &mut wild_letters,
                        WILD_DIGIT => &mut wild_digits,
                        _ => &mut exact,
                    };
                    table.push(FpTable::entry(fp, i));
                });
            }
            keys.push(key);
        }
        SimilarityIndex {
            keys,
            masks,
            exact: FpTable::build(exact),
            wild_letters: FpTable::build(wild_letters),
            wild_digits: FpTable::build(wild_digits),
        }
    }

    /// The indexes of the indexed names similar to `candidate`.
    pub fn matches(&self, candidate: &str) -> Vec<usize> {
        thread_local! {
            static CHARS: std::cell::RefCell<Vec<char>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        CHARS.with(|chars| {
            let chars = &mut *chars.borrow_mut();
            chars.clear();
            chars.extend(
                candidate
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase),
            );
            self.matches_key(chars)
        })
    }

    fn matches_key(&self, chars: &[char]) -> Vec<usize> {
        let mut hits: Vec<usize> = Vec::new();
        if chars.is_empty() || self.keys.is_empty() {
            return hits;
        }
        if self.masks.len() <= 16 {
            let mask = char_mask(chars);
            if self.masks.iter().all(|m| (m ^ mask).count_ones() > 2) {
                return hits;
            }
        }
        let mut probe = |table: &FpTable, fp: u64| table.get(fp, |i| hits.push(i as usize));
        variants(chars, true, |kind, fp| match kind {
            // equal keys and indexed keys with one letter more (their deletions are in `exact`);
            // the candidate with one letter more, or two adjacent letters swapped
            FULL | DELETED_LETTER | SWAPPED => probe(&self.exact, fp),
            // one substitution involving at least one letter
            WILD_LETTER => {
                probe(&self.wild_letters, fp);
                probe(&self.wild_digits, fp);
            }
            _ => probe(&self.wild_letters, fp),
        });
        if hits.is_empty() {
            return hits;
        }
        hits.sort_unstable();
        hits.dedup();
        let key: String = chars.iter().collect();
        hits.retain(|&i| similar_keys(&self.keys[i], &key));
        hits
    }
}

/// The similar pairs [`similar_pairs`] finds: `within` pairs two new names (`i < j`), `across`
/// a new name with an old one (`(new, old)`). Indexes into the slices given.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SimilarPairs {
    /// New with new.
    pub within: Vec<(usize, usize)>,
    /// New with old.
    pub across: Vec<(usize, usize)>,
}

/// Most names [`similar_pairs`] takes (new and old together): an entry packs the name's number
/// into 29 bits.
pub const MAX_PAIRED_NAMES: usize = 1 << 29;

/// Entries (8 bytes each) [`similar_pairs`] holds per round: 64 MB.
const ROUND_ENTRIES: usize = 8_000_000;

/// Every similar pair among `new` names and between a `new` and an `old` name, by one sort:
/// each name contributes its witnesses ([`witnesses`]: its key and its one-character
/// deletions) as 8-byte entries — 32 bits of fingerprint, the witness's class (the key itself,
/// a letter deleted, a digit deleted), the side, the number — and names sharing a witness in
/// a combination that can be one edit involving a letter are verified with [`similar_keys`]:
///
/// | classes | edit |
/// |---|---|
/// | key, key | equal keys |
/// | key, letter deleted | one has a letter more |
/// | letter deleted, letter deleted | a letter substituted, or two letters transposed |
/// | letter deleted, digit deleted | a letter in one where the other has a digit |
///
/// Digit-only edits are never paired, so a numbered series (`sample_000001`, …) costs no
/// comparisons. Linear in the names (plus the sort), 8 bytes a witness, in rounds of at most
/// [`ROUND_ENTRIES`] witnesses (a million names of 12 characters make 13 million), where a
/// probe per name into a hash index would be random memory access for every variant.
pub fn similar_pairs(new: &[&str], old: &[&str]) -> SimilarPairs {
    use rayon::prelude::*;
    const FULL_KEY: u64 = 0;
    const LETTER: u64 = 1;
    const DIGIT: u64 = 2;
    const OLD: u64 = 1 << 29;
    const MEMBER: u64 = (1 << 30) - 1;
    debug_assert!(new.len() + old.len() <= MAX_PAIRED_NAMES);
    // Rounds over ranges of fingerprints hold at most about ROUND_ENTRIES entries at a time;
    // each round computes every witness again (cheap next to the sort) and keeps its range's.
    let estimate: usize = new.iter().chain(old).map(|n| n.len() + 1).sum();
    let rounds = estimate.div_ceil(ROUND_ENTRIES).max(1) as u64;
    let round_of = |e: u64| ((e >> 32) * rounds) >> 32;
    let mut candidates: Vec<u64> = Vec::new();
    for round in 0..rounds {
        let mut entries: Vec<u64> = Vec::new();
        for (side, names) in [(0, new), (OLD, old)] {
            // Generated on every core, a window at a time, so at most a window's parts are
            // held twice.
            for (w, window) in names.chunks(1 << 16).enumerate() {
                let parts: Vec<Vec<u64>> = window
                    .par_chunks(4096)
                    .enumerate()
                    .map(|(c, chunk)| {
                        let mut out = Vec::new();
                        let mut chars: Vec<char> = Vec::new();
                        for (k, name) in chunk.iter().enumerate() {
                            let number = ((w << 16) + c * 4096 + k) as u64;
                            chars.clear();
                            chars.extend(
                                name.chars()
                                    .filter(|c| c.is_alphanumeric())
                                    .flat_map(char::to_lowercase),
                            );
                            witnesses(&chars, |deleted, fp| {
                                let class = match deleted {
                                    None => FULL_KEY,
                                    Some(c) if c.is_numeric() => DIGIT,
                                    Some(_) => LETTER,
                                };
                                let e = (fp >> 32) << 32 | class << 30 | side | number;
                                if rounds == 1 || round_of(e) == round {
                                    out.push(e);
                                }
                            });
                        }
                        out
                    })
                    .collect();
                entries.reserve_exact(parts.iter().map(Vec::len).sum());
                for p in parts {
                    entries.extend(p);
                }
            }
        }
        entries.par_sort_unstable();
        // Candidate pairs of members (side and number), the smaller first.
        let mut pair = |a: u64, b: u64| {
            let (a, b) = (a & MEMBER, b & MEMBER);
            let (lo, hi) = (a.min(b), a.max(b));
            // At least one new name (new members sort first), and not a name with itself.
            if lo != hi && lo & OLD == 0 {
                candidates.push(lo << 32 | hi);
            }
        };
        for group in entries.chunk_by(|a, b| a >> 32 == b >> 32) {
            if group.len() < 2 {
                continue;
            }
            // Sorted by class within the group: keys, letter deletions, digit deletions.
            let split = |class: u64| group.partition_point(|e| (e >> 30) & 3 < class);
            let (keys, letters, digits) = (
                &group[..split(LETTER)],
                &group[split(LETTER)..split(DIGIT)],
                &group[split(DIGIT)..],
            );
            for (i, &a) in keys.iter().enumerate() {
                keys[i + 1..].iter().for_each(|&b| pair(a, b));
                letters.iter().for_each(|&b| pair(a, b));
            }
            for (i, &a) in letters.iter().enumerate() {
                letters[i + 1..].iter().for_each(|&b| pair(a, b));
                digits.iter().for_each(|&b| pair(a, b));
            }
        }
    }
    candidates.par_sort_unstable();
    candidates.dedup();
    let name = |member: u64| -> &str {
        let number = (member & (OLD - 1)) as usize;
        if member & OLD == 0 {
            new[number]
        } else {
            old[number]
        }
    };
    let verified: Vec<u64> = candidates
        .into_par_iter()
        .filter(|&c| similar_keys(&normalize(name(c >> 32)), &normalize(name(c & MEMBER))))
        .collect();
    let mut pairs = SimilarPairs::default();
    for c in verified {
        let (a, b) = (c >> 32, c & MEMBER);
        let i = (a & (OLD - 1)) as usize;
        let j = (b & (OLD - 1)) as usize;
        if b & OLD == 0 {
            pairs.within.push((i, j));
        } else {
            pairs.across.push((i, j));
        }
    }
    pairs
}

/// How well a record matches a search text; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    /// The name equals the text.
    Exact,
    /// The name equals the text ignoring case.
    ExactIgnoringCase,
    /// A synonym equals the text (ignoring case).
    Synonym,
    /// The name starts with the text (ignoring case).
    Prefix,
    /// The name contains the text (ignoring case).
    Substring,
    /// The name is spelled closely (small edit distance).
    CloseSpelling,
}

/// The longest name a record may have, in characters; a longer search text matches nothing.
pub const MAX_NAME_CHARS: usize = 1000;

/// The most edits a close spelling may need, however long the text: bounds the work of a
/// search by the length of the names, not by the product of the lengths.
const MAX_EDITS: usize = 3;

/// A search text prepared once for ranking many names.
#[derive(Debug, Clone)]
pub struct SearchText {
    text: String,
    lower: String,
    key: Vec<char>,
    allowed: usize,
}

impl SearchText {
    /// Prepares `text`.
    pub fn new(text: &str) -> SearchText {
        let key: Vec<char> = normalize(text).chars().collect();
        SearchText {
            text: text.to_string(),
            lower: text.to_lowercase(),
            allowed: (key.len() / 4).clamp(1, MAX_EDITS),
            key,
        }
    }

    /// Ranks `name` (with optional `|`-separated synonyms); `None` when it does not match. The
    /// second value orders hits of the same kind (smaller is better).
    pub fn rank(&self, name: &str, synonyms: Option<&str>) -> Option<(MatchKind, usize)> {
        if name == self.text {
            return Some((MatchKind::Exact, 0));
        }
        let n = name.to_lowercase();
        let t = &self.lower;
        if n == *t {
            return Some((MatchKind::ExactIgnoringCase, 0));
        }
        if let Some(syn) = synonyms
            && syn.split('|').any(|s| s.trim().to_lowercase() == *t)
        {
            return Some((MatchKind::Synonym, 0));
        }
        if t.is_empty() {
            return None;
        }
        if n.starts_with(t.as_str()) {
            return Some((MatchKind::Prefix, n.len() - t.len()));
        }
        if n.contains(t.as_str()) {
            return Some((MatchKind::Substring, n.len() - t.len()));
        }
        let kn: Vec<char> = normalize(name).chars().collect();
        if kn == self.key && !kn.is_empty() {
            return Some((MatchKind::CloseSpelling, 0));
        }
        bounded_osa(&self.key, &kn, self.allowed).map(|d| (MatchKind::CloseSpelling, d))
    }
}

/// Ranks `name` (with optional `|`-separated synonyms) against a search `text`; `None` when it
/// does not match. The second value orders hits of the same kind (smaller is better). For
/// many names, prepare the text once with [`SearchText`].
#[cfg(test)]
pub fn rank(text: &str, name: &str, synonyms: Option<&str>) -> Option<(MatchKind, usize)> {
    SearchText::new(text).rank(name, synonyms)
}

/// The optimal-string-alignment distance of `a` and `b` (insertions, deletions,
/// substitutions, adjacent transpositions) if it is at most `k`, else `None` — in O(k·n) time:
/// only a band of width 2k+1 around the diagonal is computed, and the walk stops as soon as
/// the whole band exceeds `k`.
pub fn bounded_osa(a: &[char], b: &[char], k: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return None;
    }
    if n == 0 || m == 0 {
        return Some(n.max(m));
    }
    let inf = k + 1;
    // rows over b (0..=m); only the band |i - j| <= k is meaningful
    let mut prev2 = vec![inf; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| if j <= k { j } else { inf }).collect();
    let mut cur = vec![inf; m + 1];
    for i in 1..=n {
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        cur.iter_mut().for_each(|c| *c = inf);
        cur[0] = if i <= k { i } else { inf };
        let mut best = cur[0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d.min(inf);
            best = best.min(cur[j]);
        }
        if best > k {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= k).then_some(prev[m])
}

/// An identifier-safe key for a name: lower case, `_` for anything not alphanumeric, no
/// leading digit (`"Study 0: initial"` → `study_0_initial`).
pub fn lookup_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut last_underscore = true;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            key.push(c);
            last_underscore = false;
        } else if !last_underscore {
            key.push('_');
            last_underscore = true;
        }
    }
    while key.ends_with('_') {
        key.pop();
    }
    if key.is_empty() || key.starts_with(|c: char| c.is_numeric()) {
        key.insert(0, '_');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_names() {
        let idx = SimilarityIndex::new(&["project1", "setosa", "study0", "CD4"]);
        assert_eq!(idx.matches("project 1"), vec![0]);
        assert_eq!(idx.matches("Project-1"), vec![0]);
        assert_eq!(idx.matches("setossa"), vec![1]);
        assert_eq!(idx.matches("setsa"), vec![1]);
        assert!(
            idx.matches("study1").is_empty(),
            "digit series are not typos"
        );
        assert!(idx.matches("CD8").is_empty());
        assert!(idx.matches("virginica").is_empty());
        assert!(idx.matches("").is_empty());
    }

    #[test]
    fn ranking_order() {
        assert_eq!(rank("setosa", "setosa", None).unwrap().0, MatchKind::Exact);
        assert_eq!(
            rank("Setosa", "setosa", None).unwrap().0,
            MatchKind::ExactIgnoringCase
        );
        assert_eq!(
            rank("iris", "x", Some("a|Iris")).unwrap().0,
            MatchKind::Synonym
        );
        assert_eq!(rank("set", "setosa", None).unwrap().0, MatchKind::Prefix);
        assert_eq!(rank("tos", "setosa", None).unwrap().0, MatchKind::Substring);
        assert_eq!(
            rank("setsoa", "setosa", None).unwrap().0,
            MatchKind::CloseSpelling
        );
        assert_eq!(rank("banana", "setosa", None), None);
    }

    #[test]
    fn bounded_distance_agrees_with_strsim() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "setosa",
            "setsoa",
            "setoas",
            "versicolor",
            "virginica",
            "virginca",
            "xvirginica",
            "CD14",
            "CD41",
            "projectone",
        ];
        for a in words {
            for b in words {
                let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let full = strsim::osa_distance(a, b);
                for k in 0..5 {
                    let expected = (full <= k).then_some(full);
                    assert_eq!(bounded_osa(&ca, &cb, k), expected, "{a} {b} k={k}");
                }
            }
        }
    }

    #[test]
    fn long_search_texts_are_cheap() {
        let long = "x".repeat(5000);
        let q = SearchText::new(&long);
        let names: Vec<String> = (0..100_000).map(|i| format!("label number {i}")).collect();
        let t = std::time::Instant::now();
        let hits = names.iter().filter(|n| q.rank(n, None).is_some()).count();
        assert_eq!(hits, 0);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        // a close spelling among long names still matches
        let a = format!("{}b", "a".repeat(900));
        let b = format!("{}c", "a".repeat(900));
        assert_eq!(rank(&a, &b, None), Some((MatchKind::CloseSpelling, 1)));
    }

    #[test]
    fn lookup_keys() {
        assert_eq!(
            lookup_key("Study 0: initial plant gathering"),
            "study_0_initial_plant_gathering"
        );
        assert_eq!(lookup_key("iris_species_name"), "iris_species_name");
        assert_eq!(lookup_key("0abc"), "_0abc");
        assert_eq!(lookup_key("!!"), "_");
    }
}

#[cfg(test)]
mod similarity_props {
    use super::*;

    /// A small index (one name, as in a single create) takes the character-mask shortcut and
    /// still finds exactly what a brute-force comparison finds.
    #[test]
    fn small_index_agrees_with_brute_force() {
        let words = [
            "setosa",
            "setsoa",
            "set0sa",
            "setos",
            "setosaa",
            "xsetosa",
            "project1",
            "project 1",
            "abcd",
            "abdc",
            "study0",
            "study1",
            "sepal_length",
            "sepal_lenght",
            "zzzz",
        ];
        for w in words {
            let idx = SimilarityIndex::new(&[w]);
            for cand in words {
                let expected = similar_keys(&normalize(w), &normalize(cand));
                assert_eq!(!idx.matches(cand).is_empty(), expected, "{w} ~ {cand}");
            }
        }
    }

    /// The one-sort pairing finds exactly the pairs a brute-force comparison finds, within the
    /// new names and across to the old ones.
    #[test]
    fn pairs_agree_with_brute_force() {
        let mut words: Vec<String> = [
            "set0sa",
            "s3tosa",
            "bulk0000123",
            "bulk0000124",
            "bulk000123",
            "label_1a",
            "label_1b",
            "abcd1",
            "abdc1",
            "setosa",
            "setsoa",
            "setos",
            "setosaa",
            "xsetosa",
            "versicolor",
            "versicolr",
            "project1",
            "project 1",
            "Project-1",
            "project12",
            "abcd",
            "abce",
            "abc",
            "ab",
            "study0",
            "study1",
            "CD4",
            "CD8",
            "cd4",
            "sample٣",
            "samplex",
            "sepal_length",
            "sepal_lenght",
            "sepallength",
            "a1b2",
            "a1bb",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let alphabet: Vec<char> = "ab1é2xZ_".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let len = 3 + (next() % 6) as usize;
            let base: Vec<char> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let p = (next() % base.len() as u64) as usize;
            let mut sub = base.clone();
            sub[p] = alphabet[(next() % alphabet.len() as u64) as usize];
            let mut del = base.clone();
            del.remove(p);
            words.extend([base, sub, del].map(|v| v.into_iter().collect::<String>()));
        }
        let all: Vec<&str> = words.iter().map(String::as_str).collect();
        let (new, old) = all.split_at(all.len() / 2);
        let similar = |a: &str, b: &str| similar_keys(&normalize(a), &normalize(b));
        let mut within = Vec::new();
        let mut across = Vec::new();
        for (i, a) in new.iter().enumerate() {
            for (j, b) in new.iter().enumerate().skip(i + 1) {
                if similar(a, b) {
                    within.push((i, j));
                }
            }
            for (j, b) in old.iter().enumerate() {
                if similar(a, b) {
                    across.push((i, j));
                }
            }
        }
        assert!(within.len() + across.len() > 100);
        let mut got = similar_pairs(new, old);
        got.within.sort_unstable();
        got.across.sort_unstable();
        assert_eq!(got, SimilarPairs { within, across });
        let series: Vec<String> = (0..5000).map(|i| format!("label_{i:07}")).collect();
        let series: Vec<&str> = series.iter().map(String::as_str).collect();
        assert_eq!(similar_pairs(&series, &[]), SimilarPairs::default());
    }

    /// The anchored index finds exactly what a brute-force comparison finds.
    #[test]
    fn index_agrees_with_brute_force() {
        let words = [
            "set0sa",
            "s3tosa",
            "bulk0000123",
            "bulk0000124",
            "bulk000123",
            "label_1a",
            "label_1b",
            "abcd1",
            "abdc1",
            "setosa",
            "setsoa",
            "setos",
            "setosaa",
            "xsetosa",
            "versicolor",
            "versicolr",
            "virginica",
            "virginika",
            "project1",
            "project 1",
            "Project-1",
            "project12",
            "abcd",
            "abce",
            "abc",
            "ab",
            "study0",
            "study1",
            "CD4",
            "CD8",
            "cd4",
            "iris setosa",
            "irissetosa",
            "iris_setosa",
            "sepal_length",
            "sepal_lenght",
            "sepallength",
        ];
        let idx = SimilarityIndex::new(&words);
        for cand in words {
            let mut expected: Vec<usize> = (0..words.len())
                .filter(|&i| similar_keys(&normalize(words[i]), &normalize(cand)))
                .collect();
            expected.sort_unstable();
            assert_eq!(idx.matches(cand), expected, "candidate {cand}");
        }
    }
}

/// Whether `c` is invisible or changes how the text around it is shown: control and format
/// characters (zero-width spaces and joiners, bidi controls, the byte-order mark, soft
/// hyphens) and spaces other than the plain one.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00A0}' | '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}'
            | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{2000}'..='\u{200F}'
            | '\u{2028}'..='\u{202F}' | '\u{205F}'..='\u{206F}' | '\u{3000}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}')
}

/// Whether `c` is a bidirectional control (embedding, override, isolate or mark), which can
/// make text read differently from what it holds.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Letters of other scripts that look like Latin letters (Cyrillic and Greek look-alikes),
/// as a word mixing them with Latin letters may be a forgery of a Latin name.
fn is_latin_lookalike(c: char) -> bool {
    matches!(
        c,
        // Cyrillic
        'а' | 'в' | 'е' | 'к' | 'м' | 'н' | 'о' | 'р' | 'с' | 'т' | 'у' | 'х' | 'ѕ' | 'і' | 'ј'
        | 'ԁ' | 'ԛ' | 'ԝ' | 'ү' | 'һ' | 'ӏ'
        | 'А' | 'В' | 'Е' | 'К' | 'М' | 'Н' | 'О' | 'Р' | 'С' | 'Т' | 'У' | 'Х' | 'Ѕ' | 'І'
        | 'Ј' | 'Ԛ' | 'Ԝ' | 'Ү' | 'Һ' | 'Ӏ'
        // Greek
        | 'Α' | 'Β' | 'Ε' | 'Ζ' | 'Η' | 'Ι' | 'Κ' | 'Μ' | 'Ν' | 'Ο' | 'Ρ' | 'Τ' | 'Υ' | 'Χ'
        | 'ο' | 'ι' | 'ν'
    )
}

/// The look-alike letters of words that also hold Latin letters: `раypal` (a Cyrillic `р`
/// and `а`) gives those two; `α-synuclein` gives none (α looks like no Latin letter).
pub fn lookalikes(text: &str) -> Vec<char> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().any(|c| c.is_ascii_alphabetic()) {
            out.extend(word.chars().filter(|&c| is_latin_lookalike(c)));
        }
    }
    out
}

/// What makes `name` unfit as a record's name although it may look fine: a bidirectional
/// control (the text reads differently from what it holds), an invisible character, a form
/// other than Unicode NFC (the same letters written differently), letters that only look
/// Latin inside a Latin word. `None` when there is nothing of that kind.
pub fn unicode_problem(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|&c| is_bidi_control(c)) {
        return Some(format!(
            "holds the bidirectional control character U+{:04X}, which makes text read \
             differently from what it holds",
            c as u32
        ));
    }
    if let Some(c) = name.chars().find(|&c| is_invisible(c) && c != ' ') {
        return Some(format!("holds the invisible character U+{:04X}", c as u32));
    }
    if !unicode_normalization::is_nfc(name) {
        use unicode_normalization::UnicodeNormalization;
        let nfc: String = name.nfc().collect();
        return Some(format!(
            "is not in Unicode NFC form (its accents are separate characters); write it as \
             '{nfc}'"
        ));
    }
    let look = lookalikes(name);
    if !look.is_empty() {
        return Some(format!(
            "mixes Latin letters with letters of another script that look like them ({})",
            look.iter()
                .map(|c| format!("U+{:04X}", *c as u32))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}

/// `text` as a message shows it: invisible characters escaped (`\u{200b}`, `\n`), accents
/// written as separate characters escaped when the text is not in NFC form, letters that
/// only look Latin in a Latin word escaped, and text longer than `max` characters cut, with
/// its length named — so two values that print alike are told apart, and one huge value
/// does not flood a report.
pub fn shown(text: &str, max: usize) -> String {
    let decomposed = !unicode_normalization::is_nfc(text);
    let look = lookalikes(text);
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push_str(&format!("… ({} characters)", text.chars().count()));
            return out;
        }
        let combining = decomposed && unicode_normalization::char::is_combining_mark(c);
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_invisible(c) || combining || look.contains(&c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod look_alike_tests {
    use super::*;

    #[test]
    fn text_that_looks_alike_is_shown_apart() {
        let nfc = "caf\u{e9}";
        let nfd = "cafe\u{301}";
        assert_eq!(shown(nfc, 80), "café");
        assert_eq!(shown(nfd, 80), "cafe\\u{301}");
        assert_eq!(shown("s\u{435}tosa", 80), "s\\u{435}tosa");
        assert_eq!(shown("set\u{200b}osa", 80), "set\\u{200b}osa");
        assert_eq!(shown("\u{202e}asotes", 80), "\\u{202e}asotes");
        assert_eq!(shown("two\nlines", 80), "two\\nlines");
        // Greek letters in Latin words that look like no Latin letter stay as they are.
        assert_eq!(shown("α-synuclein", 80), "α-synuclein");
        assert_eq!(shown("IFN-γ", 80), "IFN-γ");
        // A Cyrillic word alone is Cyrillic, not a forgery.
        assert_eq!(shown("Моноцит", 80), "Моноцит");
    }

    #[test]
    fn names_that_lie_are_refused_with_the_reason() {
        assert!(unicode_problem("setosa").is_none());
        assert!(unicode_problem("α-synuclein").is_none());
        assert!(unicode_problem("Моноцит").is_none());
        assert!(
            unicode_problem("\u{202e}asotes")
                .unwrap()
                .contains("bidirectional")
        );
        assert!(
            unicode_problem("set\u{200b}osa")
                .unwrap()
                .contains("U+200B")
        );
        assert!(unicode_problem("cafe\u{301}").unwrap().contains("NFC"));
        assert!(unicode_problem("s\u{435}tosa").unwrap().contains("U+0435"));
    }
}
