//! Minimum and maximum of string and binary column chunks, computed here instead of by
//! arrow-rs's column writer.
//!
//! arrow-rs compares every value with the running minimum and maximum through a `memcmp` call
//! each (two per row); on a concatenating export whose one string column has few distinct
//! values that was 8 % of all the work. Here a value is first compared by its first 16 bytes
//! as one big-endian integer (and its length), which decides every comparison of values of
//! at most 16 bytes and most others; only values that share those 16 bytes are compared in
//! full.
//!
//! The writer turns arrow-rs's statistics off for these columns ([`own_statistics`]) and the
//! encoder sets the result on each column chunk ([`ByteStats::statistics`]), truncated to
//! [`TRUNCATE_LENGTH`] bytes exactly as arrow-rs truncates: a shortened minimum is a prefix,
//! a shortened maximum is a prefix with its last character (byte, for binary) incremented,
//! and both are then flagged as inexact.

use arrow::array::{Array, ArrayRef, AsArray, GenericByteArray, GenericByteViewArray};
use arrow::datatypes::{ArrowNativeType, ByteArrayType, ByteViewType, DataType};
use parquet::data_type::ByteArray;
use parquet::file::statistics::{Statistics, ValueStatistics};

/// The longest minimum or maximum kept in the statistics, in bytes: arrow-rs's default
/// (`DEFAULT_STATISTICS_TRUNCATE_LENGTH`).
pub(crate) const TRUNCATE_LENGTH: usize = 64;

/// Whether a top-level column of type `t` gets its statistics from [`ByteStats`], and if so
/// whether its values are UTF-8 (which decides how a long maximum is shortened): strings and
/// binaries, also dictionary-encoded. Nested columns keep arrow-rs's statistics.
pub(crate) fn own_statistics(t: &DataType) -> Option<bool> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(true),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Some(false),
        DataType::Dictionary(_, values) => own_statistics(values),
        _ => None,
    }
}

/// The running minimum, maximum and null count of one column chunk.
#[derive(Debug, Clone)]
pub(crate) struct ByteStats {
    utf8: bool,
    min: Option<Vec<u8>>,
    max: Option<Vec<u8>>,
    nulls: u64,
}

/// A value's sort key: its first 16 bytes, big-endian, zero-padded.
#[inline]
fn key_of(v: &[u8]) -> u128 {
    if let Some(head) = v.first_chunk::<16>() {
        return u128::from_be_bytes(*head);
    }
    let mut buf = [0u8; 16];
    buf[..v.len()].copy_from_slice(v);
    u128::from_be_bytes(buf)
}

/// The key of the value at `start..start + len` of `values`, read without a copy when 16
/// bytes are there to read.
#[inline]
fn key_at(values: &[u8], start: usize, len: usize) -> u128 {
    match values.get(start..start + 16) {
        Some(head) => {
            let raw = u128::from_be_bytes(head.try_into().expect("16 bytes"));
            if len >= 16 {
                raw
            } else {
                // Keep the value's own `len` leading bytes (`len` < 16, so the shift is < 128).
                raw & !(u128::MAX >> (len * 8))
            }
        }
        None => key_of(&values[start..start + len]),
    }
}

/// `a < b` in byte order, given their keys. Equal keys with either value at most 16 bytes
/// long mean one is a prefix of the other (the key pads with zeros), so the shorter is the
/// smaller.
#[inline]
fn less(ka: u128, a: &[u8], kb: u128, b: &[u8]) -> bool {
    if ka != kb {
        return ka < kb;
    }
    if a.len() <= 16 || b.len() <= 16 {
        return a.len() < b.len();
    }
    a[16..] < b[16..]
}

/// The smallest and largest of some values, borrowed from the array being scanned.
struct Extremes<'a> {
    min: (u128, &'a [u8]),
    max: (u128, &'a [u8]),
}

impl<'a> Extremes<'a> {
    #[inline]
    fn new(key: u128, v: &'a [u8]) -> Self {
        Extremes {
            min: (key, v),
            max: (key, v),
        }
    }

    #[inline]
    fn add(&mut self, key: u128, v: &'a [u8]) {
        if less(key, v, self.min.0, self.min.1) {
            self.min = (key, v);
        } else if less(self.max.0, self.max.1, key, v) {
            self.max = (key, v);
        }
    }
}

/// Folds `f(i)` — the key and bytes of value `i` — over the valid indices of an array of
/// `len` values with `nulls`.
fn extremes<'a>(
    len: usize,
    nulls: Option<&arrow::buffer::NullBuffer>,
    f: impl Fn(usize) -> (u128, &'a [u8]),
) -> Option<Extremes<'a>> {
    let mut acc: Option<Extremes<'a>> = None;
    let mut visit = |i: usize| {
        let (k, v) = f(i);
        match acc.as_mut() {
            Some(e) => e.add(k, v),
            None => acc = Some(Extremes::new(k, v)),
        }
    };
    match nulls.filter(|n| n.null_count() > 0) {
        None => (0..len).for_each(&mut visit),
        Some(n) => n.valid_indices().for_each(&mut visit),
    }
    acc
}

fn offsets_extremes<T: ByteArrayType>(a: &GenericByteArray<T>) -> Option<Extremes<'_>> {
    let offsets = a.value_offsets();
    let values: &[u8] = a.value_data();
    if a.null_count() > 0 {
        return extremes(a.len(), a.nulls(), |i| {
            let start = offsets[i].as_usize();
            let len = offsets[i + 1].as_usize() - start;
            (key_at(values, start, len), &values[start..start + len])
        });
    }
    // No nulls: one pass over the offsets with the extremes kept as positions. A value is
    // ordered by its tag — its key and its length, counted up to 17 — which orders values of
    // at most 16 bytes completely; a value whose tag lies strictly between the extremes'
    // tags, or equals one of them and is at most 16 bytes long, changes nothing.
    let tag = |start: usize, end: usize| {
        let len = end - start;
        (key_at(values, start, len), len.min(17))
    };
    let mut pairs = offsets.windows(2);
    let first = pairs.next()?;
    let (start, end) = (first[0].as_usize(), first[1].as_usize());
    let t = tag(start, end);
    let (mut min, mut max) = ((t, start, end), (t, start, end));
    for pair in pairs {
        let (start, end) = (pair[0].as_usize(), pair[1].as_usize());
        let t = tag(start, end);
        if t >= min.0 && t <= max.0 && (t.1 <= 16 || (t != min.0 && t != max.0)) {
            continue;
        }
        let v = &values[start..end];
        if less(t.0, v, min.0.0, &values[min.1..min.2]) {
            min = (t, start, end);
        } else if less(max.0.0, &values[max.1..max.2], t.0, v) {
            max = (t, start, end);
        }
    }
    Some(Extremes {
        min: (min.0.0, &values[min.1..min.2]),
        max: (max.0.0, &values[max.1..max.2]),
    })
}

fn view_extremes<T: ByteViewType + ?Sized>(a: &GenericByteViewArray<T>) -> Option<Extremes<'_>> {
    extremes(a.len(), a.nulls(), |i| {
        let v: &[u8] = a.value(i).as_ref();
        (key_of(v), v)
    })
}

/// The extremes of the values of `values` at the positions some valid key of a dictionary
/// points to: each distinct value is compared once, whatever the number of rows.
fn dictionary_extremes<'a>(used: &[bool], values: &'a ArrayRef) -> Option<(&'a [u8], &'a [u8])> {
    let bytes = |i: usize| -> Option<&'a [u8]> {
        if !used[i] || values.is_null(i) {
            return None;
        }
        Some(match values.data_type() {
            DataType::Utf8 => values.as_string::<i32>().value(i).as_bytes(),
            DataType::LargeUtf8 => values.as_string::<i64>().value(i).as_bytes(),
            DataType::Utf8View => values.as_string_view().value(i).as_bytes(),
            DataType::Binary => values.as_binary::<i32>().value(i),
            DataType::LargeBinary => values.as_binary::<i64>().value(i),
            DataType::BinaryView => values.as_binary_view().value(i),
            _ => return None,
        })
    };
    let mut acc: Option<Extremes<'a>> = None;
    for v in (0..values.len()).filter_map(bytes) {
        let k = key_of(v);
        match acc.as_mut() {
            Some(e) => e.add(k, v),
            None => acc = Some(Extremes::new(k, v)),
        }
    }
    acc.map(|e| (e.min.1, e.max.1))
}

impl ByteStats {
    /// Empty statistics for a column whose values are UTF-8 (`utf8`) or raw bytes.
    pub(crate) fn new(utf8: bool) -> Self {
        ByteStats {
            utf8,
            min: None,
            max: None,
            nulls: 0,
        }
    }

    /// Takes the values of `array` (a column [`own_statistics`] accepts) into account.
    pub(crate) fn update(&mut self, array: &dyn Array) {
        let found = match array.data_type() {
            DataType::Utf8 => offsets_extremes(array.as_string::<i32>()),
            DataType::LargeUtf8 => offsets_extremes(array.as_string::<i64>()),
            DataType::Binary => offsets_extremes(array.as_binary::<i32>()),
            DataType::LargeBinary => offsets_extremes(array.as_binary::<i64>()),
            DataType::Utf8View => view_extremes(array.as_string_view()),
            DataType::BinaryView => view_extremes(array.as_binary_view()),
            DataType::Dictionary(_, _) => {
                // Logical nulls: a valid key to a null value is a null row, as the writer
                // counts it.
                let dict = array.as_any_dictionary();
                let values = dict.values();
                // A dictionary with no values has only null rows.
                self.nulls += array.logical_null_count() as u64;
                if values.is_empty() {
                    return;
                }
                let mut used = vec![false; values.len()];
                let keys = dict.normalized_keys();
                match dict.keys().nulls().filter(|n| n.null_count() > 0) {
                    None => keys.iter().for_each(|&k| used[k] = true),
                    Some(n) => n.valid_indices().for_each(|i| used[keys[i]] = true),
                }
                if let Some((min, max)) = dictionary_extremes(&used, values) {
                    self.merge(min, max);
                }
                return;
            }
            _ => None,
        };
        self.nulls += array.null_count() as u64;
        if let Some(e) = found {
            self.merge(e.min.1, e.max.1);
        }
    }

    fn merge(&mut self, min: &[u8], max: &[u8]) {
        if self.min.as_deref().is_none_or(|m| min < m) {
            self.min = Some(min.to_vec());
        }
        if self.max.as_deref().is_none_or(|m| max > m) {
            self.max = Some(max.to_vec());
        }
    }

    /// The chunk's statistics, as arrow-rs writes them for a byte-array column: exact when
    /// the values fit [`TRUNCATE_LENGTH`], else shortened and flagged inexact.
    pub(crate) fn statistics(self) -> Statistics {
        let (Some(min), Some(max)) = (self.min, self.max) else {
            return Statistics::ByteArray(ValueStatistics::new(
                None,
                None,
                None,
                Some(self.nulls),
                false,
            ));
        };
        let (min, min_cut) = match shorten_min(&min, self.utf8) {
            Some(short) => (short, true),
            None => (min, false),
        };
        let (max, max_cut) = match shorten_max(&max, self.utf8) {
            Some(short) => (short, true),
            None => (max, false),
        };
        Statistics::ByteArray(
            ValueStatistics::new(
                Some(ByteArray::from(min)),
                Some(ByteArray::from(max)),
                None,
                Some(self.nulls),
                false,
            )
            .with_min_is_exact(!min_cut)
            .with_max_is_exact(!max_cut),
        )
    }
}

/// A lower bound of `v` of at most [`TRUNCATE_LENGTH`] bytes (a prefix, cut at a character
/// boundary when `v` is UTF-8), or `None` when `v` is short enough to keep.
fn shorten_min(v: &[u8], utf8: bool) -> Option<Vec<u8>> {
    if v.len() <= TRUNCATE_LENGTH {
        return None;
    }
    match std::str::from_utf8(v) {
        Ok(s) if utf8 => {
            let cut = (1..=TRUNCATE_LENGTH).rfind(|&i| s.is_char_boundary(i))?;
            Some(v[..cut].to_vec())
        }
        _ => Some(v[..TRUNCATE_LENGTH].to_vec()),
    }
}

/// An upper bound of `v` of at most [`TRUNCATE_LENGTH`] bytes — a prefix whose last
/// character (byte, for binary) is incremented — or `None` when `v` is short enough to keep
/// or no such bound exists.
fn shorten_max(v: &[u8], utf8: bool) -> Option<Vec<u8>> {
    if v.len() <= TRUNCATE_LENGTH {
        return None;
    }
    match std::str::from_utf8(v) {
        Ok(s) if utf8 => {
            // A character is at most 4 bytes: some boundary lies in the last 4 positions.
            let cut = (TRUNCATE_LENGTH.saturating_sub(3)..=TRUNCATE_LENGTH)
                .rfind(|&i| s.is_char_boundary(i))?;
            let prefix = &s[..cut];
            // The last character that has a successor of the same width is incremented and
            // what follows it dropped.
            prefix.char_indices().rev().find_map(|(at, c)| {
                let next = char::from_u32(c as u32 + 1).filter(|n| n.len_utf8() == c.len_utf8())?;
                let mut out = prefix.as_bytes()[..at].to_vec();
                out.extend_from_slice(next.encode_utf8(&mut [0u8; 4]).as_bytes());
                Some(out)
            })
        }
        _ => {
            let mut out = v[..TRUNCATE_LENGTH].to_vec();
            // Increment from the right, carrying over bytes that overflow.
            for b in out.iter_mut().rev() {
                let (next, overflow) = b.overflowing_add(1);
                *b = next;
                if !overflow {
                    return Some(out);
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_values_like_their_bytes() {
        let vals: [&[u8]; 9] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"ab",
            b"abcdefghijklmnop",
            b"abcdefghijklmnop\0",
            b"abcdefghijklmnopq",
            b"\xff",
        ];
        for a in vals {
            for b in vals {
                assert_eq!(less(key_of(a), a, key_of(b), b), a < b, "{a:?} < {b:?}");
            }
        }
        let buf = b"xyzabcdefghijklmnopqrstuvwxyz";
        for start in 0..buf.len() {
            for len in 0..=buf.len() - start {
                assert_eq!(
                    key_at(buf, start, len),
                    key_of(&buf[start..start + len]),
                    "{start} {len}"
                );
            }
        }
    }

    #[test]
    fn long_extremes_are_shortened_to_bounds() {
        let long = "é".repeat(40); // 80 bytes
        let min = shorten_min(long.as_bytes(), true).unwrap();
        assert_eq!(min, "é".repeat(32).as_bytes());
        let max = shorten_max(long.as_bytes(), true).unwrap();
        assert!(max.as_slice() > long.as_bytes());
        assert!(std::str::from_utf8(&max).is_ok());
        assert_eq!(shorten_max(&[0xff; 70], false), None);
        assert_eq!(shorten_min(b"short", true), None);
    }
}
