//! The storage layer's enums as the schema layer stores them (the two layers know nothing of
//! each other; core maps between them).

use lamella_schema::{HashType, StorageKind};
use lamella_storage::StoreKind;

/// The registry's kind of a store.
pub(crate) fn storage_kind(kind: StoreKind) -> StorageKind {
    match kind {
        StoreKind::Local => StorageKind::Local,
        StoreKind::S3 => StorageKind::S3,
        StoreKind::Memory => StorageKind::Memory,
    }
}

/// The registry's spelling of a hash type.
pub(crate) fn hash_type(h: lamella_storage::HashType) -> HashType {
    match h {
        lamella_storage::HashType::Md5 => HashType::Md5,
        lamella_storage::HashType::Sha1Fl => HashType::Sha1Fl,
        lamella_storage::HashType::Md5D => HashType::Md5D,
        lamella_storage::HashType::Md5N => HashType::Md5N,
    }
}
