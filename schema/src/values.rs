//! Feature values (SPEC §5.2): typed values of non-categorical features, stored once per
//! (feature, value) in `lamella_feature_values` and linked to artifacts and collections.
//!
//! A value is kept three ways: its canonical text (`value`, the unique key, what text lookups
//! compare), and for typed comparisons `num` (int, float, bool as 0/1) or `ts` (date and
//! datetime, UTC). So `temperature__gt=20` compares numbers and `measured_on__gte=2025-01-01`
//! timestamps, never text.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{Conn, with_conn};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::links::Owner;
use crate::query::{Value, parse_timestamp};
use crate::tables::*;

/// The longest canonical text of one value, in bytes: a value is a short fact (a number, a
/// date, a name); longer content belongs in a description or an artifact.
pub const MAX_VALUE_BYTES: usize = 1024;

/// Rows per statement.
const CHUNK: usize = 1000;

/// A typed value as it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredValue {
    /// The canonical text: `37`, `21.5`, `true`, `2025-01-01`, `2025-01-01T12:00:00Z`, or the
    /// string itself.
    pub value: String,
    /// The number, for int, float, num and bool features.
    pub num: Option<f64>,
    /// The timestamp (UTC), for date and datetime features.
    pub ts: Option<NaiveDateTime>,
}

/// How a value reads for messages: text quoted and cut at 60 characters.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(s) => {
            let n = s.chars().count();
            if n > 60 {
                format!(
                    "'{}…' ({} bytes)",
                    s.chars().take(40).collect::<String>(),
                    s.len()
                )
            } else {
                format!("'{s}'")
            }
        }
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The values `value` stands for under `dtype` (one per list element; a scalar feature gets
/// one): `None` for a missing value (null, NaN, ±inf), which the caller accepts or refuses by
/// the feature's `nullable`. A value the dtype cannot take is an error naming the feature, the
/// value and the dtype. Categorical dtypes are not values (they link labels).
pub fn typed(feature: &str, dtype: &Dtype, value: &Value) -> Result<Vec<Option<StoredValue>>> {
    let err = |v: &Value, why: &str| {
        Error::Value(format!(
            "feature '{feature}' has dtype '{dtype}': {} is not {why}",
            show(v)
        ))
    };
    match dtype {
        Dtype::Cat(_) => Err(Error::Value(format!(
            "feature '{feature}' is categorical ({dtype}): its values are labels"
        ))),
        Dtype::List(inner) => {
            let items: Vec<Value> = match value {
                Value::List(items) => items.clone(),
                Value::Text(t) if t.trim_start().starts_with('[') => split_list(t)
                    .ok_or_else(|| err(value, "a list: write [a, b]"))?
                    .into_iter()
                    .map(Value::Text)
                    .collect(),
                other => vec![other.clone()],
            };
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                if matches!(item, Value::List(_)) {
                    return Err(err(item, "a single element (lists do not nest)"));
                }
                out.extend(typed(feature, inner, item)?);
            }
            Ok(out)
        }
        _ => {
            if let Value::List(items) = value {
                if items.len() == 1 {
                    return typed(feature, dtype, &items[0]);
                }
                return Err(Error::Value(format!(
                    "feature '{feature}' has dtype '{dtype}' and takes one value, got {}: give \
                     one value, or use a feature with dtype list[{dtype}]",
                    show(value)
                )));
            }
            scalar(dtype, value, &err).map(|v| vec![v])
        }
    }
}

/// `[a, b, c]` → its elements, trimmed (and unquoted when quoted).
fn split_list(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(
        inner
            .split(',')
            .map(|p| {
                let p = p.trim();
                p.strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .or_else(|| p.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')))
                    .unwrap_or(p)
                    .to_string()
            })
            .collect(),
    )
}

fn scalar(
    dtype: &Dtype,
    value: &Value,
    err: &dyn Fn(&Value, &str) -> Error,
) -> Result<Option<StoredValue>> {
    if *value == Value::Null {
        return Ok(None);
    }
    if let Value::Text(t) = value
        && t.len() > MAX_VALUE_BYTES
    {
        return Err(err(
            value,
            &format!(
                "a value of at most {MAX_VALUE_BYTES} bytes: keep long text in a description or \
                 save it as an artifact"
            ),
        ));
    }
    let number = |f: f64| StoredValue {
        value: f.to_string(),
        num: Some(f),
        ts: None,
    };
    Ok(Some(match dtype {
        Dtype::Int => {
            let i = match value {
                Value::Int(i) => *i,
                Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    *f as i64
                }
                Value::Float(f) if !f.is_finite() => return Ok(None),
                Value::Text(t) => match t.trim().parse::<i64>() {
                    Ok(i) => i,
                    Err(_) if is_nan_text(t) => return Ok(None),
                    Err(_) => return Err(err(value, "an integer")),
                },
                _ => return Err(err(value, "an integer")),
            };
            StoredValue {
                value: i.to_string(),
                num: Some(i as f64),
                ts: None,
            }
        }
        Dtype::Float | Dtype::Num => {
            let f = match value {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                Value::Text(t) => match t.trim().parse::<f64>() {
                    Ok(f) => f,
                    Err(_) => return Err(err(value, "a number")),
                },
                _ => return Err(err(value, "a number")),
            };
            if !f.is_finite() {
                return Ok(None);
            }
            // -0 and 0 are one value.
            number(if f == 0.0 { 0.0 } else { f })
        }
        Dtype::Bool => {
            let b = match value {
                Value::Bool(b) => *b,
                Value::Int(0) => false,
                Value::Int(1) => true,
                Value::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                    "true" | "t" | "yes" | "1" => true,
                    "false" | "f" | "no" | "0" => false,
                    _ => return Err(err(value, "true or false")),
                },
                _ => return Err(err(value, "true or false")),
            };
            StoredValue {
                value: b.to_string(),
                num: Some(if b { 1.0 } else { 0.0 }),
                ts: None,
            }
        }
        Dtype::Str => match value {
            Value::Text(t) => StoredValue {
                value: t.clone(),
                num: None,
                ts: None,
            },
            _ => return Err(err(value, "text")),
        },
        Dtype::Date => {
            let Value::Text(t) = value else {
                return Err(err(value, "a date such as 2025-01-31"));
            };
            let d = NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
                .map_err(|_| err(value, "a date such as 2025-01-31"))?;
            StoredValue {
                value: d.format("%Y-%m-%d").to_string(),
                num: None,
                ts: d.and_hms_opt(0, 0, 0),
            }
        }
        Dtype::Datetime => {
            let Value::Text(t) = value else {
                return Err(err(value, "a datetime such as 2025-01-31T14:00:00Z"));
            };
            let ts = parse_timestamp(t)
                .ok_or_else(|| err(value, "a datetime such as 2025-01-31T14:00:00Z"))?;
            StoredValue {
                value: datetime_text(&ts),
                num: None,
                ts: Some(ts),
            }
        }
        Dtype::Cat(_) | Dtype::List(_) => unreachable!("handled by typed()"),
    }))
}

fn is_nan_text(t: &str) -> bool {
    matches!(
        t.trim().to_ascii_lowercase().as_str(),
        "nan" | "inf" | "-inf" | "+inf" | "infinity" | "-infinity"
    )
}

/// The canonical text of a UTC datetime: RFC 3339 with `Z`, fractional seconds only when set.
pub fn datetime_text(ts: &NaiveDateTime) -> String {
    if ts.and_utc().timestamp_subsec_nanos() == 0 {
        ts.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        ts.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
    }
}

/// Stores `(feature id, value)` pairs that are not stored yet and returns every pair's id, in
/// input order. Two statements per thousand values; concurrent writers of the same value end
/// with one row (the unique key decides, the loser reads the winner's row).
pub fn ensure_values(
    conn: &mut Conn<'_>,
    values: &[(i64, StoredValue)],
    user_id: i64,
) -> Result<Vec<i64>> {
    let t = crate::models::now();
    let mut ids = Vec::with_capacity(values.len());
    for chunk in values.chunks(CHUNK) {
        use lamella_feature_values as v;
        let rows: Vec<_> = chunk
            .iter()
            .map(|(f, s)| {
                (
                    v::feature_id.eq(*f),
                    v::value.eq(&s.value),
                    v::num.eq(s.num),
                    v::ts.eq(s.ts),
                    v::created_at.eq(t),
                    v::created_by_id.eq(user_id),
                )
            })
            .collect();
        with_conn!(conn.inner, |c| {
            diesel::insert_into(v::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)
        })?;
        let mut features: Vec<i64> = chunk.iter().map(|(f, _)| *f).collect();
        features.sort_unstable();
        features.dedup();
        let texts: Vec<&str> = chunk.iter().map(|(_, s)| s.value.as_str()).collect();
        let found: Vec<(i64, i64, String)> = with_conn!(conn.inner, |c| {
            v::table
                .filter(v::feature_id.eq_any(&features))
                .filter(v::value.eq_any(&texts))
                .select((v::id, v::feature_id, v::value))
                .load::<(i64, i64, String)>(c)
        })?;
        let by_key: std::collections::HashMap<(i64, &str), i64> = found
            .iter()
            .map(|(id, f, s)| ((*f, s.as_str()), *id))
            .collect();
        for (f, s) in chunk {
            ids.push(
                *by_key
                    .get(&(*f, s.value.as_str()))
                    .ok_or_else(|| Error::Query {
                        message: format!("feature value '{}' vanished while it was saved", s.value),
                    })?,
            );
        }
    }
    Ok(ids)
}

/// Every stored value of a feature: `(value id, canonical text)`, by id (linked or not).
pub fn stored_values(conn: &mut Conn<'_>, feature_id: i64) -> Result<Vec<(i64, String)>> {
    use lamella_feature_values as v;
    Ok(with_conn!(conn.inner, |c| {
        v::table
            .filter(v::feature_id.eq(feature_id))
            .select((v::id, v::value))
            .order(v::id)
            .load::<(i64, String)>(c)
    })?)
}

/// Links values to owners (`(owner id, value id)`, all owners of `owner`'s kind); existing
/// links are kept. Returns how many links are new.
pub fn link_values(conn: &mut Conn<'_>, kind: Owner, links: &[(i64, i64)]) -> Result<usize> {
    if let crate::db::ConnRef::Postgresql(c) = &mut conn.inner {
        // two arrays unnested per statement: diesel's multi-row binds cost ~20 µs a row
        use diesel::sql_types::{Array, BigInt};
        let sql = match kind {
            Owner::Artifact(_) => {
                "INSERT INTO lamella_artifact_feature_values (artifact_id, feature_value_id) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING"
            }
            Owner::Collection(_) => {
                "INSERT INTO lamella_collection_feature_values (collection_id, feature_value_id) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING"
            }
        };
        let mut n = 0;
        for chunk in links.chunks(crate::links::PG_UNNEST_ROWS) {
            n += diesel::sql_query(sql)
                .bind::<Array<BigInt>, _>(chunk.iter().map(|l| l.0).collect::<Vec<_>>())
                .bind::<Array<BigInt>, _>(chunk.iter().map(|l| l.1).collect::<Vec<_>>())
                .execute(*c)?;
        }
        return Ok(n);
    }
    let mut n = 0;
    for chunk in links.chunks(CHUNK) {
        n += match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_feature_values as l;
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(o, v)| (l::artifact_id.eq(*o), l::feature_value_id.eq(*v)))
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::insert_into(l::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?
            }
            Owner::Collection(_) => {
                use lamella_collection_feature_values as l;
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(o, v)| (l::collection_id.eq(*o), l::feature_value_id.eq(*v)))
                    .collect();
                with_conn!(conn.inner, |c| {
                    diesel::insert_into(l::table)
                        .values(&rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                })?
            }
        };
    }
    Ok(n)
}

/// One linked value: `(owner id, feature id, canonical text, num, ts)`.
pub type ValueRow = (i64, i64, String, Option<f64>, Option<NaiveDateTime>);

/// The values linked to the owners of `kind` with ids `owners`, by owner, feature, then link
/// order of the values (their ids). One statement per thousand owners.
pub fn owner_values(conn: &mut Conn<'_>, kind: Owner, owners: &[i64]) -> Result<Vec<ValueRow>> {
    use lamella_feature_values as v;
    let mut out = Vec::new();
    for chunk in owners.chunks(CHUNK) {
        out.extend(match kind {
            Owner::Artifact(_) => {
                use lamella_artifact_feature_values as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .inner_join(v::table.on(v::id.eq(l::feature_value_id)))
                        .filter(l::artifact_id.eq_any(chunk))
                        .select((l::artifact_id, v::feature_id, v::value, v::num, v::ts))
                        .order((l::artifact_id, v::feature_id, v::id))
                        .load::<ValueRow>(c)
                })?
            }
            Owner::Collection(_) => {
                use lamella_collection_feature_values as l;
                with_conn!(conn.inner, |c| {
                    l::table
                        .inner_join(v::table.on(v::id.eq(l::feature_value_id)))
                        .filter(l::collection_id.eq_any(chunk))
                        .select((l::collection_id, v::feature_id, v::value, v::num, v::ts))
                        .order((l::collection_id, v::feature_id, v::id))
                        .load::<ValueRow>(c)
                })?
            }
        });
    }
    Ok(out)
}

/// Unlinks from `owner` the values of `feature_id` — only those whose canonical text is in
/// `values` when given. Returns how many links were removed.
pub fn unlink_values(
    conn: &mut Conn<'_>,
    owner: Owner,
    feature_id: i64,
    values: Option<&[String]>,
) -> Result<usize> {
    use lamella_feature_values as v;
    let mut ids: Vec<i64> = match values {
        None => with_conn!(conn.inner, |c| {
            v::table
                .filter(v::feature_id.eq(feature_id))
                .select(v::id)
                .load::<i64>(c)
        })?,
        Some(texts) => {
            let mut ids = Vec::new();
            for chunk in texts.chunks(CHUNK) {
                ids.extend(with_conn!(conn.inner, |c| {
                    v::table
                        .filter(v::feature_id.eq(feature_id))
                        .filter(v::value.eq_any(chunk))
                        .select(v::id)
                        .load::<i64>(c)
                })?);
            }
            ids
        }
    };
    ids.sort_unstable();
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        n += match owner {
            Owner::Artifact(id) => {
                use lamella_artifact_feature_values as l;
                with_conn!(conn.inner, |c| {
                    diesel::delete(
                        l::table
                            .filter(l::artifact_id.eq(id))
                            .filter(l::feature_value_id.eq_any(chunk)),
                    )
                    .execute(c)
                })?
            }
            Owner::Collection(id) => {
                use lamella_collection_feature_values as l;
                with_conn!(conn.inner, |c| {
                    diesel::delete(
                        l::table
                            .filter(l::collection_id.eq(id))
                            .filter(l::feature_value_id.eq_any(chunk)),
                    )
                    .execute(c)
                })?
            }
        };
    }
    Ok(n)
}

/// Unlinks from `owner` the labels linked through `feature_id` — only `labels` when given.
/// Returns how many links were removed.
pub fn unlink_labels(
    conn: &mut Conn<'_>,
    owner: Owner,
    feature_id: Option<i64>,
    labels: Option<&[i64]>,
) -> Result<usize> {
    let all: &[i64] = &[];
    let (only, ids) = match labels {
        Some(ids) => (true, ids),
        None => (false, all),
    };
    Ok(match owner {
        Owner::Artifact(id) => {
            use lamella_artifact_ulabels as l;
            with_conn!(conn.inner, |c| {
                let mut q = diesel::delete(l::table)
                    .filter(l::artifact_id.eq(id))
                    .into_boxed();
                q = match feature_id {
                    Some(f) => q.filter(l::feature_id.eq(f)),
                    None => q,
                };
                if only {
                    q = q.filter(l::ulabel_id.eq_any(ids));
                }
                q.execute(c)
            })?
        }
        Owner::Collection(id) => {
            use lamella_collection_ulabels as l;
            with_conn!(conn.inner, |c| {
                let mut q = diesel::delete(l::table)
                    .filter(l::collection_id.eq(id))
                    .into_boxed();
                q = match feature_id {
                    Some(f) => q.filter(l::feature_id.eq(f)),
                    None => q,
                };
                if only {
                    q = q.filter(l::ulabel_id.eq_any(ids));
                }
                q.execute(c)
            })?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(dtype: &str, v: impl Into<Value>) -> Result<Option<StoredValue>> {
        typed("f", &Dtype::parse(dtype).unwrap(), &v.into()).map(|mut v| v.remove(0))
    }

    #[test]
    fn values_are_typed_by_the_dtype() {
        assert_eq!(one("int", "37").unwrap().unwrap().num, Some(37.0));
        assert_eq!(one("float", 37).unwrap().unwrap().value, "37");
        assert_eq!(one("float", "21.5").unwrap().unwrap().value, "21.5");
        assert_eq!(one("bool", "yes").unwrap().unwrap().value, "true");
        assert_eq!(
            one("date", "2025-01-31").unwrap().unwrap().value,
            "2025-01-31"
        );
        assert_eq!(
            one("datetime", "2025-01-31T14:00:00+02:00")
                .unwrap()
                .unwrap()
                .value,
            "2025-01-31T12:00:00Z"
        );
        assert_eq!(one("float", f64::NAN).unwrap(), None);
        let e = one("int", "21.5").unwrap_err().to_string();
        assert!(
            e.contains("feature 'f' has dtype 'int'") && e.contains("'21.5'"),
            "{e}"
        );
        let e = one("date", "31/01/2025").unwrap_err().to_string();
        assert!(e.contains("a date such as"), "{e}");
        let e = one("str", "x".repeat(10 << 20)).unwrap_err().to_string();
        assert!(e.len() < 400 && e.contains("at most 1024 bytes"), "{e}");
        let list = typed("f", &Dtype::parse("list[int]").unwrap(), &"[1, 2]".into()).unwrap();
        assert_eq!(list.len(), 2);
        let e = typed("f", &Dtype::Int, &Value::from(vec![1, 2])).unwrap_err();
        assert!(e.to_string().contains("list[int]"), "{e}");
    }
}
