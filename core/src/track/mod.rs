//! Provenance (SPEC §6): `ln.track(transform)` creates or reuses a Transform and starts a Run;
//! while it is current, saved records get `run` (artifacts also `transform`), loaded artifacts
//! become the run's inputs and their producing transforms parents of the current one;
//! `ln.finish()` sets `finished_at`.

mod lineage;
mod openlineage;
mod transforms;

pub use lineage::{Direction, Lineage, LineageOf, ViewParents};
pub use transforms::Transforms;

use lamella_schema::{
    Edge, Hierarchy, Run, Store as _, TRANSFORM_KINDS, Transform, base62_uid, now, require_id,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::versions;

/// The run being tracked, with its transform.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    /// The run.
    pub run: Run,
    /// Its transform.
    pub transform: Transform,
    /// Whether the transform was created by this `track` (else an existing one was reused).
    pub new_transform: bool,
}

/// What a run ran in: Lamella's version, the OS and the command line, as JSON (LaminDB records
/// a pip freeze).
fn environment() -> String {
    let args: Vec<String> = std::env::args().collect();
    serde_json::json!({
        "lamella": env!("CARGO_PKG_VERSION"),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "command_line": crate::settings::redact_args(&args),
    })
    .to_string()
}

impl Instance {
    /// Starts tracking: finds the transform (by key, else by name; a different `version`
    /// makes a new version that keeps the family's uid stem, the same or no version reuses
    /// the latest), starts a Run, and makes it current for this instance value.
    pub fn track(&self, transform: Transform) -> Result<Tracked> {
        if !TRANSFORM_KINDS.contains(&transform.kind.as_str()) {
            return Err(Error::UnknownChoice {
                what: "a transform type",
                given: transform.kind.clone(),
                choices: TRANSFORM_KINDS.iter().map(|k| k.to_string()).collect(),
            });
        }
        crate::registry::check_text("transform name", Some(&transform.name))?;
        if transform.name.trim().is_empty() {
            return Err(Error::invalid(
                "a transform name",
                "",
                "give a non-empty name",
            ));
        }
        let user = self.user_id();
        let tracked = self.db().transaction(|conn| {
            let family = transform.key.as_deref().unwrap_or(&transform.name);
            conn.lock(&[format!("transform:{family}")])?;
            let existing: Vec<Transform> = match &transform.key {
                Some(k) => lamella_schema::load_where_in(conn, "key", std::slice::from_ref(k))?,
                None => lamella_schema::load_where_in::<Transform, _>(
                    conn,
                    "name",
                    std::slice::from_ref(&transform.name),
                )?
                .into_iter()
                .filter(|t| t.key.is_none())
                .collect(),
            };
            let latest = existing.iter().filter(|t| t.is_latest).max_by_key(|t| t.id);
            let t = now();
            let (record, new_transform) = match latest {
                Some(l) if transform.version.is_none() || transform.version == l.version => {
                    (l.clone(), false)
                }
                found => {
                    let uid = match found {
                        // A new version of the family: same stem, next version.
                        Some(l) => {
                            let stem = versions::versioned::<Transform>(&l.uid)?.stem().to_string();
                            conn.lock(&[versions::family_lock::<Transform>(&stem)])?;
                            let next = versions::next_version(&versions::family::<Transform>(
                                conn, &stem,
                            )?)?;
                            lamella_schema::set_latest(
                                conn,
                                &lamella_schema::registry::TRANSFORM,
                                &stem,
                                None,
                                t,
                            )?;
                            next.as_str().to_string()
                        }
                        None => transform.uid.clone(),
                    };
                    let mut rows = vec![Transform {
                        uid,
                        created_at: t,
                        updated_at: t,
                        created_by_id: user,
                        is_latest: true,
                        ..transform.clone()
                    }];
                    Transform::insert_all(conn, &mut rows)?;
                    (rows.remove(0), true)
                }
            };
            let mut runs = vec![Run {
                id: None,
                uid: base62_uid(lamella_schema::uid_len::RUN),
                transform_id: require_id(&record)?,
                started_at: t,
                finished_at: None,
                is_consecutive: None,
                reference: None,
                reference_type: None,
                created_at: t,
                created_by_id: user,
                environment: Some(environment()),
            }];
            Run::insert_all(conn, &mut runs)?;
            Ok::<_, Error>(Tracked {
                run: runs.remove(0),
                transform: record,
                new_transform,
            })
        })?;
        self.set_current_run(Some(tracked.clone()));
        tracing::info!(run = %tracked.run.uid, transform = %tracked.transform.uid, "tracking");
        Ok(tracked)
    }

    /// Makes an existing, unfinished run current again (the CLI's `track` lasts across
    /// commands this way).
    pub fn resume(&self, run_uid: &str) -> Result<Tracked> {
        let run = self
            .query::<Run>()
            .filter("uid", run_uid)
            .one_or_none()?
            .ok_or_else(|| Error::NotFound {
                suggestions: Vec::new(),
                registry: "Run",
                what: format!("'{run_uid}' (deleted?)"),
            })?;
        let transform = self
            .query::<Transform>()
            .filter("id", run.transform_id)
            .one()?;
        let tracked = Tracked {
            run,
            transform,
            new_transform: false,
        };
        self.set_current_run(Some(tracked.clone()));
        Ok(tracked)
    }

    /// The run being tracked, if any.
    pub fn current_run(&self) -> Option<Tracked> {
        self.current_run_state()
    }

    /// Finishes the current run (sets `finished_at`) and stops tracking; `None` when nothing
    /// was tracked.
    pub fn finish(&self) -> Result<Option<Run>> {
        let Some(mut tracked) = self.current_run_state() else {
            return Ok(None);
        };
        tracked.run.finished_at = Some(now());
        self.db()
            .transaction(|conn| Run::update(conn, &tracked.run).map_err(Error::from))?;
        self.set_current_run(None);
        Ok(Some(tracked.run))
    }

    /// The ids of the current run and its transform.
    pub(crate) fn run_ids(&self) -> Option<(i64, i64)> {
        self.current_run_state()
            .and_then(|t| Some((t.run.id?, t.transform.id?)))
    }

    /// Records `artifacts` as inputs of the current run (those the run produced aside), and
    /// their producing transforms as parents of the current transform (cycles skipped).
    pub(crate) fn note_inputs(&self, artifacts: &[lamella_schema::Artifact]) -> Result<()> {
        let Some((run, _)) = self.run_ids() else {
            return Ok(());
        };
        let inputs: Vec<(i64, Option<i64>)> = artifacts
            .iter()
            .filter(|a| a.run_id != Some(run))
            .filter_map(|a| Some((a.id?, a.transform_id)))
            .collect();
        self.note_run_inputs(&inputs, &[])
    }

    /// Records `collections` as inputs of the current run (also those it built: a collection
    /// loaded in its own run is what the run reads), and their producing transforms as
    /// parents of the current transform (cycles skipped).
    pub(crate) fn note_collection_inputs(
        &self,
        collections: &[lamella_schema::Collection],
    ) -> Result<()> {
        let inputs: Vec<(i64, Option<i64>)> = collections
            .iter()
            .filter_map(|c| Some((c.id?, c.transform_id)))
            .collect();
        self.note_run_inputs(&[], &inputs)
    }

    /// One transaction: the input links of the current run, `(id, producing transform)` per
    /// artifact and collection, and the producers as parents of the current transform.
    fn note_run_inputs(
        &self,
        artifacts: &[(i64, Option<i64>)],
        collections: &[(i64, Option<i64>)],
    ) -> Result<()> {
        let Some((run, transform)) = self.run_ids() else {
            return Ok(());
        };
        if artifacts.is_empty() && collections.is_empty() {
            return Ok(());
        }
        let ids = |inputs: &[(i64, Option<i64>)]| -> Vec<i64> {
            inputs.iter().map(|(id, _)| *id).collect()
        };
        let mut producers: Vec<i64> = artifacts
            .iter()
            .chain(collections)
            .filter_map(|(_, t)| *t)
            .filter(|t| *t != transform)
            .collect();
        producers.sort_unstable();
        producers.dedup();
        self.db().transaction(|conn| {
            lamella_schema::links::add_run_inputs(conn, run, &ids(artifacts), &ids(collections))?;
            if !producers.is_empty() {
                // A producer that descends from the current transform would close a cycle;
                // under the hierarchy's lock, so concurrent runs cannot close one together.
                crate::registry::hierarchy::lock_hierarchy(conn, Hierarchy::Transform)?;
                let below = lamella_schema::descendant_ids(conn, Hierarchy::Transform, transform)?;
                let edges: Vec<Edge> = producers
                    .iter()
                    .filter(|p| !below.contains(p))
                    .map(|p| Edge {
                        child: transform,
                        parent: *p,
                    })
                    .collect();
                lamella_schema::insert_edges(conn, Hierarchy::Transform, &edges)?;
            }
            Ok::<_, Error>(())
        })
    }
}
