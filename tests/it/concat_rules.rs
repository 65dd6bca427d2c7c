//! Golden tests of the concatenation rules (SPEC §7.1): one case per pair of member types,
//! each saying what pandas, polars and DuckDB do with the same two Parquet files.
//!
//! The peers' types were measured with pandas 3.1.1 (`pd.concat`), polars 2.1.0
//! (`pl.concat(how="diagonal_relaxed")`) and DuckDB 2.0.1 (`read_parquet([…],
//! union_by_name=true)`). Lamella's own result — the plan's type, whether it is lossy, and
//! the loaded values — is what the snapshot records; a change in the rules shows as a diff.

use std::fmt::Write as _;
use std::sync::Arc;

use lamella_core::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array,
    Int32Array, Int64Array, LargeStringArray, ListArray, StringArray, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, UInt32Array, UInt64Array,
};
use lamella_core::arrow::datatypes::{Field, Int32Type, Int64Type};
use lamella_core::arrow::util::display::{ArrayFormatter, FormatOptions};
use lamella_core::{Join, RecordBatch};
use lamella_tests::db_test;

/// One pair: the two members' `v` columns (`None`: the member lacks the column) and what the
/// peers do.
struct Case {
    pair: &'static str,
    a: ArrayRef,
    b: Option<ArrayRef>,
    peers: &'static str,
    why: &'static str,
}

fn cases() -> Vec<Case> {
    let dict = |v: &[&'static str]| -> ArrayRef {
        Arc::new(v.iter().copied().collect::<DictionaryArray<Int32Type>>())
    };
    let ints = |v: Vec<Option<i32>>| -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>([Some(v)]))
    };
    let longs = |v: Vec<Option<i64>>| -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>([Some(v)]))
    };
    let st = |fields: Vec<(&str, ArrayRef)>| -> ArrayRef {
        Arc::new(StructArray::from(
            fields
                .into_iter()
                .map(|(n, a)| (Arc::new(Field::new(n, a.data_type().clone(), true)), a))
                .collect::<Vec<_>>(),
        ))
    };
    vec![
        Case {
            pair: "int32 + int32",
            a: Arc::new(Int32Array::from(vec![1])),
            b: Some(Arc::new(Int32Array::from(vec![2]))),
            peers: "pandas int32 · polars Int32 · DuckDB INTEGER",
            why: "the same type stays",
        },
        Case {
            pair: "int64 + column missing",
            a: Arc::new(Int64Array::from(vec![1])),
            b: None,
            peers: "pandas float64 (NaN) · polars Int64 · DuckDB BIGINT",
            why: "an int with nulls stays an int; pandas turns it into float64",
        },
        Case {
            pair: "bool + column missing",
            a: Arc::new(BooleanArray::from(vec![true])),
            b: None,
            peers: "pandas object · polars Boolean · DuckDB BOOLEAN",
            why: "a bool with nulls stays a bool; pandas turns it into object",
        },
        Case {
            pair: "int32 + int64",
            a: Arc::new(Int32Array::from(vec![1])),
            b: Some(Arc::new(Int64Array::from(vec![2]))),
            peers: "pandas int64 · polars Int64 · DuckDB BIGINT",
            why: "the wider signed int, as everyone does",
        },
        Case {
            pair: "uint32 + int32",
            a: Arc::new(UInt32Array::from(vec![4_000_000_000])),
            b: Some(Arc::new(Int32Array::from(vec![-2]))),
            peers: "pandas int64 · polars Int64 · DuckDB BIGINT",
            why: "an unsigned int that fits goes to the next wider signed int",
        },
        Case {
            pair: "int64 + float32",
            a: Arc::new(Int64Array::from(vec![1])),
            b: Some(Arc::new(Float32Array::from(vec![0.5]))),
            peers: "pandas float64 · polars Float64 · DuckDB FLOAT (float32: loses int64 digits)",
            why: "float64, never float32, which holds integers exactly only up to 2^24",
        },
        Case {
            pair: "float32 + float64",
            a: Arc::new(Float32Array::from(vec![0.5])),
            b: Some(Arc::new(Float64Array::from(vec![0.25]))),
            peers: "pandas float64 · polars Float64 · DuckDB DOUBLE",
            why: "the wider float",
        },
        Case {
            pair: "dictionary + dictionary (other values)",
            a: dict(&["setosa", "virginica"]),
            b: Some(dict(&["versicolor", "setosa"])),
            peers: "pandas str (categories dropped) · polars Categorical · DuckDB VARCHAR",
            why: "one dictionary of the union, in first-seen order: the column stays categorical",
        },
        Case {
            pair: "dictionary + string",
            a: dict(&["setosa"]),
            b: Some(Arc::new(StringArray::from(vec!["virginica"]))),
            peers: "pandas str · polars String · DuckDB VARCHAR",
            why: "a plain string, as everyone does",
        },
        Case {
            pair: "utf8 + large utf8",
            a: Arc::new(StringArray::from(vec!["a"])),
            b: Some(Arc::new(LargeStringArray::from(vec!["b"]))),
            peers: "pandas str · polars String · DuckDB VARCHAR",
            why: "large when either is, so no offsets overflow",
        },
        Case {
            pair: "timestamp[ms, UTC] + timestamp[us, UTC]",
            a: Arc::new(TimestampMillisecondArray::from(vec![1_000]).with_timezone("UTC")),
            b: Some(Arc::new(
                TimestampMicrosecondArray::from(vec![1_000_001]).with_timezone("UTC"),
            )),
            peers: "pandas datetime64[us, UTC] · polars Datetime(ms, UTC) (drops the µs) · \
                    DuckDB TIMESTAMPTZ (µs)",
            why: "the finer unit, so no member loses precision",
        },
        Case {
            pair: "list<int32> + list<int64>",
            a: ints(vec![Some(1), None]),
            b: Some(longs(vec![Some(2)])),
            peers: "pandas object · polars List(Int64) · DuckDB BIGINT[]",
            why: "the rules applied to the items",
        },
        Case {
            pair: "struct<x: int32> + struct<x: int64, y: utf8>",
            a: st(vec![("x", Arc::new(Int32Array::from(vec![1])))]),
            b: Some(st(vec![
                ("x", Arc::new(Int64Array::from(vec![2]))),
                ("y", Arc::new(StringArray::from(vec!["b"]))),
            ])),
            peers: "pandas object · polars Struct(x: Int64, y: String) · DuckDB STRUCT(x BIGINT, \
                    y VARCHAR)",
            why: "the rules applied to the children by name; a missing child is null",
        },
        Case {
            pair: "bool + int64",
            a: Arc::new(BooleanArray::from(vec![true])),
            b: Some(Arc::new(Int64Array::from(vec![2]))),
            peers: "pandas int64 (True becomes 1) · polars Int64 · DuckDB BIGINT",
            why: "an error: a flag is not a count; allowed, float64",
        },
        Case {
            pair: "int64 + string",
            a: Arc::new(Int64Array::from(vec![1])),
            b: Some(Arc::new(StringArray::from(vec!["b"]))),
            peers: "pandas object · polars String · DuckDB VARCHAR",
            why: "an error: numbers would silently become text; allowed, strings",
        },
        Case {
            pair: "uint64 + int64",
            a: Arc::new(UInt64Array::from(vec![u64::MAX])),
            b: Some(Arc::new(Int64Array::from(vec![-2]))),
            peers: "pandas float64 (rounds large values) · polars Int128 · DuckDB HUGEINT",
            why: "an error: no Arrow/Parquet integer holds both; allowed, float64",
        },
        Case {
            pair: "timestamp[us, +01:00] + timestamp[us, UTC]",
            a: Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("+01:00")),
            b: Some(Arc::new(
                TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC"),
            )),
            peers: "pandas object · polars error · DuckDB TIMESTAMPTZ",
            why: "an error: the zones differ; allowed, UTC (the same instants)",
        },
        Case {
            pair: "timestamp[us] + timestamp[us, UTC]",
            a: Arc::new(TimestampMicrosecondArray::from(vec![0])),
            b: Some(Arc::new(
                TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC"),
            )),
            peers: "pandas object · polars error · DuckDB TIMESTAMPTZ",
            why: "an error: a naive time has no zone to convert from; allowed, UTC",
        },
        Case {
            pair: "date32 + timestamp[us]",
            a: Arc::new(Date32Array::from(vec![0])),
            b: Some(Arc::new(TimestampMicrosecondArray::from(vec![0]))),
            peers: "pandas object · polars Datetime(us) · DuckDB TIMESTAMP",
            why: "an error: a day is not an instant; allowed, strings",
        },
    ]
}

fn values(col: &ArrayRef) -> String {
    let opts = FormatOptions::new().with_null("null");
    let f = ArrayFormatter::try_new(col.as_ref(), &opts).unwrap();
    let shown: Vec<String> = (0..col.len()).map(|i| f.value(i).to_string()).collect();
    format!("[{}]", shown.join(", "))
}

db_test!(every_type_pair_follows_the_documented_rules, |t| {
    let mut doc = String::new();
    for (i, case) in cases().into_iter().enumerate() {
        let member = |name: &str, col: Option<ArrayRef>| -> anyhow::Result<_> {
            let batch = match col {
                Some(c) => RecordBatch::try_from_iter([("v", c)])?,
                None => RecordBatch::try_from_iter([(
                    "w",
                    Arc::new(Int32Array::from(vec![0])) as ArrayRef,
                )])?,
            };
            Ok(t.artifacts()
                .from_table(&batch)
                .key(format!("pairs/{i}/{name}.parquet"))
                .save()?
                .record)
        };
        let rows = case.a.len() + case.b.as_ref().map_or(1, |b| b.len());
        let a = member("a", Some(case.a.clone()))?;
        let b = member("b", case.b.clone())?;
        let c = t
            .collections()
            .create(&[a.clone(), b.clone()], format!("pair {i}"))
            .save()?
            .record;
        writeln!(doc, "## {}", case.pair)?;
        writeln!(doc, "peers:  {}", case.peers)?;
        writeln!(doc, "lamella: {}", case.why)?;
        for allow_lossy in [false, true] {
            let tag = if allow_lossy { "allowed" } else { "default" };
            match t
                .collections()
                .concat(&c)
                .join(Join::Outer)
                .promotion(if allow_lossy {
                    lamella_core::Promotion::Lossy
                } else {
                    lamella_core::Promotion::Exact
                })
                .check()
            {
                Ok(plan) => {
                    let v = plan.columns.iter().find(|p| p.name == "v").unwrap();
                    let loaded = t
                        .collections()
                        .concat(&c)
                        .join(Join::Outer)
                        .promotion(if allow_lossy {
                            lamella_core::Promotion::Lossy
                        } else {
                            lamella_core::Promotion::Exact
                        })
                        .load()?;
                    let col = loaded.column_by_name("v").unwrap();
                    assert_eq!(&v.data_type, &col.data_type().to_string(), "{}", case.pair);
                    assert_eq!(loaded.num_rows(), rows, "{}", case.pair);
                    writeln!(
                        doc,
                        "{tag}: {}{} {}",
                        col.data_type(),
                        if v.lossy { " (lossy)" } else { "" },
                        values(col)
                    )?;
                }
                Err(e) => {
                    let e = e.to_string();
                    // The error names the column, both artifacts and both types.
                    assert!(
                        e.contains("column 'v'") && e.contains(&a.uid) && e.contains(&b.uid),
                        "{e}"
                    );
                    assert!(
                        t.collections()
                            .concat(&c)
                            .join(Join::Outer)
                            .promotion(if allow_lossy {
                                lamella_core::Promotion::Lossy
                            } else {
                                lamella_core::Promotion::Exact
                            })
                            .load()
                            .is_err()
                    );
                    let why = e.split(": ").nth(1).unwrap_or(&e);
                    writeln!(doc, "{tag}: error ({why})")?;
                }
            }
            // Without lossy promotions a case is either the same or an error.
            if !allow_lossy && !case.why.starts_with("an error") {
                assert!(
                    t.collections().concat(&c).join(Join::Outer).check().is_ok(),
                    "{}",
                    case.pair
                );
            }
        }
        doc.push('\n');
    }
    insta::assert_snapshot!("concat_type_pairs", doc);
    Ok(())
});
