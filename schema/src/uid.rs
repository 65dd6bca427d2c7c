//! Random base62 uids (SPEC §2) and version suffixes.

use rand::Rng;

/// The uid alphabet: digits, upper case, lower case (base62, LaminDB's order).
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Uid lengths per registry (SPEC §2).
pub mod len {
    /// User uids.
    pub const USER: usize = 8;
    /// Storage uids.
    pub const STORAGE: usize = 12;
    /// Transform uids (12 stem + 4 version suffix).
    pub const TRANSFORM: usize = 16;
    /// Run uids.
    pub const RUN: usize = 20;
    /// ULabel uids.
    pub const ULABEL: usize = 8;
    /// Feature uids.
    pub const FEATURE: usize = 12;
    /// FeatureSet uids.
    pub const FEATURE_SET: usize = 20;
    /// Artifact uids (16 stem + 4 version suffix).
    pub const ARTIFACT: usize = 20;
    /// Collection uids (16 stem + 4 version suffix).
    pub const COLLECTION: usize = 20;
    /// Instance uids.
    pub const INSTANCE: usize = 12;
}

/// A fresh random uid of `n` base62 characters.
///
/// ```
/// let uid = lamella_schema::base62_uid(8);
/// assert_eq!(uid.len(), 8);
/// assert!(uid.bytes().all(|b| b.is_ascii_alphanumeric()));
/// ```
pub fn base62_uid(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// Whether `s` is made only of base62 characters (a uid or a uid prefix).
pub fn is_base62(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The next version suffix after `suffix` in base62 order (`"0000"` → `"0001"`, `"000z"` →
/// `"0010"`); `None` when the suffix is not base62 or is already `"zzzz"`.
pub fn increment_base62(suffix: &str) -> Option<String> {
    let mut digits: Vec<usize> = suffix
        .bytes()
        .map(|b| BASE62.iter().position(|&c| c == b))
        .collect::<Option<_>>()?;
    for d in digits.iter_mut().rev() {
        if *d + 1 < BASE62.len() {
            *d += 1;
            return Some(digits.iter().map(|&i| BASE62[i] as char).collect());
        }
        *d = 0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_have_requested_length_and_alphabet() {
        for n in [8, 12, 16, 20] {
            let u = base62_uid(n);
            assert_eq!(u.len(), n);
            assert!(is_base62(&u));
        }
        assert_ne!(base62_uid(20), base62_uid(20));
    }

    #[test]
    fn increments_in_base62_order() {
        assert_eq!(increment_base62("0000").as_deref(), Some("0001"));
        assert_eq!(increment_base62("0009").as_deref(), Some("000A"));
        assert_eq!(increment_base62("000z").as_deref(), Some("0010"));
        assert_eq!(increment_base62("zzzz"), None);
        assert_eq!(increment_base62("00-0"), None);
    }

    #[test]
    fn base62_check() {
        assert!(is_base62("aZ09"));
        assert!(!is_base62(""));
        assert!(!is_base62("ab_c"));
    }
}
