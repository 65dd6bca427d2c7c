//! Example data shipped with Lamella (LaminDB's `ln.core.datasets`): Fisher's iris data
//! (`core/data/iris.csv`, 150 rows) converted as LaminDB's tutorial does — lengths in metres,
//! study 1 the first 75 rows, study 2 the others.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};

/// Fisher's iris data: lengths in centimetres and the species.
const IRIS_CSV: &str = include_str!("../data/iris.csv");

/// One iris row: sepal length and width, petal length and width (m), the species.
type IrisRow = (f64, f64, f64, f64, String);

/// The rows of `iris.csv`, lengths converted to metres.
fn iris_rows() -> Result<Vec<IrisRow>> {
    IRIS_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let [a, b, c, d, name] = cells[..] else {
                return Err(Error::Internal(format!(
                    "the shipped iris.csv has a malformed row: {line}"
                )));
            };
            let m = |v: &str| -> Result<f64> {
                let cm: f64 = v.trim().parse().map_err(|_| {
                    Error::Internal(format!("the shipped iris.csv has a bad number: '{v}'"))
                })?;
                // Centimetres to metres, rounded to the data's precision (0.1 cm = 0.001 m).
                Ok((cm * 10.0).round() / 1000.0)
            };
            Ok((m(a)?, m(b)?, m(c)?, m(d)?, name.trim().to_string()))
        })
        .collect()
}

/// Study 1 of the iris data in metres (LaminDB's `df_iris_in_meter_study1`): the first 75
/// rows, columns `sepal_length`, `sepal_width`, `petal_length`, `petal_width` (float, m) and
/// `iris_organism_name`.
pub fn iris_in_meter_study1() -> Result<RecordBatch> {
    let rows = iris_rows()?;
    iris_table(&rows[..rows.len() / 2])
}

/// Study 2 of the iris data in metres (`df_iris_in_meter_study2`): the other 75 rows.
pub fn iris_in_meter_study2() -> Result<RecordBatch> {
    let rows = iris_rows()?;
    iris_table(&rows[rows.len() / 2..])
}

/// All 150 rows in metres (`df_iris_in_meter`).
pub fn iris_in_meter() -> Result<RecordBatch> {
    iris_table(&iris_rows()?)
}

/// An iris table: four float measurements and the organism name.
fn iris_table(rows: &[IrisRow]) -> Result<RecordBatch> {
    let floats = |f: fn(&IrisRow) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let schema = Schema::new(
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]
            .map(|n| Field::new(n, DataType::Float64, false))
            .into_iter()
            .chain([Field::new("iris_organism_name", DataType::Utf8, false)])
            .collect::<Vec<_>>(),
    );
    let names: ArrayRef = Arc::new(StringArray::from(
        rows.iter().map(|r| r.4.as_str()).collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            floats(|r| r.0),
            floats(|r| r.1),
            floats(|r| r.2),
            floats(|r| r.3),
            names,
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_studies_split_the_150_rows_in_metres() {
        let (one, two) = (
            iris_in_meter_study1().unwrap(),
            iris_in_meter_study2().unwrap(),
        );
        assert_eq!((one.num_rows(), two.num_rows()), (75, 75));
        assert_eq!(iris_in_meter().unwrap().num_rows(), 150);
        let first = one
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .value(0);
        assert_eq!(first, 0.051);
        assert_eq!(one.schema().field(4).name(), "iris_organism_name");
    }
}
