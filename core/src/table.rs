//! Records as Arrow tables (`df()`), generic over registries through their field
//! descriptions.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use lamella_schema::registry::{FieldType, Registry};
use lamella_schema::{Record, parse_timestamp};
use serde::Serialize;

use crate::error::{Error, Result};

/// Appends one column per feature to `base` (one row per record, `values[i]` the i-th
/// record's values by feature name): typed when every record has at most one value of the
/// feature's type, else text with the values joined by `|`.
pub fn append_feature_columns(
    base: RecordBatch,
    features: &[lamella_schema::Feature],
    columns_of_values: &[Vec<Option<crate::FeatureValue>>],
) -> Result<RecordBatch> {
    use crate::FeatureValue as V;
    let mut fields: Vec<Field> = base
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns: Vec<ArrayRef> = base.columns().to_vec();
    for (f, column) in features.iter().zip(columns_of_values) {
        let cells: Vec<Option<&V>> = column.iter().map(Option::as_ref).collect();
        let kinds: std::collections::HashSet<std::mem::Discriminant<V>> = cells
            .iter()
            .flatten()
            .map(|v| std::mem::discriminant(*v))
            .collect();
        let all = |probe: V| kinds.len() == 1 && kinds.contains(&std::mem::discriminant(&probe));
        let name = if base.schema().field_with_name(&f.name).is_ok() {
            format!("feature:{}", f.name)
        } else {
            f.name.clone()
        };
        let (dtype, array): (DataType, ArrayRef) = if all(V::Int(0)) {
            let mut b = Int64Builder::with_capacity(cells.len());
            for c in &cells {
                b.append_option(match c {
                    Some(V::Int(i)) => Some(*i),
                    _ => None,
                });
            }
            (DataType::Int64, Arc::new(b.finish()))
        } else if all(V::Float(0.0)) || (kinds.len() == 2 && all_numbers(&kinds)) {
            let mut b = Float64Builder::with_capacity(cells.len());
            for c in &cells {
                b.append_option(match c {
                    Some(V::Float(x)) => Some(*x),
                    Some(V::Int(i)) => Some(*i as f64),
                    _ => None,
                });
            }
            (DataType::Float64, Arc::new(b.finish()))
        } else if all(V::Bool(false)) {
            let mut b = BooleanBuilder::with_capacity(cells.len());
            for c in &cells {
                b.append_option(match c {
                    Some(V::Bool(x)) => Some(*x),
                    _ => None,
                });
            }
            (DataType::Boolean, Arc::new(b.finish()))
        } else if all(V::Date(chrono::NaiveDate::MIN)) {
            let mut b = Date32Builder::with_capacity(cells.len());
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            for c in &cells {
                b.append_option(match c {
                    Some(V::Date(d)) => i32::try_from((*d - epoch).num_days()).ok(),
                    _ => None,
                });
            }
            (DataType::Date32, Arc::new(b.finish()))
        } else if all(V::Datetime(chrono::DateTime::<chrono::Utc>::MIN_UTC)) {
            let mut b =
                TimestampMicrosecondBuilder::with_capacity(cells.len()).with_timezone("UTC");
            for c in &cells {
                b.append_option(match c {
                    Some(V::Datetime(t)) => Some(t.timestamp_micros()),
                    _ => None,
                });
            }
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Arc::new(b.finish()),
            )
        } else {
            let mut b = StringBuilder::new();
            for c in &cells {
                match c {
                    None => b.append_null(),
                    Some(V::List(items)) => b.append_value(
                        items
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("|"),
                    ),
                    Some(v) => b.append_value(v.to_string()),
                }
            }
            (DataType::Utf8, Arc::new(b.finish()))
        };
        fields.push(Field::new(name, dtype, true));
        columns.push(array);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn all_numbers(
    kinds: &std::collections::HashSet<std::mem::Discriminant<crate::FeatureValue>>,
) -> bool {
    use crate::FeatureValue as V;
    kinds.iter().all(|k| {
        *k == std::mem::discriminant(&V::Int(0)) || *k == std::mem::discriminant(&V::Float(0.0))
    })
}

/// Builds a table with one column per field of `registry` and one row per record.
pub fn records_to_batch<T: Record + Serialize>(
    registry: &Registry,
    records: &[T],
) -> Result<RecordBatch> {
    records_to_batch_of(registry, records, None)
}

/// [`records_to_batch`] with only the fields named in `only` (in the registry's order).
pub fn records_to_batch_of<T: Record + Serialize>(
    registry: &Registry,
    records: &[T],
    only: Option<&[&str]>,
) -> Result<RecordBatch> {
    enum Column {
        Int(Int64Builder),
        Float(Float64Builder),
        Bool(BooleanBuilder),
        Text(StringBuilder),
        Time(TimestampMicrosecondBuilder),
    }
    let n = records.len();
    let chosen: Vec<&lamella_schema::registry::Field> = registry
        .fields
        .iter()
        .filter(|f| only.is_none_or(|names| names.contains(&f.name)))
        .collect();
    let mut builders: Vec<Column> = chosen
        .iter()
        .map(|f| match f.ty {
            FieldType::BigInt | FieldType::Int | FieldType::SmallInt => {
                Column::Int(Int64Builder::with_capacity(n))
            }
            FieldType::Double => Column::Float(Float64Builder::with_capacity(n)),
            FieldType::Bool => Column::Bool(BooleanBuilder::with_capacity(n)),
            FieldType::Text => Column::Text(StringBuilder::new()),
            FieldType::Timestamp => {
                Column::Time(TimestampMicrosecondBuilder::with_capacity(n).with_timezone("+00:00"))
            }
        })
        .collect();
    // One record at a time through serde (memory stays flat however many records).
    const NULL: serde_json::Value = serde_json::Value::Null;
    for r in records {
        let row = serde_json::to_value(r).map_err(|e| Error::Internal(e.to_string()))?;
        for (f, b) in chosen.iter().zip(builders.iter_mut()) {
            let v = row.get(f.name).unwrap_or(&NULL);
            match b {
                Column::Int(b) => b.append_option(v.as_i64()),
                Column::Float(b) => b.append_option(v.as_f64()),
                Column::Bool(b) => b.append_option(v.as_bool()),
                Column::Text(b) => match v {
                    serde_json::Value::Null => b.append_null(),
                    serde_json::Value::String(t) => b.append_value(t),
                    // (a JSON object such as a run's environment, as its text)
                    other => b.append_value(other.to_string()),
                },
                Column::Time(b) => b.append_option(
                    v.as_str()
                        .and_then(parse_timestamp)
                        .map(|t| t.and_utc().timestamp_micros()),
                ),
            }
        }
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, b) in chosen.iter().zip(builders) {
        let (dtype, array): (DataType, ArrayRef) = match b {
            Column::Int(mut b) => (DataType::Int64, Arc::new(b.finish())),
            Column::Float(mut b) => (DataType::Float64, Arc::new(b.finish())),
            Column::Bool(mut b) => (DataType::Boolean, Arc::new(b.finish())),
            Column::Text(mut b) => (DataType::Utf8, Arc::new(b.finish())),
            Column::Time(mut b) => (
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
                Arc::new(b.finish()),
            ),
        };
        fields.push(Field::new(f.name, dtype, true));
        columns.push(array);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// The kinds of local file a table is read from.
enum FileKind {
    Parquet,
    /// Delimited text: CSV, TSV, maybe gzipped.
    Text,
    /// AnnData: its `obs` frame is the table.
    AnnData,
}

/// Checks that `path` is a local table file (or AnnData) by its suffix and exists.
fn table_kind(path: &std::path::Path) -> Result<FileKind> {
    let name = path.to_string_lossy();
    let suffix = crate::artifact::suffix_of(&name).to_ascii_lowercase();
    let kind = if lamella_storage::is_anndata_file(&name) {
        FileKind::AnnData
    } else if !lamella_storage::is_table_file(&name) {
        return Err(Error::NotATable {
            what: path.display().to_string(),
            reason: format!(
                "its suffix is '{suffix}'; give a .parquet, .csv or .tsv file (.csv.gz and \
                 .tsv.gz too) or AnnData (an .h5ad file or a .zarr folder)"
            ),
        });
    } else if suffix.ends_with(".parquet") {
        FileKind::Parquet
    } else {
        FileKind::Text
    };
    if !path.exists() {
        return Err(Error::MissingPath {
            path: path.to_path_buf(),
        });
    }
    Ok(kind)
}

/// The schema of a local table file: a Parquet footer, or a CSV's inferred types (one
/// streaming pass), or an AnnData's `obs` columns (from their types); no table is held in
/// memory.
pub fn read_table_schema(path: &std::path::Path) -> Result<arrow::datatypes::SchemaRef> {
    Ok(match table_kind(path)? {
        FileKind::Parquet => lamella_storage::ParquetBatches::open(path)?.schema(),
        FileKind::Text => lamella_storage::CsvBatches::open(path)?.schema(),
        FileKind::AnnData => {
            lamella_storage::AnnData::open(path)?.frame_schema(lamella_storage::Axis::Obs)?
        }
    })
}

/// Reads a local table file (Parquet, CSV or TSV, by suffix; text maybe gzipped) as one
/// record batch (an empty batch with the file's columns when it has no rows). Text tables
/// read missing values as pandas does ([`CsvOptions`](lamella_storage::CsvOptions)). An
/// AnnData file (`.h5ad`) reads as its `obs` frame (the index aside).
pub fn read_table(path: &std::path::Path) -> Result<RecordBatch> {
    read_table_with(path, &lamella_storage::CsvOptions::default())
}

/// [`read_table`] with other missing-value tokens for text tables.
pub fn read_table_with(
    path: &std::path::Path,
    options: &lamella_storage::CsvOptions,
) -> Result<RecordBatch> {
    let (schema, batches) = match table_kind(path)? {
        FileKind::Parquet => {
            let reader = lamella_storage::ParquetBatches::open(path)?;
            let schema = reader.schema();
            (schema, reader.collect::<lamella_storage::Result<Vec<_>>>()?)
        }
        FileKind::Text => {
            let reader = lamella_storage::CsvBatches::open_with(path, options)?;
            let schema = reader.schema();
            (schema, reader.collect::<lamella_storage::Result<Vec<_>>>()?)
        }
        FileKind::AnnData => {
            return Ok(lamella_storage::AnnData::open(path)?.frame(lamella_storage::Axis::Obs)?);
        }
    };
    match batches.first() {
        None => Ok(RecordBatch::new_empty(schema)),
        Some(first) => Ok(arrow::compute::concat_batches(&first.schema(), &batches)?),
    }
}
