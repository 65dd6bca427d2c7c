//! OpenLineage export (spec 2-0-2): one RunEvent per run of a lineage. The job is the
//! transform (namespace `lamella://<instance uid>`), the run id the UUIDv5 of the run uid,
//! datasets named as OpenLineage names files (`file`, absolute path) and S3 objects
//! (`s3://bucket`, key), with a schema facet from the `columns` feature set.

use std::collections::HashMap;

use lamella_schema::links;
use lamella_schema::{Artifact, Feature, Run};
use serde_json::{Value, json};

use super::Lineage;
use crate::error::Result;
use crate::instance::Instance;

/// The producer URI of Lamella's events.
pub const PRODUCER: &str = "https://github.com/lamella-data/lamella";
/// The RunEvent schema these events follow.
pub const RUN_EVENT_SCHEMA: &str =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const SCHEMA_FACET: &str =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";

/// The OpenLineage run id of a run: UUIDv5 (URL namespace) of `lamella:run:<uid>`.
pub fn run_id(run_uid: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("lamella:run:{run_uid}").as_bytes(),
    )
}

fn rfc3339(t: &chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// `(namespace, name)` of an artifact's object, the OpenLineage way.
fn dataset_name(location: &str) -> (String, String) {
    lamella_storage::Location::parse(location).openlineage_name()
}

impl Lineage {
    /// One OpenLineage RunEvent per run: `COMPLETE` for finished runs, else `RUNNING`.
    pub fn openlineage(&self, ln: &Instance) -> Result<Vec<Value>> {
        let namespace = format!("lamella://{}", ln.uid());
        let columns = self.column_schemas(ln)?;
        // Every storage once (a handful of rows), not one lookup per artifact.
        let roots: HashMap<i64, String> = ln
            .query::<lamella_schema::Storage>()
            .all()?
            .into_iter()
            .filter_map(|s| Some((s.id?, s.root)))
            .collect();
        let location = |a: &Artifact| -> Result<String> {
            match roots.get(&a.storage_id) {
                Some(root) => Ok(crate::artifact::location_in(root, a)),
                None => ln.artifacts().location(a),
            }
        };
        let artifact = |id: i64| self.artifacts.iter().find(|a| a.id == Some(id));
        let dataset = |kind: &str, id: i64| -> Result<Option<Value>> {
            Ok(match kind {
                "a" => match artifact(id) {
                    Some(a) => {
                        let (ns, name) = dataset_name(&location(a)?);
                        let mut d = json!({ "namespace": ns, "name": name });
                        if let Some(fields) = columns.get(&id) {
                            d["facets"] = json!({ "schema": {
                                "_producer": PRODUCER,
                                "_schemaURL": SCHEMA_FACET,
                                "fields": fields,
                            }});
                        }
                        Some(d)
                    }
                    None => None,
                },
                "c" => self.collections.iter().find(|c| c.id == Some(id)).map(
                    |c| json!({ "namespace": namespace, "name": format!("collection/{}", c.name) }),
                ),
                _ => None,
            })
        };
        let mut events = Vec::new();
        for run in &self.runs {
            let Some(rid) = run.id else { continue };
            let mut inputs = Vec::new();
            let mut outputs = Vec::new();
            for (ck, ci, pk, pi) in &self.edges {
                if ck == "r" && *ci == rid {
                    inputs.extend(dataset(pk, *pi)?);
                }
                if pk == "r" && *pi == rid {
                    outputs.extend(dataset(ck, *ci)?);
                }
            }
            events.push(self.event(run, &namespace, inputs, outputs));
        }
        Ok(events)
    }

    fn event(&self, run: &Run, namespace: &str, inputs: Vec<Value>, outputs: Vec<Value>) -> Value {
        let job = self.transform_of(run).map_or_else(
            || format!("run {}", run.uid),
            |t| t.key.clone().unwrap_or_else(|| t.name.clone()),
        );
        let (kind, time) = match &run.finished_at {
            Some(t) => ("COMPLETE", rfc3339(t)),
            None => ("RUNNING", rfc3339(&run.started_at)),
        };
        json!({
            "eventType": kind,
            "eventTime": time,
            "producer": PRODUCER,
            "schemaURL": RUN_EVENT_SCHEMA,
            "run": { "runId": run_id(&run.uid).to_string() },
            "job": { "namespace": namespace, "name": job },
            "inputs": inputs,
            "outputs": outputs,
        })
    }

    /// Per artifact id, the fields of its `columns` feature set.
    fn column_schemas(&self, ln: &Instance) -> Result<HashMap<i64, Vec<Value>>> {
        let ids: Vec<i64> = self
            .artifacts
            .iter()
            .filter_map(|a: &Artifact| a.id)
            .collect();
        ln.db()
            .with_conn(|conn| {
                // One statement for every artifact's `columns` set, one for the members.
                let set_of: Vec<(i64, i64)> = links::artifacts_slots(conn, &ids)?
                    .into_iter()
                    .filter(|(_, slot, _)| slot == "columns")
                    .map(|(a, _, set)| (a, set))
                    .collect();
                let sets: Vec<i64> = set_of.iter().map(|(_, s)| *s).collect();
                let members = lamella_schema::feature_set_members(conn, &sets)?;
                let mut fids: Vec<i64> = members.iter().map(|(_, f)| *f).collect();
                fids.sort_unstable();
                fids.dedup();
                let features: HashMap<i64, Feature> =
                    lamella_schema::load_by_ids::<Feature>(conn, &fids)?
                        .into_iter()
                        .filter_map(|f| Some((f.id?, f)))
                        .collect();
                let mut out = HashMap::new();
                for (a, set) in set_of {
                    let fields: Vec<Value> = members
                        .iter()
                        .filter(|(s, _)| *s == set)
                        .filter_map(|(_, f)| features.get(f))
                        .map(|f| {
                            let mut field = json!({ "name": f.name, "type": f.dtype.to_string() });
                            if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                                field["description"] = json!(d);
                            }
                            field
                        })
                        .collect();
                    out.insert(a, fields);
                }
                Ok::<_, lamella_schema::Error>(out)
            })
            .map_err(Into::into)
    }
}
