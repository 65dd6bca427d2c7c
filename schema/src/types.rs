//! Typed record fields: visibility, hash type, storage kind, versioned uids, and the database
//! mapping of [`Dtype`]. Each is stored as LaminDB stores it (a small integer or a string), so
//! databases, JSON output and tables keep their shape; Rust code sees the enum.

use std::fmt;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{SmallInt, Text};
use diesel::sqlite::Sqlite;
use serde::{Serialize, Serializer};

use crate::dtype::Dtype;

/// Whether a record is shown, hidden or in the trash (LaminDB's `visibility` / branch:
/// `1`, `0`, `-1` in the database and in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, AsExpression, FromSqlRow)]
#[diesel(sql_type = SmallInt)]
pub enum Visibility {
    /// Shown by every query (`1`).
    #[default]
    Default,
    /// Hidden from queries, not deleted (`0`).
    Hidden,
    /// In the trash: hidden until restored or deleted for good (`-1`).
    Trash,
}

impl Visibility {
    /// The stored code: `1`, `0` or `-1`.
    pub const fn code(self) -> i16 {
        match self {
            Visibility::Default => 1,
            Visibility::Hidden => 0,
            Visibility::Trash => -1,
        }
    }

    /// The visibility of a stored code.
    pub fn from_code(code: i16) -> Option<Visibility> {
        match code {
            1 => Some(Visibility::Default),
            0 => Some(Visibility::Hidden),
            -1 => Some(Visibility::Trash),
            _ => None,
        }
    }

    /// Whether the record is in the trash.
    pub fn is_trash(self) -> bool {
        self == Visibility::Trash
    }
}

impl From<Visibility> for crate::query::Value {
    /// Filters compare the stored code: `filter("visibility", Visibility::Trash)`.
    fn from(v: Visibility) -> Self {
        crate::query::Value::Int(i64::from(v.code()))
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl Serialize for Visibility {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i16(self.code())
    }
}

impl<DB: Backend> FromSql<SmallInt, DB> for Visibility
where
    i16: FromSql<SmallInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let code = i16::from_sql(bytes)?;
        Visibility::from_code(code)
            .ok_or_else(|| format!("unknown visibility {code} (expected 1, 0 or -1)").into())
    }
}

impl<DB: Backend> ToSql<SmallInt, DB> for Visibility
where
    i16: ToSql<SmallInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        const DEFAULT: i16 = Visibility::Default.code();
        const HIDDEN: i16 = Visibility::Hidden.code();
        const TRASH: i16 = Visibility::Trash.code();
        let code: &'static i16 = match self {
            Visibility::Default => &DEFAULT,
            Visibility::Hidden => &HIDDEN,
            Visibility::Trash => &TRASH,
        };
        code.to_sql(out)
    }
}

/// Implements the text mapping of a string-valued enum: `as_str`, `FromStr`, `Display`,
/// `Serialize` and diesel's `Text` conversions for both backends.
macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<$ty, String> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " '{}' (expected one of {})"),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(String::from_sql(bytes)?.parse::<$ty>()?)
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }
    };
}

/// How an artifact's content was hashed (LaminDB's `hash_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum HashType {
    /// The MD5 of a small file (`md5`).
    Md5,
    /// SHA-1 over the first, middle and last chunks of a large file (`sha1-fl`).
    Sha1Fl,
    /// A folder: the MD5 over its files' hashes (`md5-d`).
    Md5D,
    /// An S3 multipart ETag (`md5-n`).
    Md5N,
}

text_enum!(HashType, "hash type", {
    Md5 => "md5",
    Sha1Fl => "sha1-fl",
    Md5D => "md5-d",
    Md5N => "md5-n",
});

/// Where a storage location lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum StorageKind {
    /// A local folder (`local`).
    Local,
    /// An S3-compatible bucket or prefix (`s3`).
    S3,
    /// An in-process store, for tests (`memory`).
    Memory,
}

text_enum!(StorageKind, "storage type", {
    Local => "local",
    S3 => "s3",
    Memory => "memory",
});

impl StorageKind {
    /// The kind of a storage root: `s3://…` is S3, `memory://…` in-process, anything else a
    /// local folder.
    pub fn of_root(root: &str) -> StorageKind {
        if root.starts_with("s3://") {
            StorageKind::S3
        } else if root.starts_with("memory://") {
            StorageKind::Memory
        } else {
            StorageKind::Local
        }
    }
}

impl PartialEq<&str> for Dtype {
    /// Compares with a dtype string (`"num"`, `"number"`, `"cat[ULabel]"`).
    fn eq(&self, other: &&str) -> bool {
        Dtype::parse(other).is_ok_and(|d| d == *self)
    }
}

impl Serialize for Dtype {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<DB: Backend> FromSql<Text, DB> for Dtype
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Dtype::parse(&String::from_sql(bytes)?)?)
    }
}

impl ToSql<Text, Sqlite> for Dtype {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for Dtype {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        out.write_all(self.to_string().as_bytes())?;
        Ok(IsNull::No)
    }
}

/// A uid that names one version of a family: a stem shared by every version, then a
/// 4-character base62 version number (`0000`, `0001`, …), as LaminDB 2.x writes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionedUid {
    uid: String,
}

/// Characters of the version number at the end of a versioned uid.
pub const VERSION_LEN: usize = 4;

/// A string that is not a versioned uid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not a versioned uid: {reason}")]
pub struct UidError {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub reason: String,
}

impl VersionedUid {
    /// Parses a uid of exactly `len` characters (a stem of `len - 4` and a version number).
    pub fn parse(uid: &str, len: usize) -> Result<VersionedUid, UidError> {
        let err = |reason: String| UidError {
            given: uid.chars().take(40).collect(),
            reason,
        };
        if !crate::uid::is_base62(uid) {
            return Err(err("uids hold letters and digits only".into()));
        }
        if uid.len() != len || len <= VERSION_LEN {
            return Err(err(format!(
                "it has {} characters, versioned uids here have {len}",
                uid.len()
            )));
        }
        Ok(VersionedUid {
            uid: uid.to_string(),
        })
    }

    /// The first version (`…0000`) of a new family with a random stem of `stem_len`.
    pub fn new_family(stem_len: usize) -> VersionedUid {
        VersionedUid {
            uid: format!("{}0000", crate::uid::base62_uid(stem_len)),
        }
    }

    /// The version `version` of the family `stem`.
    pub fn of(stem: &str, version: &str) -> VersionedUid {
        VersionedUid {
            uid: format!("{stem}{version}"),
        }
    }

    /// The whole uid.
    pub fn as_str(&self) -> &str {
        &self.uid
    }

    /// The stem every version of the family shares.
    pub fn stem(&self) -> &str {
        &self.uid[..self.uid.len() - VERSION_LEN]
    }

    /// The version number (`0000`, `0001`, …).
    pub fn version(&self) -> &str {
        &self.uid[self.uid.len() - VERSION_LEN..]
    }

    /// The next version of the family, or `None` when the numbers are used up.
    pub fn next(&self) -> Option<VersionedUid> {
        let next = crate::uid::increment_base62(self.version())?;
        Some(VersionedUid::of(self.stem(), &next))
    }
}

impl fmt::Display for VersionedUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uid)
    }
}

impl From<VersionedUid> for String {
    fn from(u: VersionedUid) -> String {
        u.uid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_codes_round_trip() {
        for v in [Visibility::Default, Visibility::Hidden, Visibility::Trash] {
            assert_eq!(Visibility::from_code(v.code()), Some(v));
        }
        assert_eq!(Visibility::from_code(7), None);
        assert_eq!(Visibility::Trash.to_string(), "-1");
    }

    #[test]
    fn text_enums_parse_their_spelling() {
        for h in HashType::ALL {
            assert_eq!(h.as_str().parse::<HashType>(), Ok(*h));
        }
        assert!("sha256".parse::<HashType>().unwrap_err().contains("md5-d"));
        assert_eq!(StorageKind::of_root("s3://b/p"), StorageKind::S3);
        assert_eq!(StorageKind::of_root("/data"), StorageKind::Local);
    }

    #[test]
    fn versioned_uids() {
        let u = VersionedUid::parse("abcdefghijklmnop0001", 20).unwrap();
        assert_eq!(u.stem(), "abcdefghijklmnop");
        assert_eq!(u.version(), "0001");
        assert_eq!(u.next().unwrap().as_str(), "abcdefghijklmnop0002");
        assert!(VersionedUid::parse("short", 20).is_err());
        assert!(VersionedUid::parse("abcdefghijklmnop000!", 20).is_err());
        let f = VersionedUid::new_family(16);
        assert_eq!(f.as_str().len(), 20);
        assert_eq!(f.version(), "0000");
    }
}
