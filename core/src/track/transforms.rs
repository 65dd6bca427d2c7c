//! The transform registry: `ln.transforms()` — queries, lookups by key, name or uid, version
//! families and the transform hierarchy.

use lamella_lineage::Graph;
use lamella_schema::{Transform, Value, require_id};

use super::lineage::ViewParents;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::query::Query;

/// The shortest uid prefix [`Transforms::resolve`] takes.
const MIN_PREFIX: usize = 6;

/// The transform registry of an instance: `ln.transforms()`.
#[derive(Debug, Clone)]
pub struct Transforms {
    ln: Instance,
}

impl Instance {
    /// The transform registry.
    pub fn transforms(&self) -> Transforms {
        Transforms { ln: self.clone() }
    }
}

impl Transforms {
    /// A query on transforms.
    pub fn query(&self) -> Query<Transform> {
        self.ln.query()
    }

    /// A query with one lookup, e.g. `filter("name__startswith", "Petal")`.
    pub fn filter(&self, lookup: &str, value: impl Into<Value>) -> Query<Transform> {
        self.query().filter(lookup, value)
    }

    /// The transform with this uid, or the only one whose uid starts with this prefix.
    pub fn get(&self, uid_or_prefix: &str) -> Result<Transform> {
        if !lamella_schema::is_base62(uid_or_prefix) {
            return Err(Error::NotAUid {
                registry: "Transform",
                given: uid_or_prefix.to_string(),
            });
        }
        if let Some(t) = self.filter("uid", uid_or_prefix).one_or_none()? {
            return Ok(t);
        }
        self.filter("uid__startswith", uid_or_prefix)
            .one_or_none()?
            .ok_or_else(|| {
                Error::not_found("Transform", format!("uid '{uid_or_prefix}'"), Vec::new())
            })
    }

    /// The latest version of the transform whose key or name is `key_name_or_uid`, else the
    /// transform with that uid (a unique prefix of at least 6 characters).
    pub fn resolve(&self, key_name_or_uid: &str) -> Result<Transform> {
        for field in ["key", "name"] {
            if let Some(t) = self
                .filter(field, key_name_or_uid)
                .order_by("-is_latest")
                .order_by("-id")
                .first()?
            {
                return Ok(t);
            }
        }
        if lamella_schema::is_base62(key_name_or_uid) && key_name_or_uid.len() >= MIN_PREFIX {
            match self.get(key_name_or_uid) {
                Err(Error::NotFound { .. }) => {}
                other => return other,
            }
        }
        let names: Vec<String> = self
            .query()
            .all()?
            .into_iter()
            .map(|t| t.name)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let text = crate::names::SearchText::new(key_name_or_uid);
        let mut ranked: Vec<_> = names
            .into_iter()
            .filter_map(|n| text.rank(&n, None).map(|(k, d)| (k, d, n)))
            .collect();
        ranked.sort();
        Err(Error::not_found(
            "Transform",
            format!("'{}'", crate::names::shown(key_name_or_uid, 80)),
            ranked.into_iter().take(5).map(|(_, _, n)| n).collect(),
        ))
    }

    /// Every version of the transform's family, oldest first.
    pub fn versions(&self, t: &Transform) -> Result<Vec<Transform>> {
        let uid = crate::versions::versioned::<Transform>(&t.uid)?;
        self.filter("uid__startswith", uid.stem())
            .order_by("id")
            .all()
    }

    /// The transform hierarchy around `t`: the transforms whose outputs it read (its
    /// parents, recorded when a run loads another transform's artifact or collection), up to
    /// `distance` levels, and with [`ViewParents::WithChildren`] those that read its outputs;
    /// `t` itself is highlighted. LaminDB's `transform.view_parents()`.
    pub fn view_parents(&self, t: &Transform, view: ViewParents, distance: u32) -> Result<Graph> {
        crate::registry::hierarchy::hierarchy_graph(
            &self.ln,
            lamella_schema::Hierarchy::Transform,
            require_id(t)?,
            view == ViewParents::WithChildren,
            distance,
        )
    }
}
