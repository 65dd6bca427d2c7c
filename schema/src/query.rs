//! LaminDB-style lookups (`name__startswith`, `parents__name`, …) compiled to SQL with bound
//! parameters, one statement per query whatever the depth of the relation path.

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Bool, Double, Integer, SmallInt, Text, Timestamp};

use crate::db::{Backend, Conn, with_conn};
use crate::error::{Error, Result};
use crate::models::Record;
use crate::registry::{FieldType, Registry, RelationKind};

/// A value to compare a field with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Text (also accepted for numbers, booleans and timestamps, and parsed).
    Text(String),
    /// A list, for `__in`.
    List(Vec<Value>),
}

impl Value {
    /// A JSON value as a value: null, booleans, numbers (integers stay integers), text and
    /// lists of those; `None` for a JSON object, which no feature value is.
    pub fn from_json(v: &serde_json::Value) -> Option<Value> {
        Some(match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .map(Value::from_json)
                    .collect::<Option<Vec<_>>>()?,
            ),
            serde_json::Value::Object(_) => return None,
        })
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A comparison at the end of a lookup path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `field` / `field__exact`.
    Exact,
    /// `field__iexact`: equal ignoring ASCII case.
    IExact,
    /// `field__in`.
    In,
    /// `field__startswith` (case-sensitive on both backends).
    StartsWith,
    /// `field__endswith`.
    EndsWith,
    /// `field__contains` (case-sensitive).
    Contains,
    /// `field__icontains`.
    IContains,
    /// `field__gt`.
    Gt,
    /// `field__gte`.
    Gte,
    /// `field__lt`.
    Lt,
    /// `field__lte`.
    Lte,
    /// `field__isnull` (value true/false).
    IsNull,
}

impl Op {
    const ALL: [(&'static str, Op); 12] = [
        ("exact", Op::Exact),
        ("iexact", Op::IExact),
        ("in", Op::In),
        ("startswith", Op::StartsWith),
        ("endswith", Op::EndsWith),
        ("contains", Op::Contains),
        ("icontains", Op::IContains),
        ("gt", Op::Gt),
        ("gte", Op::Gte),
        ("lt", Op::Lt),
        ("lte", Op::Lte),
        ("isnull", Op::IsNull),
    ];

    fn parse(s: &str) -> Option<Op> {
        Op::ALL.iter().find(|(n, _)| *n == s).map(|(_, op)| *op)
    }
}

/// One bound parameter.
#[derive(Debug, Clone, PartialEq)]
enum Bind {
    Text(String),
    BigInt(i64),
    Int(i32),
    SmallInt(i16),
    Bool(bool),
    Timestamp(NaiveDateTime),
    Double(f64),
}

/// SQL text plus its parameters, with placeholders in the backend's style.
#[derive(Debug)]
pub(crate) struct Sql {
    backend: Backend,
    pub(crate) text: String,
    binds: Vec<Bind>,
    /// Where each bind's placeholder is in `text` (start, end).
    marks: Vec<(usize, usize)>,
    /// Whether the best plan depends on a bound value (a pattern, a range, a non-key
    /// column): such a statement is never prepared for reuse, so PostgreSQL plans it for
    /// each value (a generic plan for `name LIKE $1` cannot use the prefix index).
    per_value_plan: bool,
    alias_counter: usize,
}

impl Sql {
    pub(crate) fn new(backend: Backend) -> Sql {
        Sql {
            backend,
            text: String::new(),
            binds: Vec::new(),
            marks: Vec::new(),
            per_value_plan: false,
            alias_counter: 0,
        }
    }

    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        let start = self.text.len();
        match self.backend {
            Backend::Sqlite => self.text.push('?'),
            Backend::Postgres => {
                let n = self.binds.len();
                self.text.push_str(&format!("${n}"));
            }
        }
        self.marks.push((start, self.text.len()));
        self
    }

    pub(crate) fn bind_i64(&mut self, v: i64) -> &mut Self {
        self.bind(Bind::BigInt(v))
    }

    pub(crate) fn bind_text(&mut self, v: String) -> &mut Self {
        self.bind(Bind::Text(v))
    }

    pub(crate) fn bind_bool(&mut self, v: bool) -> &mut Self {
        self.bind(Bind::Bool(v))
    }

    pub(crate) fn bind_timestamp(&mut self, v: chrono::NaiveDateTime) -> &mut Self {
        self.bind(Bind::Timestamp(v))
    }

    /// The Unicode-aware lower-case function of the backend.
    fn lower(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "lamella_lower",
            Backend::Postgres => "LOWER",
        }
    }

    /// The statement with `prefix` before its text (its binds where they were).
    fn prefixed(mut self, prefix: &str) -> Sql {
        self.text.insert_str(0, prefix);
        for (start, end) in &mut self.marks {
            *start += prefix.len();
            *end += prefix.len();
        }
        self
    }

    fn alias(&mut self) -> String {
        self.alias_counter += 1;
        format!("t{}", self.alias_counter)
    }
}

impl Sql {
    /// Runs the statement and decodes every row as `T`.
    pub(crate) fn load<T: Record>(&self, conn: &mut Conn<'_>) -> Result<Vec<T>> {
        let statement = self.statement();
        Ok(with_conn!(conn.inner, |c| statement.load::<T>(c))?)
    }

    /// Runs the statement and decodes every row as `T` (any `QueryableByName` row type).
    pub(crate) fn load_rows<T>(&self, conn: &mut Conn<'_>) -> Result<Vec<T>>
    where
        T: diesel::QueryableByName<diesel::sqlite::Sqlite>
            + diesel::QueryableByName<diesel::pg::Pg>
            + 'static,
    {
        let statement = self.statement();
        Ok(with_conn!(conn.inner, |c| statement.load::<T>(c))?)
    }

    /// Runs the statement, returning the number of affected rows.
    pub(crate) fn execute(&self, conn: &mut Conn<'_>) -> Result<usize> {
        let statement = self.statement();
        Ok(with_conn!(conn.inner, |c| statement.execute(c))?)
    }

    /// The statement as diesel runs it, reused or not (see [`Sql::repeated`]).
    fn statement(&self) -> Statement<'_> {
        Statement {
            sql: self,
            reuse: self.repeated(),
        }
    }

    /// Whether this statement's text ran before in this process (and is a query or a row
    /// change, which the servers prepare): a statement seen once runs unnamed — one round
    /// trip, as a one-shot command wants —, a repeated one is prepared once per connection
    /// and then only executed, so PostgreSQL stops planning it anew (a query by label
    /// through a feature: 0.5 ms planned each time, 0.25 ms prepared). Statements whose
    /// best plan depends on a value (`per_value_plan`: patterns, ranges, non-key columns)
    /// are never reused — PostgreSQL would settle on one generic plan for all values. At
    /// most `REUSED_SHAPES` texts are prepared per process; texts with values written in
    /// (id lists) differ each time and stay unnamed.
    fn repeated(&self) -> bool {
        use std::hash::BuildHasher;
        use std::sync::{Mutex, OnceLock};
        const REUSED_SHAPES: usize = 1024;
        static SEEN: OnceLock<Mutex<std::collections::HashSet<u64>>> = OnceLock::new();
        if self.per_value_plan {
            return false;
        }
        let head = self.text.trim_start().get(..6).unwrap_or_default();
        if !["SELECT", "INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|k| head.eq_ignore_ascii_case(k))
        {
            return false;
        }
        let key = foldhash::fast::FixedState::with_seed(0x1a3e11a).hash_one(&self.text);
        let mut seen = SEEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(&key) {
            return true;
        }
        if seen.len() < REUSED_SHAPES {
            seen.insert(key);
        }
        false
    }
}

/// A statement of [`Sql`] as diesel runs it: the text with each bind pushed where its
/// placeholder is. When `reuse`, diesel's statement cache keys it by its text, so it is
/// prepared on its first run on a connection and executed by name after that; otherwise it
/// runs unnamed, as `sql_query` does.
struct Statement<'a> {
    sql: &'a Sql,
    reuse: bool,
}

impl diesel::query_builder::QueryId for Statement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<C> RunQueryDsl<C> for Statement<'_> {}

macro_rules! statement_fragment {
    ($db:ty) => {
        impl diesel::query_builder::QueryFragment<$db> for Statement<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $db>,
            ) -> diesel::QueryResult<()> {
                if !self.reuse {
                    out.unsafe_to_cache_prepared();
                }
                let sql = self.sql;
                let mut at = 0;
                for (&(start, end), b) in sql.marks.iter().zip(&sql.binds) {
                    out.push_sql(&sql.text[at..start]);
                    match b {
                        Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                        Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                        Bind::Int(v) => out.push_bind_param::<Integer, _>(v)?,
                        Bind::SmallInt(v) => out.push_bind_param::<SmallInt, _>(v)?,
                        Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                        Bind::Timestamp(v) => out.push_bind_param::<Timestamp, _>(v)?,
                        Bind::Double(v) => out.push_bind_param::<Double, _>(v)?,
                    }
                    at = end;
                }
                out.push_sql(&sql.text[at..]);
                Ok(())
            }
        }
    };
}
statement_fragment!(diesel::sqlite::Sqlite);
statement_fragment!(diesel::pg::Pg);

#[derive(diesel::QueryableByName)]
pub(crate) struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) count: i64,
}

/// A query on one registry: filters (ANDed), ordering, paging.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    registry: &'static Registry,
    filters: Vec<(String, Value)>,
    order: Vec<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    include_trash: bool,
    labelled: Vec<(String, Option<String>)>,
    features: Vec<LookupFeature>,
}

/// A feature that a lookup names in place of a field (`temperature__gt`), as the query
/// compiler needs it: its id and dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupFeature {
    /// The feature's name.
    pub name: String,
    /// Its id.
    pub id: i64,
    /// Its dtype.
    pub dtype: crate::Dtype,
}

impl QuerySpec {
    /// An unfiltered query on `registry`.
    pub fn new(registry: &'static Registry) -> QuerySpec {
        QuerySpec {
            registry,
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            include_trash: false,
            labelled: Vec::new(),
            features: Vec::new(),
        }
    }

    /// The registry queried.
    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// Adds a lookup such as `("name__startswith", "study")` or `("parents__name", "is_species")`.
    pub fn filter(mut self, lookup: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters.push((lookup.into(), value.into()));
        self
    }

    /// Keeps records linked to the label named `label` — through the feature named `feature`
    /// when given ("artifacts where `cell_type` is `T cell`"). Registries with labels only
    /// (Artifact, Collection); one `IN` subquery on the link table.
    pub fn labelled(mut self, label: impl Into<String>, feature: Option<String>) -> Self {
        self.labelled.push((label.into(), feature));
        self
    }

    /// The names that lookups start with that are neither a field nor a relation of the
    /// registry: on Artifact and Collection, feature names (`temperature__gt`, `split`), to be
    /// resolved with [`with_features`](Self::with_features) before the query runs.
    pub fn feature_lookups(&self) -> Vec<String> {
        if self.registry.feature_links().is_none() {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (lookup, _) in &self.filters {
            let head = lookup.split("__").next().unwrap_or_default();
            if self.registry.field(head).is_none()
                && self.registry.relation(head).is_none()
                && !head.is_empty()
                && !out.iter().any(|h| h == head)
            {
                out.push(head.to_string());
            }
        }
        out
    }

    /// The features the lookups name (see [`feature_lookups`](Self::feature_lookups)).
    pub fn with_features(mut self, features: Vec<LookupFeature>) -> Self {
        self.features = features;
        self
    }

    /// The field or relation of the registry closest to `name` (a likely typo), if any.
    pub fn close_field(&self, name: &str) -> Option<&'static str> {
        self.registry
            .names()
            .map(|n| (strsim::levenshtein(n, name), n))
            .filter(|(d, n)| *d <= 2 && *d < n.len())
            .min()
            .map(|(_, n)| n)
    }

    /// Orders by a field; a leading `-` sorts descending (`"-created_at"`).
    pub fn order_by(mut self, field: impl Into<String>) -> Self {
        self.order.push(field.into());
        self
    }

    /// Returns at most `n` records.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` records.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Also returns hidden and trashed records (registries with `visibility`).
    pub fn include_trash(mut self, yes: bool) -> Self {
        self.include_trash = yes;
        self
    }

    /// Whether a name the query references that does not exist (see
    /// [`QuerySpec::named_references`]) leaves it matching nothing: true unless a name
    /// comes in an `__in` list, where the other names may still match. Every lookup is
    /// ANDed, so an exact name that no record carries empties the answer.
    pub fn names_decide_emptiness(&self) -> bool {
        self.filters
            .iter()
            .all(|(lookup, _)| !matches!(lookup_op(lookup), Op::In))
    }

    /// The names this query takes to exist: the label and feature of each
    /// [`labelled`](Self::labelled), and the values of exact and `__in` lookups on the `name`
    /// of a related ULabel or Feature (`ulabels__name`, `parents__name`,
    /// `feature_sets__features__name`). A name that exists in neither registry makes the
    /// query's answer empty for a reason the user did not mean, so callers check them.
    /// Returns `(registry, name)` pairs in query order.
    pub fn named_references(&self) -> Vec<(&'static Registry, String)> {
        use crate::registry::{FEATURE, ULABEL};
        let mut out = Vec::new();
        for (label, feature) in &self.labelled {
            out.push((&ULABEL, label.clone()));
            if let Some(f) = feature {
                out.push((&FEATURE, f.clone()));
            }
        }
        for (lookup, value) in &self.filters {
            let mut segs: Vec<&str> = lookup.split("__").collect();
            let op = match segs.last().and_then(|s| Op::parse(s)) {
                Some(op) if segs.len() > 1 => {
                    segs.pop();
                    op
                }
                _ => Op::Exact,
            };
            let categorical_feature = segs.len() == 1
                && self.registry.field(segs[0]).is_none()
                && self.registry.relation(segs[0]).is_none()
                && self.features.iter().any(|f| {
                    f.name == segs[0] && (f.dtype.is_categorical() || f.dtype.is_categorical_list())
                });
            if !matches!(op, Op::Exact | Op::In)
                || !(categorical_feature || (segs.len() >= 2 && segs.last() == Some(&"name")))
            {
                continue;
            }
            let target = if categorical_feature {
                Some(&ULABEL)
            } else {
                segs[..segs.len() - 1]
                    .iter()
                    .try_fold(self.registry, |reg, seg| {
                        reg.relation(seg).map(|r| r.target)
                    })
            };
            let Some(reg) = target else { continue };
            if !(std::ptr::eq(reg, &ULABEL) || std::ptr::eq(reg, &FEATURE)) {
                continue;
            }
            let names: Vec<String> = match (op, value) {
                (Op::In, Value::List(items)) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Text(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
                (Op::In, Value::Text(t)) => t.split(',').map(str::to_string).collect(),
                (_, Value::Text(t)) => vec![t.clone()],
                _ => Vec::new(),
            };
            out.extend(names.into_iter().map(|n| (reg, n)));
        }
        out
    }

    /// Compiles each lookup on a feature alone; the first that fails gives the feature's name
    /// and the error (a value its dtype cannot take, an operator it does not support).
    pub fn check_feature_lookups(&self) -> std::result::Result<(), (String, Error)> {
        for (lookup, value) in &self.filters {
            let head = lookup.split("__").next().unwrap_or_default();
            if self.registry.field(head).is_some() || self.registry.relation(head).is_some() {
                continue;
            }
            if let Some(f) = self.features.iter().find(|f| f.name == head) {
                let mut sql = Sql::new(Backend::Sqlite);
                feature_condition(self.registry, f, lookup, value, false, &mut sql)
                    .map_err(|e| (f.name.clone(), e))?;
            }
        }
        Ok(())
    }

    /// Checks every lookup and ordering without touching the database.
    pub fn validate(&self) -> Result<()> {
        self.compile_select(Backend::Sqlite, "*").map(|_| ())
    }

    fn compile_where(&self, sql: &mut Sql) -> Result<()> {
        let mut first = true;
        let mut and = |sql: &mut Sql| {
            sql.push(if first { " WHERE " } else { " AND " });
            first = false;
        };
        let explicit_visibility = self
            .filters
            .iter()
            .any(|(k, _)| k == "visibility" || k.starts_with("visibility__"));
        if self.registry.has_visibility && !self.include_trash && !explicit_visibility {
            and(sql);
            sql.push("t0.visibility = 1");
        }
        // Conditions on the record's own fields first, in the order given; then those
        // through link tables (feature values, labels), the likely most selective first
        // (an exact value, then a label, then a range): it drives as an `IN` list, the
        // others are probed per candidate (`EXISTS`) — no list is built for a condition
        // that matches half the registry.
        let mut linked: Vec<(u8, Linked<'_>)> = Vec::new();
        for (lookup, value) in &self.filters {
            let head = lookup.split("__").next().unwrap_or_default();
            match self.features.iter().find(|f| f.name == head) {
                Some(feature)
                    if self.registry.field(head).is_none()
                        && self.registry.relation(head).is_none() =>
                {
                    let rank = match (
                        lookup_op(lookup),
                        feature.dtype.is_categorical() || feature.dtype.is_categorical_list(),
                    ) {
                        (Op::IsNull, _) => 3,
                        (_, _) if matches!(value, Value::Null) => 3,
                        (Op::Exact | Op::In, false) => 0,
                        (Op::Exact | Op::In, true) => 1,
                        _ => 2,
                    };
                    linked.push((rank, Linked::Feature(feature, lookup, value)));
                }
                _ => {
                    and(sql);
                    sql.push("(");
                    condition(self.registry, "t0", lookup, value, sql)?;
                    sql.push(")");
                }
            }
        }
        for (label, feature) in &self.labelled {
            linked.push((1, Linked::Label(label, feature.as_deref())));
        }
        linked.sort_by_key(|(rank, _)| *rank);
        for (i, (_, cond)) in linked.into_iter().enumerate() {
            let probe = i > 0;
            and(sql);
            sql.push("(");
            match cond {
                Linked::Feature(feature, lookup, value) => {
                    feature_condition(self.registry, feature, lookup, value, probe, sql)?;
                }
                Linked::Label(label, feature) => {
                    self.label_condition(label, feature, probe, sql)?
                }
            }
            sql.push(")");
        }
        Ok(())
    }

    /// "Labelled `label` (through `feature`)": `t0.id IN (…)`, or probed per record.
    fn label_condition(
        &self,
        label: &str,
        feature: Option<&str>,
        probe: bool,
        sql: &mut Sql,
    ) -> Result<()> {
        let Some(RelationKind::ManyToMany {
            link,
            self_col,
            other_col,
        }) = self.registry.relation("ulabels").map(|r| &r.kind)
        else {
            return Err(Error::Lookup(format!(
                "{} records carry no labels: filter artifacts or collections by label",
                self.registry.name
            )));
        };
        let (l, u) = (sql.alias(), sql.alias());
        let from = format!(
            "{link} {l} {} lamella_ulabels {u} ON {u}.id = {l}.{other_col}",
            probe_join(sql, probe)
        );
        open_semi(sql, probe, &format!("{l}.{self_col}"), &from);
        sql.push(&format!("{u}.name = "));
        sql.bind_text(label.to_string());
        if let Some(feature) = feature {
            let f = sql.alias();
            sql.push(&format!(
                " AND {l}.feature_id IN (SELECT {f}.id FROM lamella_features {f} WHERE \
                 {f}.name = "
            ));
            sql.bind_text(feature.to_string());
            sql.push(")");
        }
        sql.push(")");
        Ok(())
    }

    fn compile_select(&self, backend: Backend, what: &str) -> Result<Sql> {
        let mut sql = Sql::new(backend);
        sql.push(&format!("SELECT {what} FROM {} t0", self.registry.table));
        self.compile_where(&mut sql)?;
        Ok(sql)
    }

    fn compile_order(&self, sql: &mut Sql) -> Result<()> {
        let mut parts = Vec::new();
        for o in &self.order {
            let (name, dir) = match o.strip_prefix('-') {
                Some(n) => (n, "DESC"),
                None => (o.as_str(), "ASC"),
            };
            if self.registry.field(name).is_none() {
                return Err(Error::Lookup(unknown_name(self.registry, name, "order by")));
            }
            parts.push(format!("t0.{} {dir}", quote_ident(name)));
        }
        parts.push("t0.id ASC".into());
        sql.push(" ORDER BY ");
        sql.push(&parts.join(", "));
        if let Some(l) = self.limit {
            sql.push(&format!(" LIMIT {}", l.max(0)));
        } else if self.offset.is_some() && sql.backend == Backend::Sqlite {
            sql.push(" LIMIT -1");
        }
        if let Some(o) = self.offset {
            sql.push(&format!(" OFFSET {}", o.max(0)));
        }
        Ok(())
    }

    /// The annotations of the matching records (`n_records` of them), in a fixed number of
    /// statements however many records and features: the label links through a feature
    /// and the value links, then each distinct label name and value once — of the features
    /// `feature_ids` only when given. When the records are most of the registry the link
    /// tables are read whole (a scan beats a probe per record): links of other records may
    /// come back, and the caller drops them.
    pub fn feature_annotations(
        &self,
        conn: &mut Conn<'_>,
        feature_ids: Option<&[i64]>,
        n_records: usize,
    ) -> Result<Annotations> {
        #[derive(diesel::QueryableByName)]
        struct LabelLink {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = BigInt)]
            owner_id: i64,
            #[diesel(sql_type = BigInt)]
            feature_id: i64,
            #[diesel(sql_type = BigInt)]
            ulabel_id: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = Text)]
            name: String,
        }
        #[derive(diesel::QueryableByName)]
        struct ValueLink {
            #[diesel(sql_type = BigInt)]
            owner_id: i64,
            #[diesel(sql_type = BigInt)]
            value_id: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Val {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = BigInt)]
            feature_id: i64,
            #[diesel(sql_type = Text)]
            value: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<Double>)]
            num: Option<f64>,
            #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
            ts: Option<NaiveDateTime>,
        }
        #[derive(diesel::QueryableByName)]
        struct MaxId {
            #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
            max_id: Option<i64>,
        }
        let Some(links) = self.registry.feature_links() else {
            return Err(Error::Lookup(format!(
                "{} records carry no features values",
                self.registry.name
            )));
        };
        if n_records == 0 || feature_ids.is_some_and(<[i64]>::is_empty) {
            return Ok(Annotations::default());
        }
        let in_list = |ids: &mut dyn Iterator<Item = i64>| {
            ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        };
        let only = |col: &str| match feature_ids {
            Some(ids) => format!(" AND {col} IN ({})", in_list(&mut ids.iter().copied())),
            None => String::new(),
        };
        // Most of the registry: read the links whole.
        let mut sql = Sql::new(conn.backend());
        sql.push(&format!(
            "SELECT MAX(id) AS max_id FROM {}",
            self.registry.table
        ));
        let max_id = sql
            .load_rows::<MaxId>(conn)?
            .first()
            .and_then(|r| r.max_id)
            .unwrap_or(0);
        let whole = n_records.saturating_mul(2) as i64 >= max_id;
        let owner = links.owner_col;
        let of_records = |sql: &mut Sql| -> Result<()> {
            if whole {
                return Ok(());
            }
            sql.push(&format!(
                " AND fx.{owner} IN (SELECT t0.id FROM {} t0",
                self.registry.table
            ));
            self.compile_where(sql)?;
            if self.limit.is_some() || self.offset.is_some() {
                self.compile_order(sql)?;
            }
            sql.push(")");
            Ok(())
        };
        let mut sql = Sql::new(conn.backend());
        sql.push(&format!(
            "SELECT fx.id AS id, fx.{owner} AS owner_id, fx.feature_id AS feature_id, \
             fx.ulabel_id AS ulabel_id FROM {} fx WHERE fx.feature_id IS NOT NULL{}",
            links.labels,
            only("fx.feature_id")
        ));
        of_records(&mut sql)?;
        let mut label_links: Vec<LabelLink> = sql.load_rows(conn)?;
        label_links.sort_unstable_by_key(|l| l.id);
        let mut sql = Sql::new(conn.backend());
        sql.push(&format!(
            "SELECT fx.{owner} AS owner_id, fx.feature_value_id AS value_id FROM {} fx",
            links.values
        ));
        if feature_ids.is_some() {
            // (SQLite's CROSS JOIN keeps the links outer: its planner would otherwise probe
            // every record for every value of the features.)
            let join = match sql.backend {
                Backend::Sqlite => "CROSS JOIN",
                Backend::Postgres => "JOIN",
            };
            sql.push(&format!(
                " {join} lamella_feature_values v ON v.id = fx.feature_value_id WHERE 1 = 1{}",
                only("v.feature_id")
            ));
        } else {
            sql.push(" WHERE 1 = 1");
        }
        of_records(&mut sql)?;
        let mut value_links: Vec<ValueLink> = sql.load_rows(conn)?;
        value_links.sort_unstable_by_key(|l| (l.value_id, l.owner_id));
        // Each label and value once, by id.
        let mut label_ids: Vec<i64> = label_links.iter().map(|l| l.ulabel_id).collect();
        label_ids.sort_unstable();
        label_ids.dedup();
        let mut value_ids: Vec<i64> = value_links.iter().map(|l| l.value_id).collect();
        value_ids.dedup();
        let names: Vec<Name> = if label_ids.is_empty() {
            Vec::new()
        } else {
            let mut sql = Sql::new(conn.backend());
            sql.push(&format!(
                "SELECT id, name FROM lamella_ulabels WHERE id IN ({})",
                in_list(&mut label_ids.into_iter())
            ));
            sql.load_rows(conn)?
        };
        let values: Vec<Val> = if value_ids.is_empty() {
            Vec::new()
        } else {
            let mut sql = Sql::new(conn.backend());
            sql.push(&format!(
                "SELECT id, feature_id, value, num, ts FROM lamella_feature_values WHERE id IN ({})",
                in_list(&mut value_ids.into_iter())
            ));
            sql.load_rows(conn)?
        };
        Ok(Annotations {
            label_links: label_links
                .into_iter()
                .map(|l| (l.owner_id, l.feature_id, l.ulabel_id))
                .collect(),
            label_names: names.into_iter().map(|n| (n.id, n.name)).collect(),
            value_links: value_links
                .into_iter()
                .map(|l| (l.owner_id, l.value_id))
                .collect(),
            values: values
                .into_iter()
                .map(|v| (v.id, (v.feature_id, v.value, v.num, v.ts)))
                .collect(),
        })
    }

    /// Loads the matching records.
    pub fn load<T: Record>(&self, conn: &mut Conn<'_>) -> Result<Vec<T>> {
        self.check_registry::<T>()?;
        let mut sql = self.compile_select(conn.backend(), &select_list(self.registry))?;
        self.compile_order(&mut sql)?;
        sql.load(conn)
    }

    /// The database's plan for loading the matching records, one line per step (SQLite's
    /// `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN`): how the lookups meet the indexes.
    pub fn explain(&self, conn: &mut Conn<'_>) -> Result<Vec<String>> {
        #[derive(diesel::QueryableByName)]
        struct SqlitePlan {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = BigInt)]
            parent: i64,
            #[diesel(sql_type = Text)]
            detail: String,
        }
        #[derive(diesel::QueryableByName)]
        struct PgPlan {
            #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
            line: String,
        }
        let backend = conn.backend();
        let mut sql = self.compile_select(backend, &select_list(self.registry))?;
        self.compile_order(&mut sql)?;
        let explained = sql.prefixed(match backend {
            Backend::Sqlite => "EXPLAIN QUERY PLAN ",
            Backend::Postgres => "EXPLAIN ",
        });
        Ok(match backend {
            Backend::Sqlite => {
                let rows: Vec<SqlitePlan> = explained.load_rows(conn)?;
                // Indent each step under its parent.
                let mut depth: std::collections::HashMap<i64, usize> = Default::default();
                rows.into_iter()
                    .map(|r| {
                        let d = depth.get(&r.parent).map_or(0, |d| d + 1);
                        depth.insert(r.id, d);
                        format!("{}{}", "  ".repeat(d), r.detail)
                    })
                    .collect()
            }
            Backend::Postgres => explained
                .load_rows::<PgPlan>(conn)?
                .into_iter()
                .map(|r| r.line)
                .collect(),
        })
    }

    /// Counts the matching records.
    pub fn count(&self, conn: &mut Conn<'_>) -> Result<i64> {
        let sql = self.compile_select(conn.backend(), "COUNT(*) AS count")?;
        let rows: Vec<CountRow> = sql.load_rows(conn)?;
        Ok(rows.first().map_or(0, |r| r.count))
    }

    /// The ids of the matching records, in query order.
    pub fn ids(&self, conn: &mut Conn<'_>) -> Result<Vec<i64>> {
        #[derive(diesel::QueryableByName)]
        struct IdRow {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        let mut sql = self.compile_select(conn.backend(), "t0.id")?;
        self.compile_order(&mut sql)?;
        let rows: Vec<IdRow> = sql.load_rows(conn)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    fn check_registry<T: Record>(&self) -> Result<()> {
        if std::ptr::eq(T::REGISTRY, self.registry) {
            Ok(())
        } else {
            Err(Error::Lookup(format!(
                "a {} query cannot load {} records",
                self.registry.name,
                T::REGISTRY.name
            )))
        }
    }
}

/// The explicit select list of a registry; `type` is read as `type_`, the name the models use
/// for that SQL keyword.
fn select_list(reg: &Registry) -> String {
    reg.fields
        .iter()
        .map(|f| match f.name {
            "type" => "t0.\"type\" AS type_".to_string(),
            n => format!("t0.\"{n}\""),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Quotes a column name that is an SQL keyword (`type`, `key`).
fn quote_ident(name: &str) -> String {
    format!("\"{name}\"")
}

fn unknown_name(reg: &Registry, name: &str, what: &str) -> String {
    let names: Vec<&str> = reg.names().collect();
    let best = names
        .iter()
        .map(|n| (strsim::levenshtein(n, name), *n))
        .min()
        .filter(|(d, _)| *d <= 3);
    let hint = match best {
        Some((_, n)) => format!("did you mean '{n}'? "),
        None => String::new(),
    };
    format!(
        "cannot {what} '{name}': {} has no such field or relation; {hint}(known: {})",
        reg.name,
        names.join(", ")
    )
}

/// Compiles a lookup on a feature (`temperature__gt`, `split`) of an artifact or collection
/// (`t0`): categorical features compare the names of the labels linked through the feature,
/// others the typed values linked (numbers as numbers, dates and datetimes as timestamps,
/// text as text).
fn feature_condition(
    reg: &'static Registry,
    feature: &LookupFeature,
    lookup: &str,
    value: &Value,
    probe: bool,
    sql: &mut Sql,
) -> Result<()> {
    use crate::Dtype;
    let Some(links) = reg.feature_links() else {
        return Err(Error::Lookup(format!(
            "{} records carry no feature values",
            reg.name
        )));
    };
    let mut segs: Vec<&str> = lookup.split("__").collect();
    let op = match segs.last().and_then(|s| Op::parse(s)) {
        Some(op) if segs.len() > 1 => {
            segs.pop();
            op
        }
        _ => Op::Exact,
    };
    if segs.len() > 1 {
        return Err(Error::Lookup(format!(
            "in lookup '{lookup}': '{}' is a feature, not a relation; unknown operator '{}' \
             (operators: {})",
            segs[0],
            segs[1..].join("__"),
            Op::ALL.map(|(n, _)| n).join(", ")
        )));
    }
    let owner = links.owner_col;
    let (op, value) = match (op, value) {
        (Op::Exact, Value::Null) => (Op::IsNull, &Value::Bool(true)),
        other => other,
    };
    let base = match &feature.dtype {
        Dtype::List(inner) => inner.as_ref(),
        d => d,
    };
    let (l, t) = (sql.alias(), sql.alias());
    if let Dtype::Cat(_) = base {
        if op == Op::IsNull {
            let not = if as_bool(value, lookup)? { "NOT " } else { "" };
            sql.push(&format!(
                "{not}EXISTS (SELECT 1 FROM {} {l} WHERE {l}.{owner} = t0.id AND {l}.feature_id = ",
                links.labels
            ));
            sql.bind_i64(feature.id);
            sql.push(")");
            return Ok(());
        }
        let from = format!(
            "{} {l} {} lamella_ulabels {t} ON {t}.id = {l}.ulabel_id",
            links.labels,
            probe_join(sql, probe)
        );
        open_semi(sql, probe, &format!("{l}.{owner}"), &from);
        sql.push(&format!("{l}.feature_id = "));
        sql.bind_i64(feature.id);
        sql.push(" AND ");
        field_condition(
            &format!("{t}.\"name\""),
            FieldType::Text,
            &feature.name,
            op,
            value,
            sql,
        )?;
        sql.push(")");
        return Ok(());
    }
    if op == Op::IsNull {
        let not = if as_bool(value, lookup)? { "NOT " } else { "" };
        sql.push(&format!(
            "{not}EXISTS (SELECT 1 FROM {} {l} JOIN lamella_feature_values {t} ON {t}.id = \
             {l}.feature_value_id WHERE {l}.{owner} = t0.id AND {t}.feature_id = ",
            links.values
        ));
        sql.bind_i64(feature.id);
        sql.push(")");
        return Ok(());
    }
    let (column, ty) = match base {
        Dtype::Int | Dtype::Float | Dtype::Num | Dtype::Bool => ("num", FieldType::Double),
        Dtype::Date | Dtype::Datetime => ("ts", FieldType::Timestamp),
        _ => ("value", FieldType::Text),
    };
    if ty != FieldType::Text
        && !matches!(op, Op::Exact | Op::In | Op::Gt | Op::Gte | Op::Lt | Op::Lte)
    {
        return Err(Error::Lookup(format!(
            "in lookup '{lookup}': feature '{}' has dtype '{}'; compare it with =, __gt, __gte, \
             __lt, __lte, __in or __isnull",
            feature.name, feature.dtype
        )));
    }
    // The value in the feature's type, checked as a stored value would be.
    let typed = |v: &Value| -> Result<Value> {
        if ty == FieldType::Text {
            return Ok(match v {
                Value::Text(_) => v.clone(),
                other => Value::Text(match other {
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => f.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                }),
            });
        }
        let stored = crate::values::typed(&feature.name, base, v)?;
        match stored.into_iter().next().flatten() {
            Some(s) if ty == FieldType::Double => Ok(Value::Float(s.num.unwrap_or_default())),
            Some(s) => Ok(Value::Text(
                s.ts.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                    .unwrap_or_default(),
            )),
            None => Err(Error::Value(format!(
                "in lookup '{lookup}': a missing value (null, NaN) matches nothing; use \
                 {}__isnull=true",
                feature.name
            ))),
        }
    };
    let value = match (op, value) {
        (Op::In, Value::List(items)) => {
            Value::List(items.iter().map(&typed).collect::<Result<Vec<_>>>()?)
        }
        (Op::In, Value::Text(s)) => Value::List(
            s.split(',')
                .map(|p| typed(&Value::Text(p.trim().to_string())))
                .collect::<Result<Vec<_>>>()?,
        ),
        (_, v) => typed(v)?,
    };
    let from = format!(
        "{} {l} {} lamella_feature_values {t} ON {t}.id = {l}.feature_value_id",
        links.values,
        probe_join(sql, probe)
    );
    open_semi(sql, probe, &format!("{l}.{owner}"), &from);
    sql.push(&format!("{t}.feature_id = "));
    sql.bind_i64(feature.id);
    sql.push(" AND ");
    field_condition(&format!("{t}.{column}"), ty, &feature.name, op, &value, sql)?;
    sql.push(")");
    Ok(())
}

/// A condition through a link table (see `compile_where`).
enum Linked<'a> {
    Feature(&'a LookupFeature, &'a str, &'a Value),
    Label(&'a str, Option<&'a str>),
}

/// The operator a lookup ends with (`=` when none).
fn lookup_op(lookup: &str) -> Op {
    let segs: Vec<&str> = lookup.split("__").collect();
    match segs.last().and_then(|s| Op::parse(s)) {
        Some(op) if segs.len() > 1 => op,
        _ => Op::Exact,
    }
}

/// The join inside a probe: SQLite's `CROSS JOIN` keeps the link table outer (its planner
/// would otherwise start from the value or label and scan its links).
fn probe_join(sql: &Sql, probe: bool) -> &'static str {
    match (probe, sql.backend) {
        (true, Backend::Sqlite) => "CROSS JOIN",
        _ => "JOIN",
    }
}

/// Opens a semi-join on the records `t0` through the link rows of `from` whose owner column
/// is `owner`: `t0.id IN (SELECT owner FROM … WHERE ` or, as a probe per record,
/// `EXISTS (SELECT 1 FROM … WHERE owner = t0.id AND `; the caller adds its conditions and
/// the closing parenthesis.
fn open_semi(sql: &mut Sql, probe: bool, owner: &str, from: &str) {
    if probe {
        sql.push(&format!(
            "EXISTS (SELECT 1 FROM {from} WHERE {owner} = t0.id AND "
        ));
    } else {
        sql.push(&format!("t0.id IN (SELECT {owner} FROM {from} WHERE "));
    }
}

/// Compiles one lookup (`a__b__op`) against `reg` aliased as `alias`.
fn condition(
    reg: &'static Registry,
    alias: &str,
    lookup: &str,
    value: &Value,
    sql: &mut Sql,
) -> Result<()> {
    let mut segs: Vec<&str> = lookup.split("__").collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(Error::Lookup(format!(
            "malformed lookup '{lookup}': write field, field__op or relation__field__op"
        )));
    }
    let op = match segs.last().and_then(|s| Op::parse(s)) {
        Some(op) if segs.len() > 1 => {
            segs.pop();
            op
        }
        _ => Op::Exact,
    };
    path_condition(reg, alias, &segs, op, value, lookup, sql)
}

fn path_condition(
    reg: &'static Registry,
    alias: &str,
    segs: &[&str],
    op: Op,
    value: &Value,
    lookup: &str,
    sql: &mut Sql,
) -> Result<()> {
    let head = segs[0];
    let rest = &segs[1..];
    if let Some(field) = reg.field(head) {
        if !rest.is_empty() {
            return Err(Error::Lookup(format!(
                "in lookup '{lookup}': '{head}' is a field of {}, not a relation; unknown \
                 operator '{}' (operators: {})",
                reg.name,
                rest.join("__"),
                Op::ALL.map(|(n, _)| n).join(", ")
            )));
        }
        let col = format!("{alias}.{}", quote_ident(field.name));
        return field_condition(&col, field.ty, field.name, op, value, sql);
    }
    let Some(rel) = reg.relation(head) else {
        return Err(Error::Lookup(format!(
            "in lookup '{lookup}': {}",
            unknown_name(reg, head, "filter on")
        )));
    };
    if rest.is_empty() && op == Op::IsNull {
        let is_null = as_bool(value, lookup)?;
        let not = if is_null { "NOT " } else { "" };
        match &rel.kind {
            RelationKind::ForeignKey { column } => {
                sql.push(&format!(
                    "{alias}.{column} IS {}NULL",
                    if is_null { "" } else { "NOT " }
                ));
            }
            RelationKind::Reverse { column } => {
                let t = sql.alias();
                sql.push(&format!(
                    "{not}EXISTS (SELECT 1 FROM {} {t} WHERE {t}.{column} = {alias}.id)",
                    rel.target.table
                ));
            }
            RelationKind::ManyToMany { link, self_col, .. } => {
                let t = sql.alias();
                sql.push(&format!(
                    "{not}EXISTS (SELECT 1 FROM {link} {t} WHERE {t}.{self_col} = {alias}.id)"
                ));
            }
        }
        return Ok(());
    }
    let rest: &[&str] = if rest.is_empty() { &["id"] } else { rest };
    let t = sql.alias();
    let target = rel.target;
    match &rel.kind {
        RelationKind::ForeignKey { column } => {
            sql.push(&format!(
                "{alias}.{column} IN (SELECT {t}.id FROM {} {t} WHERE ",
                target.table
            ));
        }
        RelationKind::Reverse { column } => {
            sql.push(&format!(
                "{alias}.id IN (SELECT {t}.{column} FROM {} {t} WHERE ",
                target.table
            ));
        }
        RelationKind::ManyToMany {
            link,
            self_col,
            other_col,
        } => {
            let l = sql.alias();
            sql.push(&format!(
                "{alias}.id IN (SELECT {l}.{self_col} FROM {link} {l} JOIN {} {t} ON {t}.id = \
                 {l}.{other_col} WHERE ",
                target.table
            ));
        }
    }
    path_condition(target, &t, rest, op, value, lookup, sql)?;
    sql.push(")");
    Ok(())
}

fn as_bool(value: &Value, what: &str) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Text(t) => match t.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "1" => Ok(true),
            "false" | "f" | "no" | "0" => Ok(false),
            _ => Err(Error::Value(format!(
                "'{what}' expects true or false, got '{t}'"
            ))),
        },
        other => Err(Error::Value(format!(
            "'{what}' expects true or false, got {other:?}"
        ))),
    }
}

/// Converts `value` to a bind of the field's type, with a clear error when it cannot be.
fn coerce(value: &Value, ty: FieldType, field: &str) -> Result<Bind> {
    let bad = |v: &dyn std::fmt::Debug, expected: &str| {
        Error::Value(format!("field '{field}' expects {expected}, got {v:?}"))
    };
    Ok(match ty {
        FieldType::Text => match value {
            Value::Text(s) => Bind::Text(s.clone()),
            Value::Int(i) => Bind::Text(i.to_string()),
            Value::Float(f) => Bind::Text(f.to_string()),
            Value::Bool(b) => Bind::Text(b.to_string()),
            v => return Err(bad(v, "text")),
        },
        FieldType::BigInt | FieldType::Int | FieldType::SmallInt => {
            let i = match value {
                Value::Int(i) => *i,
                Value::Text(s) => s.trim().parse::<i64>().map_err(|_| bad(s, "an integer"))?,
                Value::Bool(b) => i64::from(*b),
                v => return Err(bad(v, "an integer")),
            };
            match ty {
                FieldType::BigInt => Bind::BigInt(i),
                FieldType::Int => {
                    Bind::Int(i32::try_from(i).map_err(|_| bad(&i, "a 32-bit integer"))?)
                }
                _ => Bind::SmallInt(i16::try_from(i).map_err(|_| bad(&i, "a small integer"))?),
            }
        }
        FieldType::Bool => Bind::Bool(as_bool(value, field)?),
        FieldType::Double => Bind::Double(match value {
            Value::Float(f) => *f,
            Value::Int(i) => *i as f64,
            Value::Text(s) => s.trim().parse::<f64>().map_err(|_| bad(s, "a number"))?,
            v => return Err(bad(v, "a number")),
        }),
        FieldType::Timestamp => match value {
            Value::Text(s) => Bind::Timestamp(parse_timestamp(s).ok_or_else(|| {
                bad(
                    s,
                    "a UTC timestamp such as 2024-05-19 or 2024-05-19T23:23:24",
                )
            })?),
            v => return Err(bad(v, "a timestamp")),
        },
    })
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]`, the same with `T`, or RFC 3339.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn like_pattern(s: &str, prefix: bool, suffix: bool) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    if prefix {
        p.push('%');
    }
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    if suffix {
        p.push('%');
    }
    p
}

/// Columns whose values are (nearly) unique: an equality on them has one good plan.
const KEY_COLUMNS: [&str; 6] = ["id", "uid", "name", "key", "hash", "handle"];

fn field_condition(
    col: &str,
    ty: FieldType,
    field: &str,
    op: Op,
    value: &Value,
    sql: &mut Sql,
) -> Result<()> {
    // Only equality on a key (ids, uids, names, keys, hashes) plans the same for every value.
    let bare = col.rsplit('.').next().unwrap_or(col).trim_matches('"');
    if !(matches!(op, Op::Exact | Op::In) && KEY_COLUMNS.contains(&bare)) {
        sql.per_value_plan = true;
    }
    let text_only = |what: &str| -> Result<String> {
        match value {
            Value::Text(s) if ty == FieldType::Text => Ok(s.clone()),
            _ => Err(Error::Value(format!(
                "'{field}__{what}' needs a text field and a text value"
            ))),
        }
    };
    match op {
        Op::Exact if *value == Value::Null => {
            sql.push(&format!("{col} IS NULL"));
        }
        Op::Exact => {
            let b = coerce(value, ty, field)?;
            sql.push(&format!("{col} = "));
            sql.bind(b);
        }
        Op::IExact => {
            let s = text_only("iexact")?;
            let lower = sql.lower();
            sql.push(&format!("{lower}({col}) = "));
            sql.bind(Bind::Text(s.to_lowercase()));
        }
        Op::In => {
            let items: Vec<Value> = match value {
                Value::List(items) => items.clone(),
                Value::Text(s) => s.split(',').map(|p| Value::Text(p.to_string())).collect(),
                other => vec![other.clone()],
            };
            if items.is_empty() {
                sql.push("1 = 0");
                return Ok(());
            }
            sql.push(&format!("{col} IN ("));
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                let b = coerce(item, ty, field)?;
                sql.bind(b);
            }
            sql.push(")");
        }
        Op::StartsWith | Op::EndsWith | Op::Contains => {
            let s = text_only(match op {
                Op::StartsWith => "startswith",
                Op::EndsWith => "endswith",
                _ => "contains",
            })?;
            let pat = like_pattern(&s, op != Op::StartsWith, op != Op::EndsWith);
            sql.push(&format!("{col} LIKE "));
            sql.bind(Bind::Text(pat));
            sql.push(" ESCAPE '\\'");
        }
        Op::IContains => {
            let s = text_only("icontains")?;
            let lower = sql.lower();
            sql.push(&format!("{lower}({col}) LIKE "));
            sql.bind(Bind::Text(like_pattern(&s.to_lowercase(), true, true)));
            sql.push(" ESCAPE '\\'");
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let b = coerce(value, ty, field)?;
            let sym = match op {
                Op::Gt => ">",
                Op::Gte => ">=",
                Op::Lt => "<",
                _ => "<=",
            };
            sql.push(&format!("{col} {sym} "));
            sql.bind(b);
        }
        Op::IsNull => {
            let is_null = as_bool(value, field)?;
            sql.push(&format!(
                "{col} IS {}NULL",
                if is_null { "" } else { "NOT " }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{ARTIFACT, ULABEL};

    fn compile(spec: &QuerySpec, backend: Backend) -> String {
        let mut sql = spec.compile_select(backend, "t0.*").unwrap();
        spec.compile_order(&mut sql).unwrap();
        sql.text
    }

    #[test]
    fn compiles_relation_paths_to_subqueries() {
        let q = QuerySpec::new(&ULABEL).filter("parents__name", "is_species");
        assert_eq!(
            compile(&q, Backend::Postgres),
            "SELECT t0.* FROM lamella_ulabels t0 WHERE (t0.id IN (SELECT t2.child_id FROM \
             lamella_ulabel_parents t2 JOIN lamella_ulabels t1 ON t1.id = t2.parent_id WHERE \
             t1.\"name\" = $1)) ORDER BY t0.id ASC"
        );
    }

    #[test]
    fn artifacts_hide_trash_unless_asked() {
        let q = QuerySpec::new(&ARTIFACT).filter("key__startswith", "iris/");
        let s = compile(&q, Backend::Sqlite);
        assert!(s.contains("t0.visibility = 1"), "{s}");
        assert!(s.contains("LIKE ? ESCAPE"), "{s}");
        let q = QuerySpec::new(&ARTIFACT).filter("visibility", -1);
        assert!(!compile(&q, Backend::Sqlite).contains("visibility = 1"));
    }

    #[test]
    fn unknown_names_suggest() {
        let e = QuerySpec::new(&ULABEL)
            .filter("nmae", "x")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("did you mean 'name'"), "{e}");
        let e = QuerySpec::new(&ULABEL)
            .filter("name__startwith", "x")
            .validate()
            .unwrap_err();
        assert!(
            e.to_string().contains("unknown operator 'startwith'"),
            "{e}"
        );
        let e = QuerySpec::new(&ULABEL)
            .order_by("-craeted_at")
            .compile_select(Backend::Sqlite, "*")
            .and_then(|mut s| {
                QuerySpec::new(&ULABEL)
                    .order_by("-craeted_at")
                    .compile_order(&mut s)
            })
            .unwrap_err();
        assert!(e.to_string().contains("did you mean 'created_at'"), "{e}");
    }

    #[test]
    fn values_are_coerced_or_rejected() {
        let q = QuerySpec::new(&ARTIFACT).filter("size__gt", "12");
        assert!(q.validate().is_ok());
        let e = QuerySpec::new(&ARTIFACT)
            .filter("size__gt", "big")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("expects an integer"), "{e}");
        let e = QuerySpec::new(&ULABEL)
            .filter("created_at__gt", "yesterday")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("timestamp"), "{e}");
        assert!(parse_timestamp("2024-05-19").is_some());
        assert!(parse_timestamp("2024-05-19T23:23:24Z").is_some());
    }

    #[test]
    fn only_statements_planned_alike_for_every_value_are_reused() {
        let per_value = |q: QuerySpec| {
            q.compile_select(Backend::Postgres, "*")
                .unwrap()
                .per_value_plan
        };
        assert!(!per_value(QuerySpec::new(&ULABEL).filter("name", "T cell")));
        assert!(!per_value(
            QuerySpec::new(&ULABEL).filter("name__in", vec!["a", "b"])
        ));
        assert!(!per_value(
            QuerySpec::new(&ARTIFACT).labelled("T cell", Some("cell_type".into()))
        ));
        assert!(per_value(
            QuerySpec::new(&ULABEL).filter("name__startswith", "T")
        ));
        assert!(per_value(QuerySpec::new(&ARTIFACT).filter("size__gt", 100)));
        assert!(per_value(
            QuerySpec::new(&ARTIFACT).filter("suffix", ".h5ad")
        ));
        assert!(per_value(
            QuerySpec::new(&ULABEL).filter("parents__name__contains", "species")
        ));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a_b%", false, true), "a\\_b\\%%");
    }
}

/// The feature annotations of many records (see [`QuerySpec::feature_annotations`]).
#[derive(Debug, Default)]
pub struct Annotations {
    /// `(record id, feature id, label id)` in link order.
    pub label_links: Vec<(i64, i64, i64)>,
    /// The names of the labels linked, by id.
    pub label_names: std::collections::HashMap<i64, String>,
    /// `(record id, value id)` in value order.
    pub value_links: Vec<(i64, i64)>,
    /// The values linked, by id: `(feature id, text, num, ts)`.
    pub values: std::collections::HashMap<i64, (i64, String, Option<f64>, Option<NaiveDateTime>)>,
}
