//! Pure functions on names: similarity (to warn about near-duplicates), search ranking and
//! identifier-safe lookup keys.

use std::collections::HashMap;

/// The comparison key of a name: lower case, letters and digits only, so `Project 1`,
/// `project-1` and `project1` share one key.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn deletions(key: &[char]) -> impl Iterator<Item = String> + '_ {
    (0..key.len()).map(move |i| {
        key.iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| *c)
            .collect()
    })
}

/// Whether two normalized keys are "similar": equal, or one edit apart when long enough —
/// except names that differ only in their digits (`study0` / `study1`, `CD4` / `CD8`), which
/// are deliberate series, not typos.
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

/// Finds, for new names, the similar names among a set of candidates — in time linear in the
/// number of candidates (a one-deletion neighbourhood index of the new names), so that bulk
/// saves stay fast however large the registry.
#[derive(Debug, Default)]
pub struct SimilarityIndex {
    keys: Vec<String>,
    by_variant: HashMap<String, Vec<usize>>,
}

impl SimilarityIndex {
    /// Indexes the names to be checked.
    pub fn new<S: AsRef<str>>(names: &[S]) -> SimilarityIndex {
        let mut idx = SimilarityIndex::default();
        for (i, n) in names.iter().enumerate() {
            let key = normalize(n.as_ref());
            let chars: Vec<char> = key.chars().collect();
            idx.by_variant.entry(key.clone()).or_default().push(i);
            if chars.len() >= 4 {
                for v in deletions(&chars) {
                    idx.by_variant.entry(v).or_default().push(i);
                }
            }
            idx.keys.push(key);
        }
        idx
    }

    /// The indexes of the indexed names similar to `candidate`.
    pub fn matches(&self, candidate: &str) -> Vec<usize> {
        let key = normalize(candidate);
        let chars: Vec<char> = key.chars().collect();
        let mut hits: Vec<usize> = Vec::new();
        let mut probe = |v: &str| {
            if let Some(ids) = self.by_variant.get(v) {
                hits.extend(ids.iter().copied());
            }
        };
        probe(&key);
        if chars.len() >= 4 {
            for v in deletions(&chars) {
                probe(&v);
            }
        }
        hits.sort_unstable();
        hits.dedup();
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
