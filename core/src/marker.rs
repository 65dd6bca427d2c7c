//! The storage marker: `<root>/.lamella/storage.json` names the storage record and the
//! instance that manages (writes to) the root — LaminDB writes `.lamindb/storage_uid.txt` for
//! the same reason. It lets Lamella refuse a second instance on a managed root, keep a root
//! that another instance manages read-only, and recognise an instance whose folder was moved.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::instance::LAMELLA_DIR;

/// The marker's key under a storage root.
pub(crate) const MARKER_KEY: &str = ".lamella/storage.json";

/// What the marker says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Marker {
    /// The uid of the Storage record in the managing instance.
    pub storage_uid: String,
    /// The uid of the managing instance.
    pub instance_uid: String,
}

/// Reads the marker of the store's root; `None` when there is none.
pub(crate) fn read(store: &lamella_storage::Store) -> Result<Option<Marker>> {
    let bytes = match store.read_bytes(MARKER_KEY) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Corrupt {
            what: format!("the storage marker {}", store.url_for(MARKER_KEY)),
            message: e.to_string(),
            advice: "it names the instance that manages this storage; restore it from a backup, \
                     or remove it if no instance uses this folder",
        })
}

/// Writes the marker (replacing an older one of the same instance).
pub(crate) fn write(store: &lamella_storage::Store, marker: &Marker) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(marker)
        .map_err(|e| Error::Internal(format!("cannot encode the storage marker: {e}")))?;
    bytes.push(b'\n');
    if let Some(dir) = store.local_path(LAMELLA_DIR) {
        std::fs::create_dir_all(&dir).map_err(crate::error::io_err(&dir))?;
    }
    store.put_bytes(MARKER_KEY, &bytes)?;
    Ok(())
}

/// Removes the marker if it names `instance_uid` (when an instance is deleted).
pub(crate) fn remove_if_ours(store: &lamella_storage::Store, instance_uid: &str) {
    if let Ok(Some(m)) = read(store)
        && m.instance_uid == instance_uid
    {
        let _ = store.delete(MARKER_KEY);
    }
}
