//! Lineage (SPEC §6): the runs, artifacts and collections upstream (or downstream) of a
//! record, read with one recursive statement plus one query per kind of record, drawn as a
//! [`Graph`] and exported as OpenLineage RunEvents (spec 2-0-2).

use std::collections::{BTreeMap, HashMap, HashSet};

use lamella_lineage::{Graph, Node, NodeKind};
use lamella_schema::links::LineageEdge;
use lamella_schema::{Artifact, Collection, Run, Transform, require_id};
use serde::Serialize;

use crate::error::Result;
use crate::instance::Instance;

/// Which way a lineage walks from its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Towards what it was made from: its run, that run's inputs, their runs, …
    #[default]
    Upstream,
    /// Towards what was made from it.
    Downstream,
}

/// Which relatives a hierarchy view shows (LaminDB's `view_parents(with_children=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewParents {
    /// The ancestors.
    #[default]
    Parents,
    /// The ancestors and the descendants.
    WithChildren,
}

/// Whose lineage.
#[derive(Debug, Clone, Copy)]
pub enum LineageOf<'r> {
    /// An artifact's.
    Artifact(&'r Artifact),
    /// A collection's.
    Collection(&'r Collection),
}

/// The records of a lineage and how data flowed between them.
#[derive(Debug, Clone, Serialize)]
pub struct Lineage {
    /// The record asked about: `(kind, id)`, kinds `a`, `c`, `r`.
    pub target: (String, i64),
    /// Artifacts in the lineage.
    pub artifacts: Vec<Artifact>,
    /// Collections in the lineage.
    pub collections: Vec<Collection>,
    /// Runs in the lineage.
    pub runs: Vec<Run>,
    /// The runs' transforms.
    pub transforms: Vec<Transform>,
    /// `(child kind, child id, parent kind, parent id)`: data flows parent → child.
    pub edges: Vec<LineageEdge>,
}

impl crate::Artifacts {
    /// The artifact's lineage, `depth` steps in `direction` (LaminDB's `view_lineage()`);
    /// draw it with [`Lineage::graph`].
    pub fn view_lineage(&self, a: &Artifact, depth: u32, direction: Direction) -> Result<Lineage> {
        self.ln.lineage(LineageOf::Artifact(a), depth, direction)
    }
}

impl crate::Collections {
    /// The collection's lineage, `depth` steps in `direction`; draw it with
    /// [`Lineage::graph`].
    pub fn view_lineage(
        &self,
        c: &Collection,
        depth: u32,
        direction: Direction,
    ) -> Result<Lineage> {
        self.ln.lineage(LineageOf::Collection(c), depth, direction)
    }
}

impl Instance {
    /// The lineage of an artifact or collection: `depth` steps upstream (its runs, their
    /// inputs, their runs, …) or downstream, towards what was made from it.
    pub fn lineage(&self, of: LineageOf<'_>, depth: u32, direction: Direction) -> Result<Lineage> {
        let downstream = direction == Direction::Downstream;
        let target = match of {
            LineageOf::Artifact(a) => ("a".to_string(), require_id(a)?),
            LineageOf::Collection(c) => ("c".to_string(), require_id(c)?),
        };
        let (edges, artifacts, collections, runs, transforms) = self.db().with_conn(|conn| {
            let edges =
                lamella_schema::links::lineage_edges(conn, &target.0, target.1, depth, downstream)?;
            let mut ids: BTreeMap<&str, HashSet<i64>> = BTreeMap::new();
            ids.entry(&target.0).or_default().insert(target.1);
            for (ck, ci, pk, pi) in &edges {
                ids.entry(ck).or_default().insert(*ci);
                ids.entry(pk).or_default().insert(*pi);
            }
            let list = |k: &str| -> Vec<i64> {
                let mut v: Vec<i64> = ids
                    .get(k)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default();
                v.sort_unstable();
                v
            };
            let artifacts: Vec<Artifact> = lamella_schema::load_by_ids(conn, &list("a"))?;
            let collections: Vec<Collection> = lamella_schema::load_by_ids(conn, &list("c"))?;
            let runs: Vec<Run> = lamella_schema::load_by_ids(conn, &list("r"))?;
            let mut t: Vec<i64> = runs.iter().map(|r| r.transform_id).collect();
            t.sort_unstable();
            t.dedup();
            let transforms: Vec<Transform> = lamella_schema::load_by_ids(conn, &t)?;
            Ok::<_, lamella_schema::Error>((edges, artifacts, collections, runs, transforms))
        })?;
        Ok(Lineage {
            target,
            artifacts,
            collections,
            runs,
            transforms,
            edges,
        })
    }
}

fn node_id(kind: &str, id: i64) -> String {
    format!("{kind}:{id}")
}

impl Lineage {
    pub(super) fn transform_of(&self, run: &Run) -> Option<&Transform> {
        self.transforms
            .iter()
            .find(|t| t.id == Some(run.transform_id))
    }

    fn label(&self, kind: &str, id: i64) -> (String, NodeKind) {
        match kind {
            "a" => {
                let a = self.artifacts.iter().find(|a| a.id == Some(id));
                let text = a.map_or_else(
                    || format!("artifact {id}"),
                    |a| {
                        a.key
                            .clone()
                            .or_else(|| a.description.clone())
                            .unwrap_or_else(|| a.uid.clone())
                    },
                );
                (text, NodeKind::Artifact)
            }
            "c" => {
                let text = self
                    .collections
                    .iter()
                    .find(|c| c.id == Some(id))
                    .map_or_else(|| format!("collection {id}"), |c| c.name.clone());
                (text, NodeKind::Collection)
            }
            _ => {
                let run = self.runs.iter().find(|r| r.id == Some(id));
                let text = match run {
                    Some(r) => {
                        let t = self.transform_of(r).map_or("?", |t| t.name.as_str());
                        format!("{t}\nrun {}", &r.uid[..8.min(r.uid.len())])
                    }
                    None => format!("run {id}"),
                };
                (text, NodeKind::Run)
            }
        }
    }

    /// The lineage as a graph. Records of one kind that share their parents and children
    /// (a run's many input files, say), more than `cluster_over` of them, are drawn as one
    /// node with their count, so a run with 500 inputs stays readable.
    pub fn graph(&self, cluster_over: usize) -> Graph {
        type Key<'k> = (&'k str, i64);
        /// Records with one kind, the same parents and the same children.
        type Signature<'k> = (&'k str, Vec<Key<'k>>, Vec<Key<'k>>);
        let mut parents: HashMap<Key<'_>, Vec<Key<'_>>> = HashMap::new();
        let mut children: HashMap<Key<'_>, Vec<Key<'_>>> = HashMap::new();
        let mut nodes: Vec<Key<'_>> = vec![(self.target.0.as_str(), self.target.1)];
        for (ck, ci, pk, pi) in &self.edges {
            let (c, p) = ((ck.as_str(), *ci), (pk.as_str(), *pi));
            parents.entry(c).or_default().push(p);
            children.entry(p).or_default().push(c);
            nodes.push(c);
            nodes.push(p);
        }
        nodes.sort_unstable();
        nodes.dedup();
        // Group the records by (kind, parents, children); big groups become one node.
        let mut groups: BTreeMap<Signature<'_>, Vec<i64>> = BTreeMap::new();
        for n in &nodes {
            if (n.0, n.1) == (self.target.0.as_str(), self.target.1) {
                continue;
            }
            let mut ps = parents.get(n).cloned().unwrap_or_default();
            let mut cs = children.get(n).cloned().unwrap_or_default();
            ps.sort_unstable();
            cs.sort_unstable();
            groups.entry((n.0, ps, cs)).or_default().push(n.1);
        }
        let mut cluster_of: HashMap<Key<'_>, String> = HashMap::new();
        let mut g = Graph::new();
        for (i, ((kind, _, _), members)) in groups.iter().enumerate() {
            if members.len() <= cluster_over {
                continue;
            }
            let key = format!("cluster:{i}");
            let (what, node_kind) = match *kind {
                "a" => ("artifacts", NodeKind::Artifact),
                "c" => ("collections", NodeKind::Collection),
                _ => ("runs", NodeKind::Run),
            };
            g.add_node(Node::new(
                key.clone(),
                format!("{} {what}", members.len()),
                node_kind,
            ));
            for m in members {
                cluster_of.insert((kind, *m), key.clone());
            }
        }
        let id_of = |g: &mut Graph, n: &Key<'_>| -> String {
            if let Some(c) = cluster_of.get(n) {
                return c.clone();
            }
            let key = node_id(n.0, n.1);
            if !g.contains(&key) {
                let (label, k) = self.label(n.0, n.1);
                let mut node = Node::new(key.clone(), label, k);
                if (n.0, n.1) == (self.target.0.as_str(), self.target.1) {
                    node = node.highlighted();
                }
                g.add_node(node);
            }
            key
        };
        id_of(&mut g, &(self.target.0.as_str(), self.target.1));
        for (ck, ci, pk, pi) in &self.edges {
            let c = id_of(&mut g, &(ck.as_str(), *ci));
            let p = id_of(&mut g, &(pk.as_str(), *pi));
            let _ = g.add_edge(&p, &c);
        }
        g
    }
}
