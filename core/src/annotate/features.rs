//! `Feature.from_df`: one feature per column of a table, with the dtype inferred from the
//! column's Arrow type and values.

use std::collections::HashSet;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use lamella_schema::{Dtype, Feature};

use crate::error::{Error, Result};
use crate::registry::{Features, SavedAll};

/// The dtype SPEC §5 infers for a column: dictionary-encoded strings, or strings that repeat
/// (at most half as many distinct values as non-null rows), are `cat`; other strings `str`;
/// integers `int`; floats and decimals `float`; booleans `bool`; dates `date`; timestamps
/// `datetime`; lists `list[<inner>]`. Other Arrow types are an error naming the column.
pub fn infer_dtype(field: &Field, column: &dyn Array) -> Result<Dtype> {
    infer(field.name(), field.data_type(), Some(column))
}

/// The dtype of a column from its Arrow type alone (text is `str`: repetition needs values).
pub(crate) fn infer_from_type(name: &str, ty: &DataType) -> Result<Dtype> {
    infer(name, ty, None)
}

fn infer(name: &str, ty: &DataType, column: Option<&dyn Array>) -> Result<Dtype> {
    Ok(match ty {
        DataType::Dictionary(_, _) => Dtype::Cat(Vec::new()),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match column {
            Some(c) if repeats(c) => Dtype::Cat(Vec::new()),
            _ => Dtype::Str,
        },
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Dtype::Int,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => Dtype::Float,
        DataType::Boolean => Dtype::Bool,
        DataType::Date32 | DataType::Date64 => Dtype::Date,
        DataType::Timestamp(_, _) => Dtype::Datetime,
        DataType::List(inner) | DataType::LargeList(inner) | DataType::FixedSizeList(inner, _) => {
            Dtype::List(Box::new(infer(name, inner.data_type(), None)?))
        }
        other => {
            return Err(Error::UnsupportedType {
                column: name.to_string(),
                data_type: other.to_string(),
            });
        }
    })
}

/// Whether a string column repeats its values: at most half as many distinct values as
/// non-null rows (stops counting as soon as the answer is known).
fn repeats(column: &dyn Array) -> bool {
    let non_null = column.len() - column.null_count();
    if non_null < 2 {
        return false;
    }
    let limit = non_null / 2;
    fn few<'a>(values: impl Iterator<Item = Option<&'a str>>, limit: usize) -> bool {
        let mut seen: HashSet<&'a str> = HashSet::new();
        for v in values.flatten() {
            seen.insert(v);
            if seen.len() > limit {
                return false;
            }
        }
        true
    }
    match column.data_type() {
        DataType::Utf8 => few(column.as_string::<i32>().iter(), limit),
        DataType::LargeUtf8 => few(column.as_string::<i64>().iter(), limit),
        DataType::Utf8View => few(column.as_string_view().iter(), limit),
        _ => false,
    }
}

impl Features {
    /// One unsaved feature per column of `table`, dtypes inferred (see [`infer_dtype`]); a
    /// column's Arrow field metadata `unit` becomes the feature's unit.
    pub fn infer(&self, table: &RecordBatch) -> Result<Vec<Feature>> {
        let schema = table.schema();
        schema
            .fields()
            .iter()
            .zip(table.columns())
            .map(|(field, column)| {
                let mut f = Feature::new(field.name().clone(), infer_dtype(field, column)?);
                if let Some(unit) = field.metadata().get("unit") {
                    f = f.unit(unit.clone());
                }
                Ok(f)
            })
            .collect()
    }

    /// LaminDB's `Feature.from_df`: one feature per column, saved in one bulk save; a column
    /// whose feature exists reuses it (`notes` say where its dtype or unit differs).
    pub fn from_table(&self, table: &RecordBatch) -> Result<SavedAll<Feature>> {
        self.save_inferred(self.infer(table)?)
    }

    /// The features of a local table file (Parquet, CSV or TSV), inferred, unsaved; text
    /// tables read missing values by `options`.
    pub fn infer_file(&self, path: &Path, options: &crate::CsvOptions) -> Result<Vec<Feature>> {
        self.infer(&crate::table::read_table_with(path, options)?)
    }

    /// [`from_table`](Self::from_table) for a local table file (Parquet, CSV or TSV).
    pub fn from_file(&self, path: &Path, options: &crate::CsvOptions) -> Result<SavedAll<Feature>> {
        self.save_inferred(self.infer_file(path, options)?)
    }

    /// Saves inferred features; the notes name only existing features whose dtype does not
    /// accept the column (a stricter registered dtype is kept without a remark) or whose unit
    /// differs.
    pub(crate) fn save_inferred(&self, inferred: Vec<Feature>) -> Result<SavedAll<Feature>> {
        let mut saved = self.save_all(inferred.clone())?;
        let mut noted = std::collections::HashSet::new();
        saved.notes = inferred
            .iter()
            .zip(&saved.records)
            .filter(|(_, stored)| {
                saved.existing.contains(&stored.name) && noted.insert(stored.name.clone())
            })
            .flat_map(|(asked, stored)| {
                crate::registry::feature_differences(
                    asked,
                    stored,
                    crate::registry::Asked::Inferred,
                )
            })
            .collect();
        Ok(saved)
    }
}
