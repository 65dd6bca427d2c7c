//! Where data lives, as written by users: a local path, or an object-store URL. The one place
//! that tells them apart, names a URL's bucket and says how OpenLineage names a dataset.

use std::path::PathBuf;

/// A storage location or an object in one: a local path (`/data/x`, `./x`,
/// `file:///data/x`) or an object-store URL (`s3://bucket/prefix/key`, `memory://name/key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or folder (not made absolute).
    Local(PathBuf),
    /// An object-store URL without a trailing `/`.
    Remote {
        /// `s3`, `memory`, …
        scheme: String,
        /// The bucket (or in-memory store) name.
        bucket: String,
        /// The key or prefix inside the bucket (empty for the bucket itself).
        path: String,
    },
}

impl Location {
    /// Reads `text` as a location: a URL with a scheme other than `file` is remote, anything
    /// else (including `file://` URLs) local.
    ///
    /// ```
    /// use lamella_storage::Location;
    /// assert!(Location::parse("s3://bucket/a/b.csv").is_remote());
    /// assert!(!Location::parse("file:///data/x").is_remote());
    /// assert!(!Location::parse("./data").is_remote());
    /// ```
    pub fn parse(text: &str) -> Location {
        if let Some((scheme, rest)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
        {
            if scheme.eq_ignore_ascii_case("file") {
                return Location::Local(PathBuf::from(rest));
            }
            let rest = rest.trim_end_matches('/');
            let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
            return Location::Remote {
                scheme: scheme.to_ascii_lowercase(),
                bucket: bucket.to_string(),
                path: path.to_string(),
            };
        }
        Location::Local(PathBuf::from(text))
    }

    /// Whether this is an object-store URL.
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote { .. })
    }

    /// The URL as text, without a trailing `/` (remote locations only).
    pub fn url(&self) -> Option<String> {
        match self {
            Location::Local(_) => None,
            Location::Remote {
                scheme,
                bucket,
                path,
            } if path.is_empty() => Some(format!("{scheme}://{bucket}")),
            Location::Remote {
                scheme,
                bucket,
                path,
            } => Some(format!("{scheme}://{bucket}/{path}")),
        }
    }

    /// The bucket holding a remote location (`s3://bucket`).
    pub fn bucket_url(&self) -> Option<String> {
        match self {
            Location::Local(_) => None,
            Location::Remote { scheme, bucket, .. } => Some(format!("{scheme}://{bucket}")),
        }
    }

    /// `(namespace, name)` of a dataset at this location as OpenLineage names it: S3 objects
    /// as (`s3://bucket`, key), local files as (`file`, path).
    pub fn openlineage_name(&self) -> (String, String) {
        match self {
            Location::Local(p) => ("file".to_string(), p.display().to_string()),
            Location::Remote {
                scheme,
                bucket,
                path,
            } => (format!("{scheme}://{bucket}"), path.clone()),
        }
    }
}

/// The bucket of an object-store URL (`s3://bucket/a/b.csv` → `s3://bucket`); `None` for
/// local paths.
///
/// ```
/// assert_eq!(lamella_storage::bucket_root("s3://b/x/y.csv").as_deref(), Some("s3://b"));
/// assert_eq!(lamella_storage::bucket_root("/data/x.csv"), None);
/// ```
pub fn bucket_root(url: &str) -> Option<String> {
    Location::parse(url)
        .bucket_url()
        .filter(|b| !b.ends_with("://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("s3://b/p/k.csv/"),
            Location::Remote {
                scheme: "s3".into(),
                bucket: "b".into(),
                path: "p/k.csv".into()
            }
        );
        assert_eq!(
            Location::parse("s3://b/p/k.csv").openlineage_name(),
            ("s3://b".to_string(), "p/k.csv".to_string())
        );
        assert_eq!(Location::parse("s3://b").url().as_deref(), Some("s3://b"));
        assert_eq!(
            Location::parse("/x/y").openlineage_name(),
            ("file".to_string(), "/x/y".to_string())
        );
        assert_eq!(
            Location::parse("file:///x/y"),
            Location::Local(PathBuf::from("/x/y"))
        );
        assert_eq!(bucket_root("s3:///k"), None);
    }
}
