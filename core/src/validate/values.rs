//! The distinct values of an Arrow column, with counts, first row numbers and (on request)
//! each row's code: validation works per distinct value, never per row.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::DataType;
use foldhash::fast::RandomState;

use crate::error::{Error, Result};

/// Row numbers kept per distinct value (the report shows the first ones).
pub(crate) const ROWS_KEPT: usize = 5;
/// The code of a null row.
pub(crate) const NULL: u32 = u32::MAX;
/// Text columns this long are split over the cores.
const PARALLEL_ROWS: usize = 256 * 1024;
/// ... when there are this many: with two, merging the halves costs what splitting saves (1M
/// rows of 10k values on a 2-core machine: 13 ms in one pass, 17–21 ms in two halves and a
/// merge).
const PARALLEL_THREADS: usize = 4;

/// The distinct non-null values of a column, in first-seen order.
#[derive(Debug, Default)]
pub(crate) struct Distinct {
    /// The values.
    pub values: Vec<String>,
    /// Rows holding each value.
    pub counts: Vec<usize>,
    /// The first rows (0-based) holding each value, at most [`ROWS_KEPT`].
    pub rows: Vec<Vec<usize>>,
    /// Each row's index into `values` ([`NULL`] for nulls), when asked for.
    pub codes: Vec<u32>,
    /// How many rows `rows` holds per value (a byte each, so the hot loop stays in cache).
    kept: Vec<u8>,
    /// Rows left out of `values` by a bounded collection ([`failing`]).
    pub uncounted: usize,
}

impl Distinct {
    #[inline]
    fn see(&mut self, code: u32, row: usize) {
        let c = code as usize;
        self.counts[c] += 1;
        if usize::from(self.kept[c]) < ROWS_KEPT {
            self.kept[c] += 1;
            self.rows[c].push(row);
        }
    }

    fn add(&mut self, value: &str, row: usize) -> u32 {
        self.values.push(value.to_string());
        self.counts.push(0);
        self.rows.push(Vec::new());
        self.kept.push(0);
        let code = (self.values.len() - 1) as u32;
        self.see(code, row);
        code
    }
}

/// The distinct values of a text or dictionary column (other types are cast to text).
/// `codes` keeps each row's code (4 bytes per row).
pub(crate) fn distinct(column: &dyn Array, codes: bool) -> Result<Distinct> {
    let text = matches!(
        column.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let threads = rayon::current_num_threads();
    if text && threads >= PARALLEL_THREADS && column.len() >= PARALLEL_ROWS {
        return Ok(parallel(column, codes, threads));
    }
    match column.data_type() {
        DataType::Utf8 => Ok(of_strings::<true>(column.as_string::<i32>().iter(), codes)),
        DataType::LargeUtf8 => Ok(of_strings::<true>(column.as_string::<i64>().iter(), codes)),
        DataType::Utf8View => Ok(of_strings::<true>(column.as_string_view().iter(), codes)),
        DataType::Dictionary(_, _) => of_dictionary(column, codes),
        _ => {
            let text = arrow::compute::cast(column, &DataType::Utf8)?;
            Ok(of_strings::<true>(text.as_string::<i32>().iter(), codes))
        }
    }
}

/// The distinct values of a column and each row's code, without counts or first rows (all
/// `validate` needs): per text row one hash lookup and one push.
pub(crate) fn codes(column: &dyn Array) -> Result<Distinct> {
    match column.data_type() {
        DataType::Utf8 => Ok(of_strings::<false>(column.as_string::<i32>().iter(), true)),
        DataType::LargeUtf8 => Ok(of_strings::<false>(column.as_string::<i64>().iter(), true)),
        DataType::Utf8View => Ok(of_strings::<false>(column.as_string_view().iter(), true)),
        _ => distinct(column, true),
    }
}

/// A long text column in one slice per core, merged in row order (so first-seen order, counts,
/// first rows and codes equal the sequential result).
fn parallel(column: &dyn Array, codes: bool, threads: usize) -> Distinct {
    use rayon::prelude::*;
    let n = column.len();
    let size = n.div_ceil(threads);
    let parts: Vec<(usize, Distinct)> = (0..threads)
        .into_par_iter()
        .map(|k| {
            let start = (k * size).min(n);
            let slice = column.slice(start, size.min(n - start));
            let d = match slice.data_type() {
                DataType::Utf8 => of_strings::<true>(slice.as_string::<i32>().iter(), codes),
                DataType::LargeUtf8 => of_strings::<true>(slice.as_string::<i64>().iter(), codes),
                _ => of_strings::<true>(slice.as_string_view().iter(), codes),
            };
            (start, d)
        })
        .collect();
    let mut out = Distinct::default();
    let mut index: HashMap<String, u32, RandomState> = HashMap::default();
    for (start, part) in parts {
        let remap: Vec<u32> = part
            .values
            .into_iter()
            .zip(part.counts)
            .zip(part.rows)
            .map(|((v, count), rows)| {
                let code = *index.entry(v).or_insert_with_key(|v| {
                    out.values.push(v.clone());
                    out.counts.push(0);
                    out.rows.push(Vec::new());
                    (out.values.len() - 1) as u32
                });
                let c = code as usize;
                out.counts[c] += count;
                for r in rows {
                    if out.rows[c].len() < ROWS_KEPT {
                        out.rows[c].push(start + r);
                    }
                }
                code
            })
            .collect();
        if codes {
            out.codes.extend(
                part.codes
                    .iter()
                    .map(|&c| if c == NULL { NULL } else { remap[c as usize] }),
            );
        }
    }
    out
}

/// The distinct elements of a list column (`list[str]`, lists of dictionaries, …; elements
/// cast to text), each counted once per list that holds it, with the first rows (lists)
/// holding it.
pub(crate) fn distinct_elements(column: &dyn Array) -> Result<Distinct> {
    use arrow::array::AsArray;
    let (offsets, values): (Vec<usize>, ArrayRef) = match column.data_type() {
        DataType::List(_) => {
            let l = column.as_list::<i32>();
            (
                l.value_offsets().iter().map(|&o| o as usize).collect(),
                l.values().clone(),
            )
        }
        DataType::LargeList(_) => {
            let l = column.as_list::<i64>();
            (
                l.value_offsets().iter().map(|&o| o as usize).collect(),
                l.values().clone(),
            )
        }
        _ => return distinct(column, false),
    };
    let elements = distinct(values.as_ref(), true)?;
    let mut d = Distinct::default();
    let mut renumber: Vec<u32> = vec![NULL; elements.values.len()];
    let mut seen_in_row: Vec<usize> = vec![usize::MAX; elements.values.len()];
    for row in 0..column.len() {
        if column.is_null(row) {
            continue;
        }
        for &code in &elements.codes[offsets[row]..offsets[row + 1]] {
            if code == NULL {
                continue;
            }
            let e = code as usize;
            if seen_in_row[e] == row {
                continue;
            }
            seen_in_row[e] = row;
            if renumber[e] == NULL {
                renumber[e] = d.add(&elements.values[e], row);
            } else {
                d.see(renumber[e], row);
            }
        }
    }
    Ok(d)
}

/// The values of a text column (others cast to text) for which `bad` holds, row by row, with
/// at most `limit` distinct values kept (the rows of the others are counted in `uncounted`):
/// memory stays bounded for columns of unique values.
pub(crate) fn failing(
    column: &dyn Array,
    bad: impl Fn(&str) -> bool,
    limit: usize,
) -> Result<Distinct> {
    let text;
    let column = match column.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => column,
        _ => {
            text = arrow::compute::cast(column, &DataType::Utf8)?;
            text.as_ref()
        }
    };
    let mut d = Distinct::default();
    let mut index: HashMap<String, u32, RandomState> = HashMap::default();
    let mut visit = |row: usize, v: Option<&str>| {
        let Some(v) = v else { return };
        if !bad(v) {
            return;
        }
        match index.get(v) {
            Some(&c) => d.see(c, row),
            None if d.values.len() < limit => {
                let c = d.add(v, row);
                index.insert(v.to_string(), c);
            }
            None => d.uncounted += 1,
        }
    };
    match column.data_type() {
        DataType::Utf8 => column
            .as_string::<i32>()
            .iter()
            .enumerate()
            .for_each(|(r, v)| visit(r, v)),
        DataType::LargeUtf8 => column
            .as_string::<i64>()
            .iter()
            .enumerate()
            .for_each(|(r, v)| visit(r, v)),
        _ => column
            .as_string_view()
            .iter()
            .enumerate()
            .for_each(|(r, v)| visit(r, v)),
    }
    Ok(d)
}

/// Text values as an Arrow array (the slices callers pass to `validate`).
pub(crate) fn to_array<S: AsRef<str>>(values: &[S]) -> StringArray {
    StringArray::from_iter_values(values.iter().map(|v| v.as_ref()))
}

fn of_strings<'a, const TALLY: bool>(
    values: impl Iterator<Item = Option<&'a str>>,
    codes: bool,
) -> Distinct {
    let mut d = Distinct::default();
    if codes {
        d.codes.reserve(values.size_hint().0);
    }
    let mut index: HashMap<&'a str, u32, RandomState> =
        HashMap::with_capacity_and_hasher(1024, RandomState::default());
    for (row, v) in values.enumerate() {
        let code = match v {
            None => NULL,
            Some(v) => match index.get(v) {
                Some(&c) => {
                    if TALLY {
                        d.see(c, row);
                    }
                    c
                }
                None => {
                    let c = if TALLY {
                        d.add(v, row)
                    } else {
                        d.values.push(v.to_string());
                        (d.values.len() - 1) as u32
                    };
                    index.insert(v, c);
                    c
                }
            },
        };
        if codes {
            d.codes.push(code);
        }
    }
    d
}

/// Dictionary columns: the work is per dictionary entry, then one pass over the keys.
fn of_dictionary(column: &dyn Array, codes: bool) -> Result<Distinct> {
    let dict = column.as_any_dictionary();
    let values = distinct(dict.values().as_ref(), true)?;
    let keys = arrow::compute::cast(dict.keys(), &DataType::UInt32)?;
    let keys = keys.as_primitive::<arrow::datatypes::UInt32Type>();
    // Dictionary entries may repeat and may be unused: renumber in first-seen row order.
    let mut renumber: Vec<u32> = vec![NULL; values.values.len()];
    let mut d = Distinct::default();
    for (row, k) in keys.iter().enumerate() {
        let value_null = k.is_some_and(|k| values.codes.get(k as usize) == Some(&NULL));
        let code = match k {
            Some(k) if !value_null => {
                let Some(&entry) = values.codes.get(k as usize) else {
                    return Err(Error::Corrupt {
                        what: "a dictionary column".into(),
                        message: format!("key {k} beyond its {} values", values.codes.len()),
                        advice: "the table is corrupt; write it again",
                    });
                };
                let e = entry as usize;
                if renumber[e] == NULL {
                    renumber[e] = d.add(&values.values[e], row);
                } else {
                    d.see(renumber[e], row);
                }
                renumber[e]
            }
            _ => NULL,
        };
        if codes {
            d.codes.push(code);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::DictionaryArray;
    use arrow::datatypes::Int8Type;

    #[test]
    fn counts_rows_and_codes() {
        let a = StringArray::from(vec![Some("b"), None, Some("a"), Some("b")]);
        let d = distinct(&a, true).unwrap();
        assert_eq!(d.values, ["b", "a"]);
        assert_eq!(d.counts, [2, 1]);
        assert_eq!(d.rows, [vec![0, 3], vec![2]]);
        assert_eq!(d.codes, [0, NULL, 1, 0]);
    }

    #[test]
    fn dictionaries_with_repeats_and_unused_entries() {
        let a: DictionaryArray<Int8Type> = vec![Some("x"), Some("y"), None, Some("x")]
            .into_iter()
            .collect();
        let d = distinct(&a, true).unwrap();
        assert_eq!(d.values, ["x", "y"]);
        assert_eq!(d.counts, [2, 1]);
        assert_eq!(d.codes, [0, 1, NULL, 0]);
        let ints = arrow::array::Int64Array::from(vec![3, 3, 4]);
        // The parallel path gives the sequential result.
        let long: StringArray = (0..PARALLEL_ROWS + 1000)
            .map(|i| (i % 11 != 0).then(|| format!("v{}", (i * 7) % 1013)))
            .collect();
        let (a, b) = (
            distinct(&long, true).unwrap(),
            of_strings::<true>(long.iter(), true),
        );
        assert_eq!(
            (a.values, a.counts, a.rows, a.codes),
            (b.values, b.counts, b.rows, b.codes)
        );
        assert_eq!(distinct(&ints, false).unwrap().values, ["3", "4"]);
    }
}
