//! Hierarchies of named records: parents and children with cycle checks, and the graph around
//! a label.

use std::collections::HashSet;
use std::marker::PhantomData;

use lamella_lineage::{Graph, Node, NodeKind};
use lamella_schema::{Conn, Edge, Hierarchy, ULabel, require_id};

use super::{Named, Registry, SavedAll};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::query::Query;

/// The parents or children of one record in a hierarchy (ULabel, Transform).
#[derive(Debug, Clone)]
pub struct Relatives<T> {
    ln: Instance,
    hierarchy: Hierarchy,
    id: i64,
    name: String,
    parents: bool,
    _t: PhantomData<T>,
}

/// Serialises the writers of one hierarchy's edges (the cycle check and the insert must see
/// the same edges). The ULabel hierarchy shares the label registry's names lock, which label
/// saves take first, so the lock order stays names → hierarchy everywhere.
pub(crate) fn lock_hierarchy(conn: &mut Conn<'_>, hierarchy: Hierarchy) -> Result<()> {
    let name = match hierarchy {
        Hierarchy::ULabel => super::names_lock_of::<ULabel>(),
        Hierarchy::Transform => "hierarchy:transforms".to_string(),
    };
    conn.lock(&[name])?;
    Ok(())
}

impl<T: Named> Relatives<T> {
    fn edges_to(&self, others: &[i64]) -> Vec<Edge> {
        others
            .iter()
            .map(|&o| {
                if self.parents {
                    Edge {
                        child: self.id,
                        parent: o,
                    }
                } else {
                    Edge {
                        child: o,
                        parent: self.id,
                    }
                }
            })
            .collect()
    }

    fn ids(others: &[T]) -> Result<Vec<i64>> {
        others
            .iter()
            .map(|o| require_id(o).map_err(Error::from))
            .collect()
    }

    pub(super) fn add_in(&self, conn: &mut Conn<'_>, others: &[T]) -> Result<usize> {
        let ids = Self::ids(others)?;
        // The check and the insert see the same hierarchy: on PostgreSQL two writers adding
        // A→B and B→A at once would otherwise both pass the check.
        lock_hierarchy(conn, self.hierarchy)?;
        // Adding parents p to x closes a cycle iff p is x or one of x's descendants; adding
        // children c to x iff c is x or one of x's ancestors.
        let forbidden: HashSet<i64> = if self.parents {
            lamella_schema::descendant_ids(conn, self.hierarchy, self.id)?
        } else {
            lamella_schema::ancestor_ids(conn, self.hierarchy, self.id)?
        }
        .into_iter()
        .chain([self.id])
        .collect();
        if let Some(bad) = others
            .iter()
            .zip(&ids)
            .find(|(_, id)| forbidden.contains(id))
        {
            let (child, parent) = if self.parents {
                (self.name.clone(), bad.0.name_str().to_string())
            } else {
                (bad.0.name_str().to_string(), self.name.clone())
            };
            return Err(Error::Cycle { child, parent });
        }
        Ok(lamella_schema::insert_edges(
            conn,
            self.hierarchy,
            &self.edges_to(&ids),
        )?)
    }

    /// Links `others` (one transaction, one cycle check); returns how many links are new.
    pub fn add(&self, others: &[T]) -> Result<usize> {
        self.ln.db().transaction(|conn| self.add_in(conn, others))
    }

    /// Replaces the current links by `others`.
    pub fn set(&self, others: &[T]) -> Result<usize> {
        self.ln.db().transaction(|conn| {
            lock_hierarchy(conn, self.hierarchy)?;
            lamella_schema::clear_edges(conn, self.hierarchy, self.id, self.parents)?;
            self.add_in(conn, others)
        })
    }

    /// Removes the links to `others`; returns how many existed.
    pub fn remove(&self, others: &[T]) -> Result<usize> {
        let ids = Self::ids(others)?;
        let edges = self.edges_to(&ids);
        self.ln
            .db()
            .transaction(|conn| Ok(lamella_schema::delete_edges(conn, self.hierarchy, &edges)?))
    }

    /// The linked records (direct parents or children), in id order.
    pub fn all(&self) -> Result<Vec<T>> {
        let relation = if self.parents {
            "children__id"
        } else {
            "parents__id"
        };
        Query::<T>::new(self.ln.clone())
            .filter(relation, self.id)
            .all()
    }
}

impl Registry<ULabel> {
    pub(super) fn relatives(&self, label: &ULabel, parents: bool) -> Result<Relatives<ULabel>> {
        Ok(Relatives {
            ln: self.ln.clone(),
            hierarchy: Hierarchy::ULabel,
            id: require_id(label)?,
            name: label.name.clone(),
            parents,
            _t: PhantomData,
        })
    }

    /// Saves labels and makes each a child of every label in `parents`, in one transaction:
    /// when a link would close a cycle (or anything else fails), nothing is saved. Labels that
    /// exist already are linked too.
    pub fn save_all_with_parents(
        &self,
        records: impl IntoIterator<Item = ULabel>,
        parents: &[ULabel],
    ) -> Result<SavedAll<ULabel>> {
        self.save_all_then(records, |conn, saved| {
            for p in parents {
                self.relatives(p, false)?.add_in(conn, &saved.records)?;
            }
            Ok(())
        })
    }

    /// [`save_all_with_parents`](Self::save_all_with_parents) inside a transaction the caller
    /// holds.
    pub(crate) fn save_all_with_parents_in(
        &self,
        conn: &mut Conn<'_>,
        records: impl IntoIterator<Item = ULabel>,
        parents: &[ULabel],
    ) -> Result<SavedAll<ULabel>> {
        let saved = self.save_all_in(conn, records)?;
        for p in parents {
            self.relatives(p, false)?.add_in(conn, &saved.records)?;
        }
        Ok(saved)
    }

    /// The parents of `label`: `ln.ulabels().parents(&label)?.add(&[is_species])`.
    pub fn parents(&self, label: &ULabel) -> Result<Relatives<ULabel>> {
        self.relatives(label, true)
    }

    /// The children of `label`: `ln.ulabels().children(&is_species)?.set(&species)`.
    pub fn children(&self, label: &ULabel) -> Result<Relatives<ULabel>> {
        self.relatives(label, false)
    }

    /// The hierarchy around `label`: its ancestors (up to `distance` levels) and, with
    /// `with_children`, its descendants (up to `distance` levels), as a graph to render with
    /// `lamella_lineage::render` or `write_to`.
    pub fn view_parents(
        &self,
        label: &ULabel,
        view: crate::ViewParents,
        distance: u32,
    ) -> Result<Graph> {
        hierarchy_graph(
            &self.ln,
            Hierarchy::ULabel,
            require_id(label)?,
            view == crate::ViewParents::WithChildren,
            distance,
        )
    }
}

/// The graph around record `id` of hierarchy `h`: its ancestors (up to `distance` levels)
/// and, with `with_children`, its descendants, from one recursive query per direction and one
/// load of the records; the record itself is highlighted.
pub(crate) fn hierarchy_graph(
    ln: &Instance,
    h: Hierarchy,
    id: i64,
    with_children: bool,
    distance: u32,
) -> Result<Graph> {
    let distance = distance.max(1);
    let mut edges = ln
        .db()
        .with_conn(|c| lamella_schema::reachable_edges(c, h, id, true, distance))?;
    if with_children {
        edges.extend(
            ln.db()
                .with_conn(|c| lamella_schema::reachable_edges(c, h, id, false, distance))?,
        );
    }
    let mut ids: Vec<i64> = edges.iter().flat_map(|e| [e.child, e.parent]).collect();
    ids.push(id);
    ids.sort_unstable();
    ids.dedup();
    let (prefix, kind, nodes): (&str, NodeKind, Vec<(i64, String)>) = match h {
        Hierarchy::ULabel => {
            let labels: Vec<ULabel> = ln
                .db()
                .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
            (
                "ulabel",
                NodeKind::Label,
                labels
                    .into_iter()
                    .map(|l| (l.id.unwrap_or_default(), l.name))
                    .collect(),
            )
        }
        Hierarchy::Transform => {
            let transforms: Vec<lamella_schema::Transform> = ln
                .db()
                .with_conn(|c| lamella_schema::load_by_ids(c, &ids))?;
            (
                "transform",
                NodeKind::Transform,
                transforms
                    .into_iter()
                    .map(|t| {
                        let name = match &t.version {
                            Some(v) if !v.is_empty() => format!("{} (v{v})", t.name),
                            _ => t.name,
                        };
                        (t.id.unwrap_or_default(), name)
                    })
                    .collect(),
            )
        }
    };
    let mut graph = Graph::new();
    let key = |i: i64| format!("{prefix}:{i}");
    for (nid, name) in nodes {
        let node = Node::new(key(nid), name, kind);
        graph.add_node(if nid == id { node.highlighted() } else { node });
    }
    edges.sort();
    edges.dedup();
    for e in edges {
        graph.add_edge(&key(e.parent), &key(e.child))?;
    }
    Ok(graph)
}
