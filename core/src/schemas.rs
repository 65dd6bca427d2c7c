//! Saved schemas: a named feature set with the rules `validate` and `curate` apply, saved and
//! versioned (`ln.schemas().create("iris").feature("species").require("species").save()`).
//! A version never changes: other rules under the same name are the next version, and an
//! artifact curated with a schema keeps the version it passed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lamella_schema::schemas::{self as rows, SchemaMemberRow, SchemaRow};
use lamella_schema::{Feature, now};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::registry::Saved;

/// Characters of a schema uid: a 16-character stem its versions share, then 4 for the
/// version.
const STEM_LEN: usize = 16;

/// A saved schema version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    /// Its uid: the family's 16-character stem, then the version (`…0000`, `…0001`).
    pub uid: String,
    /// Its name (shared by its versions).
    pub name: String,
    /// The version, from 1.
    pub version: u32,
    /// A description.
    pub description: Option<String>,
    /// The hash of its members and rules: equal rules, equal hash.
    pub hash: String,
    /// Whether the required features' columns must come in the schema's order.
    pub ordered: bool,
    /// Whether columns of features outside the schema (or of none) are allowed.
    pub allow_extra: bool,
    /// Whether it is the newest version of its name.
    pub is_latest: bool,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Its features, in order.
    pub features: Vec<SchemaFeature>,
    #[serde(skip)]
    pub(crate) id: i64,
}

/// A schema version, named (what `describe` shows of the schema an artifact passed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaRef {
    /// The version's uid.
    pub uid: String,
    /// The schema's name.
    pub name: String,
    /// The version, from 1.
    pub version: u32,
    /// The hash of its rules.
    pub hash: String,
}

impl SchemaRef {
    pub(crate) fn of(r: &SchemaRow) -> SchemaRef {
        SchemaRef {
            uid: r.uid.clone(),
            name: r.name.clone(),
            version: version_of(&r.uid),
            hash: r.hash.clone(),
        }
    }
}

/// A feature of a schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaFeature {
    /// The feature's name.
    pub name: String,
    /// Its dtype.
    pub dtype: String,
    /// Whether a table must have a column for it.
    pub required: bool,
    /// The column checked against it when that column is named otherwise.
    pub column: Option<String>,
}

/// A schema being defined (see [`Schemas::create`]).
#[derive(Debug, Clone)]
pub struct SchemaDraft {
    ln: Instance,
    name: String,
    description: Option<String>,
    features: Vec<String>,
    required: Vec<String>,
    categorical: Vec<(String, String)>,
    ordered: bool,
    allow_extra: bool,
}

/// The schema registry: `ln.schemas()`.
#[derive(Debug, Clone)]
pub struct Schemas {
    ln: Instance,
}

impl Instance {
    /// The saved schemas.
    pub fn schemas(&self) -> Schemas {
        Schemas { ln: self.clone() }
    }
}

impl SchemaDraft {
    /// A feature the schema lists (in order); repeatable.
    pub fn feature(mut self, name: impl Into<String>) -> Self {
        self.features.push(name.into());
        self
    }

    /// A feature a table must have a column for (listed too when it is not yet).
    pub fn require(mut self, name: impl Into<String>) -> Self {
        self.required.push(name.into());
        self
    }

    /// Checks `column` against `feature` (a column named otherwise); the feature is listed.
    pub fn categorical(mut self, column: impl Into<String>, feature: impl Into<String>) -> Self {
        self.categorical.push((column.into(), feature.into()));
        self
    }

    /// Required features' columns must come in the schema's order.
    pub fn ordered(mut self) -> Self {
        self.ordered = true;
        self
    }

    /// Columns of features outside the schema (or of none) are allowed.
    pub fn allow_extra(mut self) -> Self {
        self.allow_extra = true;
        self
    }

    /// A description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Saves it: the schema itself when a version of this name has the same rules
    /// (`existed`), else the name's next version (the first: a new family). The features
    /// must exist.
    pub fn save(self) -> Result<Saved<Schema>> {
        let name = self.name.trim().to_string();
        crate::registry::check_text("schema name", Some(&name))?;
        if name.is_empty() {
            return Err(Error::invalid("the schema name", &self.name, "give a name"));
        }
        let mut names: Vec<String> = Vec::new();
        for n in self
            .features
            .iter()
            .chain(&self.required)
            .chain(self.categorical.iter().map(|(_, f)| f))
        {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        if names.is_empty() {
            return Err(Error::invalid(
                "the schema",
                &name,
                "it lists no feature: give it at least one feature",
            ));
        }
        let mut columns: HashMap<&str, &str> = HashMap::new();
        for (c, f) in &self.categorical {
            if let Some(other) = columns.insert(f.as_str(), c.as_str())
                && other != c
            {
                return Err(Error::invalid(
                    "the schema",
                    &name,
                    format!("feature '{f}' is given two columns, '{other}' and '{c}'"),
                ));
            }
        }
        let features = resolve(&self.ln, &names)?;
        let members: Vec<SchemaMemberRow> = features
            .iter()
            .enumerate()
            .map(|(i, f)| SchemaMemberRow {
                schema_id: 0,
                feature_id: f.id.unwrap_or_default(),
                position: i as i32,
                required: self.required.contains(&f.name),
                column_name: columns.get(f.name.as_str()).map(|c| c.to_string()),
            })
            .collect();
        let hash = rules_hash(&features, &members, self.ordered, self.allow_extra);
        let user = self.ln.user_id();
        let saved = self.ln.db().transaction(|conn| {
            conn.lock(&[format!("schema:{name}")])?;
            let versions = rows::schemas(conn, Some(&name))?;
            if let Some(same) = versions.iter().find(|v| v.hash == hash) {
                return Ok::<_, Error>((same.id, true));
            }
            let uid = match versions.last() {
                Some(last) => lamella_schema::VersionedUid::parse(&last.uid, STEM_LEN + 4)?
                    .next()
                    .ok_or_else(|| Error::Conflict {
                        message: format!("schema '{name}' has no version numbers left"),
                    })?,
                None => lamella_schema::VersionedUid::new_family(STEM_LEN),
            };
            let row = SchemaRow {
                id: 0,
                uid: uid.to_string(),
                name: name.clone(),
                description: self.description.clone(),
                hash: hash.clone(),
                ordered: self.ordered,
                allow_extra: self.allow_extra,
                is_latest: true,
                created_at: now(),
                created_by_id: user,
            };
            let id = rows::insert_schema(conn, &row, &members)?;
            rows::set_latest_schema(conn, &name, id)?;
            Ok((id, false))
        })?;
        let (id, existed) = saved;
        let record = self.ln.schemas().by_ids(&[id])?.remove(0);
        Ok(Saved {
            record,
            existed,
            similar: Vec::new(),
            notes: Vec::new(),
        })
    }
}

/// The features named, in order; an unknown name is an error with close names.
fn resolve(ln: &Instance, names: &[String]) -> Result<Vec<Feature>> {
    let found: Vec<Feature> = ln
        .db()
        .with_conn(|c| lamella_schema::load_where_in(c, "name", names))?;
    names
        .iter()
        .map(|n| {
            found
                .iter()
                .find(|f| &f.name == n)
                .cloned()
                .ok_or_else(|| Error::NotFound {
                    suggestions: ln.features().close_names(n).unwrap_or_default(),
                    registry: "Feature",
                    what: format!(
                        "name '{n}' (a schema lists registered features: create it first)"
                    ),
                })
        })
        .collect()
}

/// The hash of a schema's rules: its members (by feature uid, required, column; in order
/// when ordered) and options.
fn rules_hash(
    features: &[Feature],
    members: &[SchemaMemberRow],
    ordered: bool,
    allow_extra: bool,
) -> String {
    let mut parts: Vec<String> = features
        .iter()
        .zip(members)
        .map(|(f, m)| {
            let place = if ordered {
                format!("{:06}", m.position)
            } else {
                String::new()
            };
            format!(
                "{place}|{}|{}|{}",
                f.uid,
                m.required,
                m.column_name.as_deref().unwrap_or("")
            )
        })
        .collect();
    parts.push(format!("~ordered={ordered}~allow_extra={allow_extra}"));
    lamella_storage::hash_set(parts)
}

/// The version number of a uid (1 for `…0000`): its last four characters in base 62.
fn version_of(uid: &str) -> u32 {
    uid.get(uid.len().saturating_sub(4)..)
        .unwrap_or_default()
        .bytes()
        .fold(0u32, |n, b| {
            let d = lamella_schema::BASE62
                .iter()
                .position(|&c| c == b)
                .unwrap_or(0) as u32;
            n * 62 + d
        })
        + 1
}

impl Schemas {
    /// A new schema named `name` (saved with [`SchemaDraft::save`]).
    pub fn create(&self, name: impl Into<String>) -> SchemaDraft {
        SchemaDraft {
            ln: self.ln.clone(),
            name: name.into(),
            description: None,
            features: Vec::new(),
            required: Vec::new(),
            categorical: Vec::new(),
            ordered: false,
            allow_extra: false,
        }
    }

    fn by_ids(&self, ids: &[i64]) -> Result<Vec<Schema>> {
        let rows = self.ln.db().with_conn(|c| rows::schemas_by_ids(c, ids))?;
        self.complete(rows)
    }

    fn complete(&self, rows: Vec<SchemaRow>) -> Result<Vec<Schema>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let (members, features) = self.ln.db().with_conn(|c| {
            let members = rows::schema_members(c, &ids)?;
            let fids: Vec<i64> = members.iter().map(|m| m.feature_id).collect();
            let features: Vec<Feature> = lamella_schema::load_by_ids(c, &fids)?;
            Ok::<_, Error>((members, features))
        })?;
        Ok(assemble(rows, &members, &features))
    }

    /// The newest version of the schema named `name_or_uid`, or the version with that uid
    /// (or unique uid prefix).
    pub fn get(&self, name_or_uid: &str) -> Result<Schema> {
        let found = self.ln.db().with_conn(|c| {
            let by_name = rows::schemas(c, Some(name_or_uid))?;
            if !by_name.is_empty() {
                return Ok::<_, Error>(by_name.into_iter().filter(|r| r.is_latest).collect());
            }
            Ok(rows::schemas_by_uid(c, name_or_uid)?)
        })?;
        match found.len() {
            1 => Ok(self.complete(found)?.remove(0)),
            0 => {
                let names: Vec<String> = self.list()?.into_iter().map(|s| s.name).collect();
                Err(Error::NotFound {
                    suggestions: {
                        let asked: Vec<char> = name_or_uid.to_lowercase().chars().collect();
                        names
                            .into_iter()
                            .filter(|n| {
                                let n: Vec<char> = n.to_lowercase().chars().collect();
                                crate::names::bounded_osa(&asked, &n, 2).is_some()
                            })
                            .take(3)
                            .collect()
                    },
                    registry: "Schema",
                    what: format!("name or uid '{name_or_uid}'"),
                })
            }
            n => Err(Error::Ambiguous {
                registry: "Schema",
                what: format!("uid prefix '{name_or_uid}'"),
                count: n as i64,
            }),
        }
    }

    /// The newest version of every schema, by name.
    pub fn list(&self) -> Result<Vec<Schema>> {
        let all = self.ln.db().with_conn(|c| rows::schemas(c, None))?;
        self.complete(all.into_iter().filter(|r| r.is_latest).collect())
    }

    /// Every version of the schema named `name` (or of the version with that uid), oldest
    /// first.
    pub fn versions(&self, name: &str) -> Result<Vec<Schema>> {
        let all = self.ln.db().with_conn(|c| rows::schemas(c, Some(name)))?;
        if all.is_empty() {
            // Not a name: a version's uid, else the error of `get` (with close names).
            let s = self.get(name)?;
            return self.versions(&s.name);
        }
        self.complete(all)
    }

    /// Deletes every version of the schema named `name`; refused while an artifact keeps a
    /// version it passed. Returns how many versions were deleted.
    pub fn delete(&self, name: &str) -> Result<usize> {
        let s = self.get(name)?;
        let name = s.name.clone();
        self.ln.db().transaction(|conn| {
            conn.lock(&[format!("schema:{name}")])?;
            let ids: Vec<i64> = rows::schemas(conn, Some(&name))?
                .iter()
                .map(|r| r.id)
                .collect();
            let used = rows::schema_use(conn, &ids)?;
            if used > 0 {
                return Err(Error::Conflict {
                    message: format!(
                        "schema '{name}' is kept by {used} artifact{} that passed it: delete \
                         those artifacts first",
                        if used == 1 { "" } else { "s" }
                    ),
                });
            }
            Ok(rows::delete_schemas(conn, &ids)?)
        })
    }

    /// The schema version an artifact passed when it was curated, if any.
    pub fn of_artifact(&self, a: &lamella_schema::Artifact) -> Result<Option<Schema>> {
        let id = lamella_schema::require_id(a)?;
        let row = self.ln.db().with_conn(|c| rows::artifact_schema(c, id))?;
        match row {
            Some(r) => Ok(self.complete(vec![r])?.pop()),
            None => Ok(None),
        }
    }
}

fn assemble(
    rows: Vec<SchemaRow>,
    members: &[SchemaMemberRow],
    features: &[Feature],
) -> Vec<Schema> {
    let by_id: HashMap<i64, &Feature> = features.iter().filter_map(|f| Some((f.id?, f))).collect();
    rows.into_iter()
        .map(|r| Schema {
            version: version_of(&r.uid),
            features: members
                .iter()
                .filter(|m| m.schema_id == r.id)
                .filter_map(|m| {
                    let f = by_id.get(&m.feature_id)?;
                    Some(SchemaFeature {
                        name: f.name.clone(),
                        dtype: f.dtype.to_string(),
                        required: m.required,
                        column: m.column_name.clone(),
                    })
                })
                .collect(),
            uid: r.uid,
            name: r.name,
            description: r.description,
            hash: r.hash,
            ordered: r.ordered,
            allow_extra: r.allow_extra,
            is_latest: r.is_latest,
            created_at: r.created_at.and_utc(),
            id: r.id,
        })
        .collect()
}

impl crate::Artifacts {
    /// Validates `table` against a saved schema, then saves it as a Parquet artifact with its
    /// `columns` feature set, its labels and a link to the schema version — LaminDB's
    /// `Artifact.from_df(df, schema=…)`, in one call. Nothing is saved while the table is not
    /// valid: the error ([`Error::Curation`]) carries the whole report.
    pub fn from_df(
        &self,
        table: arrow::record_batch::RecordBatch,
        schema: &Schema,
        key: Option<&str>,
        description: Option<&str>,
    ) -> Result<Saved<lamella_schema::Artifact>> {
        self.ln
            .curator(table)
            .schema(schema)
            .save_artifact(key, description)
    }
}
