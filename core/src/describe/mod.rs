//! `describe()`: an artifact's fields and provenance, laid out like LaminDB's.

use lamella_schema::{Artifact, User};

use crate::artifact::Artifacts;
use crate::error::Result;

impl<'a> Artifacts<'a> {
    /// The artifact's fields and provenance, laid out like LaminDB's `describe()`.
    pub fn describe(&self, a: &Artifact) -> Result<String> {
        let storage = self.storage_of(a)?;
        let user: Option<User> = self
            .ln
            .query::<User>()
            .filter("id", a.created_by_id)
            .one_or_none()?;
        let mut s = String::new();
        let q = |v: &Option<String>| v.as_ref().map(|x| format!("'{x}'"));
        let mut fields = vec![format!("uid='{}'", a.uid)];
        let opt = [
            ("key", q(&a.key)),
            ("suffix", Some(format!("'{}'", a.suffix))),
            ("accessor", q(&a.accessor)),
            ("description", q(&a.description)),
            ("version", q(&a.version)),
            ("size", a.size.map(|v| v.to_string())),
            ("hash", q(&a.hash)),
            ("hash_type", q(&a.hash_type)),
            ("n_objects", a.n_objects.map(|v| v.to_string())),
            ("n_observations", a.n_observations.map(|v| v.to_string())),
            ("is_latest", Some(py_bool(a.is_latest))),
            ("visibility", Some(a.visibility.to_string())),
            ("key_is_virtual", Some(py_bool(a.key_is_virtual))),
            (
                "created_at",
                Some(format!("{} UTC", a.created_at.format("%Y-%m-%d %H:%M:%S"))),
            ),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                fields.push(format!("{k}={v}"));
            }
        }
        s.push_str(&format!("Artifact({})\n\nProvenance:\n", fields.join(", ")));
        s.push_str(&format!(
            "  📎 storage: Storage(uid='{}', root='{}', type='{}')\n",
            storage.uid, storage.root, storage.kind
        ));
        if let Some(u) = user {
            s.push_str(&format!(
                "  📎 created_by: User(uid='{}', handle='{}')\n",
                u.uid, u.handle
            ));
        }
        Ok(s)
    }
}

fn py_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}
