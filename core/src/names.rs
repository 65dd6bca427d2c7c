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
fn similar_keys(a: &str, b: &str) -> bool {
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

/// Calls `f(kind, fingerprint)` for every one-edit variant of `key` that involves a letter
/// (and, for substitutions, digit wildcards too). Polynomial prefix hashes make each variant's
/// fingerprint O(1); equal fingerprints are verified by the caller.
fn variants(key: &[char], with_swaps: bool, mut f: impl FnMut(u64, u64)) {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<u64>)> =
            const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    SCRATCH.with(|scratch| {
        let (pow, pre) = &mut *scratch.borrow_mut();
        variants_with(key, with_swaps, pow, pre, &mut f);
    });
}

fn variants_with(
    key: &[char],
    with_swaps: bool,
    pow: &mut Vec<u64>,
    pre: &mut Vec<u64>,
    f: &mut impl FnMut(u64, u64),
) {
    let n = key.len();
    let c = |i: usize| u64::from(key[i]) + 1;
    // pow[i] = BASE^i; pre[i] = hash of key[..i] (buffers reused across calls)
    pow.clear();
    pre.clear();
    pow.push(1u64);
    pre.push(0u64);
    for i in 0..n {
        pow.push(pow[i].wrapping_mul(BASE));
        pre.push(pre[i].wrapping_mul(BASE).wrapping_add(c(i)));
    }
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

/// A hasher for keys that are already well-mixed fingerprints.
#[derive(Default, Clone, Copy)]
struct Identity(u64);

impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type FpMap = std::collections::HashMap<u64, Vec<u32>, std::hash::BuildHasherDefault<Identity>>;

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
    exact: FpMap,
    /// Fingerprints of wildcard variants at letters.
    wild_letters: FpMap,
    /// Fingerprints of wildcard variants at digits.
    wild_digits: FpMap,
}

impl SimilarityIndex {
    /// Indexes the names to be checked.
    pub fn new<S: AsRef<str>>(names: &[S]) -> SimilarityIndex {
        let mut idx = SimilarityIndex::default();
        for (i, n) in names.iter().enumerate() {
            let key = normalize(n.as_ref());
            let chars: Vec<char> = key.chars().collect();
            idx.masks.push(char_mask(&chars));
            if !chars.is_empty() {
                let i = i as u32;
                variants(&chars, false, |kind, fp| {
                    let map = match kind {
                        WILD_LETTER => &mut idx.wild_letters,
                        WILD_DIGIT => &mut idx.wild_digits,
                        _ => &mut idx.exact,
                    };
                    let bucket = map.entry(fp).or_default();
                    if bucket.last() != Some(&i) {
                        bucket.push(i);
                    }
                });
            }
            idx.keys.push(key);
        }
        idx
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
        let mut probe = |map: &FpMap, fp: u64| {
            if let Some(ids) = map.get(&fp) {
                hits.extend(ids.iter().map(|&i| i as usize));
            }
        };
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

/// Ranks `name` (with optional `|`-separated synonyms) against a search `text`; `None` when it
/// does not match. The second value orders hits of the same kind (smaller is better).
pub fn rank(text: &str, name: &str, synonyms: Option<&str>) -> Option<(MatchKind, usize)> {
    if name == text {
        return Some((MatchKind::Exact, 0));
    }
    let t = text.to_lowercase();
    let n = name.to_lowercase();
    if n == t {
        return Some((MatchKind::ExactIgnoringCase, 0));
    }
    if let Some(syn) = synonyms
        && syn.split('|').any(|s| s.trim().to_lowercase() == t)
    {
        return Some((MatchKind::Synonym, 0));
    }
    if t.is_empty() {
        return None;
    }
    if n.starts_with(&t) {
        return Some((MatchKind::Prefix, n.len() - t.len()));
    }
    if n.contains(&t) {
        return Some((MatchKind::Substring, n.len() - t.len()));
    }
    let (kt, kn) = (normalize(text), normalize(name));
    if kt == kn && !kt.is_empty() {
        return Some((MatchKind::CloseSpelling, 0));
    }
    let d = strsim::osa_distance(&kt, &kn);
    let allowed = (kt.chars().count() / 4).max(1);
    (d <= allowed).then_some((MatchKind::CloseSpelling, d))
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
