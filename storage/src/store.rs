//! Object stores keyed by URL scheme, driven synchronously through opendal.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use opendal::options::{ListOptions, ReaderOptions, WriteOptions};
use opendal::{ErrorKind, blocking};

use crate::error::{Error, Result};
use crate::hash::read_full;
use crate::walk::regular_file_meta;

/// Size of one part of a multipart upload and of one ranged read (16 MiB).
const TRANSFER_CHUNK: usize = 16 * 1024 * 1024;
/// Parts in flight during uploads and downloads.
const TRANSFER_CONCURRENCY: usize = 4;
/// Buffer size for streaming a local file into an upload.
const UPLOAD_READ_BUF: usize = 8 * 1024 * 1024;
/// Files up to this size go up in one request (`PutObject`), larger ones in parts of
/// [`TRANSFER_CHUNK`]. One request saves the multipart start and completion (the server
/// assembling the parts: about a third of the time for 40 MB on the local test server), and
/// holds no more in memory than the parts in flight would (4 × 16 MiB). s3fs, which LaminDB
/// uses, starts multipart uploads at 50 MiB.
const SINGLE_PUT_MAX: u64 = (TRANSFER_CONCURRENCY * TRANSFER_CHUNK) as u64;
/// How often an upload waiting at its [`UploadGate`] looks at it.
const GATE_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// Lets the caller of an upload decide, while the file goes up, whether the object is to be
/// kept. On an object store the upload sends all it can but its last step, the single
/// `PutObject` or the completion of a multipart upload, and waits there for
/// [`UploadGate::proceed`]; [`UploadGate::cancel`] stops it before anything is visible (the
/// request is never sent, the multipart upload is aborted), so no object is ever left
/// behind. The first decision counts.
#[derive(Debug, Default)]
pub struct UploadGate(AtomicU8);

const GATE_PENDING: u8 = 0;
const GATE_PROCEED: u8 = 1;
const GATE_CANCEL: u8 = 2;

impl UploadGate {
    /// A gate that waits for a decision.
    pub fn new() -> UploadGate {
        UploadGate::default()
    }

    /// A gate that lets the upload through.
    pub fn open() -> UploadGate {
        UploadGate(AtomicU8::new(GATE_PROCEED))
    }

    /// Lets the upload complete (unless it was cancelled already).
    pub fn proceed(&self) {
        let _ = self.0.compare_exchange(
            GATE_PENDING,
            GATE_PROCEED,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Stops the upload before it writes anything visible (unless it may proceed already).
    pub fn cancel(&self) {
        let _ = self.0.compare_exchange(
            GATE_PENDING,
            GATE_CANCEL,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    fn state(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    /// Waits for the decision: `true` to proceed.
    fn wait(&self) -> bool {
        loop {
            match self.state() {
                GATE_PROCEED => return true,
                GATE_CANCEL => return false,
                _ => std::thread::sleep(GATE_POLL),
            }
        }
    }

    /// [`UploadGate::wait`] on the runtime.
    async fn wait_async(&self) -> bool {
        loop {
            match self.state() {
                GATE_PROCEED => return true,
                GATE_CANCEL => return false,
                _ => tokio::time::sleep(GATE_POLL).await,
            }
        }
    }
}

/// Which backend a [`Store`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// A local folder (`/abs/path`, `file:///abs/path`).
    Local,
    /// An in-process store (`memory://name`), shared by name within one process.
    Memory,
    /// S3 or an S3-compatible server (`s3://bucket/prefix`).
    S3,
}

impl StoreKind {
    /// The storage type as LaminDB names it: `local`, `memory` or `s3`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Local => "local",
            StoreKind::Memory => "memory",
            StoreKind::S3 => "s3",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings for `s3://` stores. [`S3Options::from_env`] reads the standard AWS variables.
///
/// `Debug` never shows the secret values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    /// Endpoint URL of an S3-compatible server (MinIO, Ceph, R2, moto, …); `None` for AWS.
    pub endpoint: Option<String>,
    /// Region; `us-east-1` when `None`.
    pub region: Option<String>,
    /// Access key id; without it requests are unsigned (public buckets only).
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
    /// Use virtual-hosted-style addressing (`bucket.endpoint`) instead of path style.
    pub virtual_host_style: bool,
}

impl S3Options {
    /// Reads `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN`. Empty variables count as unset.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            endpoint: var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            virtual_host_style: false,
        }
    }

    #[cfg(feature = "s3")]
    fn secrets(&self) -> Vec<String> {
        [&self.secret_access_key, &self.session_token]
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 8)
            .cloned()
            .collect()
    }
}

impl fmt::Debug for S3Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &redact(&self.access_key_id))
            .field("secret_access_key", &redact(&self.secret_access_key))
            .field("session_token", &redact(&self.session_token))
            .field("virtual_host_style", &self.virtual_host_style)
            .finish()
    }
}

/// Metadata of one stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Key relative to the store root.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The S3 ETag without quotes (see [`crate::hash_from_etag`]); `None` on local and memory
    /// stores, whose ETags are not content hashes.
    pub etag: Option<String>,
    /// Last modification time, when the backend reports one.
    pub last_modified: Option<SystemTime>,
}

/// A storage location: a local folder, an S3 prefix or an in-process memory store.
///
/// All keys are relative to the root (`a/b.parquet`); they must not start with `/` or
/// contain `.`/`..` segments. Methods are synchronous: an internal tokio runtime drives the
/// I/O, so do not call them from inside async code (use `spawn_blocking` there).
/// Cloning is cheap and clones share the connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    kind: StoreKind,
    /// The blocking operator, made on first use: it needs the I/O runtime's threads, which a
    /// local store's usual work (plain `std::fs`) never does.
    op: OnceLock<blocking::Operator>,
    /// The same operator, async, for what the blocking API lacks (aborting uploads).
    aop: opendal::Operator,
    root_url: String,
    /// Prefix prepended to keys inside `op` (memory stores share one operator per name).
    prefix: String,
    local_root: Option<PathBuf>,
    endpoint: String,
    bucket: String,
    secrets: Vec<String>,
    /// Whether the server refused a conditional write (`If-None-Match: *`) once.
    conditional_refused: std::sync::atomic::AtomicBool,
    /// S3: an operator at the bucket's root and this store's prefix in it (`a/b/`, or `""`),
    /// for server-side copies between stores in one bucket.
    bucket_op: Option<(opendal::Operator, String)>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.inner.kind)
            .field("root_url", &self.inner.root_url)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.root_url)
    }
}

/// The process's I/O runtime, created on first use.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lamella-storage-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|message| Error::Runtime {
        message: message.clone(),
    })
}

fn supported_schemes() -> String {
    let mut v: Vec<&str> = Vec::new();
    if cfg!(feature = "fs") {
        v.push("/absolute/path, file:///absolute/path");
    }
    if cfg!(feature = "s3") {
        v.push("s3://bucket/prefix");
    }
    if cfg!(feature = "memory") {
        v.push("memory://name");
    }
    v.join(", ")
}

/// Timeouts before retries, so that a timed-out request is retried.
#[cfg(feature = "s3")]
fn with_s3_layers(op: opendal::Operator) -> opendal::Operator {
    op.layer(
        opendal::layers::TimeoutLayer::new()
            .with_timeout(std::time::Duration::from_secs(300))
            .with_io_timeout(std::time::Duration::from_secs(60)),
    )
    .layer(
        opendal::layers::RetryLayer::new()
            .with_max_times(3)
            .with_min_delay(std::time::Duration::from_millis(200))
            .with_jitter(),
    )
}

impl Store {
    /// Opens the store at `url`: an absolute local path or `file:///abs/path`,
    /// `s3://bucket/prefix` (settings from [`S3Options::from_env`]) or `memory://name`.
    ///
    /// Opening does not contact the backend; [`Store::check`] does.
    ///
    /// ```
    /// let store = lamella_storage::Store::open("memory://doc-open")?;
    /// store.put_bytes("a.txt", b"a")?;
    /// assert!(store.exists("a.txt")?);
    /// # Ok::<(), lamella_storage::Error>(())
    /// ```
    pub fn open(url: &str) -> Result<Store> {
        Self::open_with(url, &S3Options::from_env())
    }

    /// Like [`Store::open`] with explicit S3 settings (ignored by other schemes).
    pub fn open_with(url: &str, s3: &S3Options) -> Result<Store> {
        let url = url.trim();
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if url.is_empty() {
            return Err(invalid(
                "empty; give an absolute path or a URL such as s3://bucket/prefix",
            ));
        }
        if Path::new(url).is_absolute() {
            return Self::open_local(url, PathBuf::from(url));
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(invalid(
                "relative paths are not storage locations; give an absolute path or a URL such as \
                 s3://bucket/prefix",
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" if cfg!(feature = "fs") => {
                let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
                let path = parsed
                    .to_file_path()
                    .map_err(|()| invalid("not a local absolute path (file:///abs/path)"))?;
                Self::open_local(url, path)
            }
            "s3" if cfg!(feature = "s3") => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(invalid("no bucket; expected s3://bucket/prefix"));
                }
                Self::open_s3(bucket, &clean_prefix(url, prefix)?, s3)
            }
            "memory" if cfg!(feature = "memory") => {
                let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if name.is_empty() {
                    return Err(invalid("no name; expected memory://name"));
                }
                Self::open_memory(name, &clean_prefix(url, prefix)?)
            }
            other => Err(Error::UnsupportedScheme {
                url: url.to_string(),
                scheme: other.to_string(),
                supported: supported_schemes(),
            }),
        }
    }

    #[cfg(feature = "fs")]
    fn open_local(url: &str, path: PathBuf) -> Result<Store> {
        if path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(Error::InvalidUrl {
                url: url.to_string(),
                reason: "`..` is not allowed in a storage root; give the resolved path".into(),
            });
        }
        let root: PathBuf = path.components().collect();
        let root_str = root.to_str().ok_or_else(|| Error::InvalidUrl {
            url: url.to_string(),
            reason: "the path is not valid UTF-8".into(),
        })?;
        let op = opendal::Operator::new(opendal::services::Fs::default().root(root_str))
            .map_err(|e| backend_config_error(url, e))?;
        Self::finish(Inner {
            kind: StoreKind::Local,
            op: OnceLock::new(),
            aop: op,
            root_url: root_str.to_string(),
            prefix: String::new(),
            local_root: Some(root),
            endpoint: String::new(),
            bucket: String::new(),
            secrets: Vec::new(),
            conditional_refused: Default::default(),
            bucket_op: None,
        })
    }

    #[cfg(not(feature = "fs"))]
    fn open_local(url: &str, _path: PathBuf) -> Result<Store> {
        Err(Error::UnsupportedScheme {
            url: url.to_string(),
            scheme: "file".into(),
            supported: supported_schemes(),
        })
    }

    #[cfg(feature = "memory")]
    fn open_memory(name: &str, prefix: &str) -> Result<Store> {
        use std::collections::HashMap;
        use std::sync::Mutex;
        static STORES: OnceLock<Mutex<HashMap<String, opendal::Operator>>> = OnceLock::new();
        let op = {
            let mut stores = STORES
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match stores.get(name) {
                Some(op) => op.clone(),
                None => {
                    let op = opendal::Operator::new(opendal::services::Memory::default())
                        .map_err(|e| backend_config_error(name, e))?;
                    stores.insert(name.to_string(), op.clone());
                    op
                }
            }
        };
        let root_url = if prefix.is_empty() {
            format!("memory://{name}")
        } else {
            format!("memory://{name}/{prefix}")
        };
        Self::finish(Inner {
            kind: StoreKind::Memory,
            op: OnceLock::new(),
            aop: op,
            root_url,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            local_root: None,
            endpoint: String::new(),
            bucket: String::new(),
            secrets: Vec::new(),
            conditional_refused: Default::default(),
            bucket_op: None,
        })
    }

    #[cfg(not(feature = "memory"))]
    fn open_memory(name: &str, _prefix: &str) -> Result<Store> {
        Err(Error::UnsupportedScheme {
            url: format!("memory://{name}"),
            scheme: "memory".into(),
            supported: supported_schemes(),
        })
    }

    #[cfg(feature = "s3")]
    fn open_s3(bucket: &str, prefix: &str, opts: &S3Options) -> Result<Store> {
        opendal::install_default();
        let root_url = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        let region = opts.region.as_deref().unwrap_or("us-east-1");
        let builder = |root: &str| {
            let mut b = opendal::services::S3::default()
                .bucket(bucket)
                .root(root)
                .region(region)
                .disable_config_load()
                .disable_ec2_metadata();
            if let Some(endpoint) = &opts.endpoint {
                b = b.endpoint(endpoint);
            }
            match (&opts.access_key_id, &opts.secret_access_key) {
                (Some(id), Some(secret)) => {
                    b = b.access_key_id(id).secret_access_key(secret);
                    if let Some(token) = &opts.session_token {
                        b = b.session_token(token);
                    }
                }
                _ => b = b.skip_signature(),
            }
            if opts.virtual_host_style {
                b = b.enable_virtual_host_style();
            }
            b
        };
        let secrets = opts.secrets();
        let op = opendal::Operator::new(builder(&format!("/{prefix}"))).map_err(|e| {
            let mut err = backend_config_error(&root_url, e);
            if let Error::InvalidUrl { reason, .. } = &mut err {
                *reason = scrub(reason, &secrets);
            }
            err
        })?;
        let op = with_s3_layers(op);
        let key_prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let bucket_op = opendal::Operator::new(builder("/"))
            .ok()
            .map(|o| (with_s3_layers(o), key_prefix));
        Self::finish(Inner {
            kind: StoreKind::S3,
            op: OnceLock::new(),
            aop: op,
            endpoint: opts
                .endpoint
                .clone()
                .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com")),
            root_url,
            prefix: String::new(),
            local_root: None,
            bucket: bucket.to_string(),
            secrets,
            conditional_refused: Default::default(),
            bucket_op,
        })
    }

    #[cfg(not(feature = "s3"))]
    fn open_s3(bucket: &str, _prefix: &str, _opts: &S3Options) -> Result<Store> {
        Err(Error::UnsupportedScheme {
            url: format!("s3://{bucket}"),
            scheme: "s3".into(),
            supported: supported_schemes(),
        })
    }

    fn finish(inner: Inner) -> Result<Store> {
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The store's root as a URL: the absolute path for local stores, `s3://bucket/prefix`,
    /// or `memory://name`. No trailing slash.
    pub fn root_url(&self) -> &str {
        &self.inner.root_url
    }

    /// Which backend this store uses.
    pub fn kind(&self) -> StoreKind {
        self.inner.kind
    }

    /// The full URL (or local path) of `key`.
    pub fn url_for(&self, key: &str) -> String {
        format!("{}/{}", self.inner.root_url.trim_end_matches('/'), key)
    }

    /// The local path of `key` on local stores; `None` on remote and memory stores.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.inner.local_root.as_ref().map(|r| r.join(key))
    }

    /// Contacts the backend once (lists the root) to report a wrong endpoint, missing bucket
    /// or bad credentials early.
    pub fn check(&self) -> Result<()> {
        match self.op()?.check() {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound && self.inner.kind == StoreKind::Local => {
                Ok(())
            }
            Err(e) => Err(self.map_err("check", "", e)),
        }
    }

    /// Uploads the local file at `local` to `key`, streaming it (multipart for large files
    /// on S3). An existing object is replaced; readers never see a partial object.
    pub fn put_file(&self, key: &str, local: &Path) -> Result<()> {
        self.put_file_with(key, local, &|_| {})
    }

    /// [`Store::put_file`], calling `on_bytes` with the number of bytes of each piece sent.
    pub fn put_file_with(
        &self,
        key: &str,
        local: &Path,
        on_bytes: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        self.put_file_inner(key, local, on_bytes, false, &UploadGate::open())
    }

    /// Uploads `local` to `key` only if no object is there yet ([`Error::AlreadyExists`]
    /// otherwise; never replaces one). On S3 this is one conditional request
    /// (`If-None-Match: *`, or the conditional completion of a multipart upload), so an
    /// object can be written at its final key directly; a server that refuses conditional
    /// writes gets a check before a plain write (noted once per store). Local stores write a
    /// temporary file and link it to its name.
    pub fn put_file_new_with(
        &self,
        key: &str,
        local: &Path,
        on_bytes: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        self.put_file_new_gated(key, local, on_bytes, &UploadGate::open())
    }

    /// [`Store::put_file_new_with`] whose last step waits for `gate` (see [`UploadGate`]):
    /// cancelled, it returns [`Error::Cancelled`] and leaves no object. (A local store
    /// writes a temporary file and links it into place when the gate lets it.)
    pub fn put_file_new_gated(
        &self,
        key: &str,
        local: &Path,
        on_bytes: &(dyn Fn(u64) + Sync),
        gate: &UploadGate,
    ) -> Result<()> {
        if self.local_path(key).is_some() {
            return self.put_file_inner(key, local, on_bytes, true, gate);
        }
        let refused = &self.inner.conditional_refused;
        let conditional = self.inner.aop.info().capability().write_with_if_not_exists;
        if conditional && !refused.load(std::sync::atomic::Ordering::Relaxed) {
            match self.put_file_inner(key, local, on_bytes, true, gate) {
                Err(Error::Backend { message, .. })
                    if message.contains("NotImplemented")
                        || message.contains("not implemented") =>
                {
                    refused.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                other => return other,
            }
        }
        if self.exists(key)? {
            return Err(self.already(key));
        }
        self.put_file_inner(key, local, on_bytes, false, gate)
    }

    fn already(&self, key: &str) -> Error {
        Error::AlreadyExists {
            url: self.root_url().to_string(),
            key: key.to_string(),
        }
    }

    fn put_file_inner(
        &self,
        key: &str,
        local: &Path,
        on_bytes: &(dyn Fn(u64) + Sync),
        if_new: bool,
        gate: &UploadGate,
    ) -> Result<()> {
        let path = self.path(key)?;
        // A FIFO would block the open and a device would upload forever: regular files only.
        let size = regular_file_meta(local, "upload its files one by one (see walk_folder)")?.len();
        let mut src = File::open(local).map_err(|e| Error::io("open", local, e))?;
        let cancelled = || Error::Cancelled {
            url: self.root_url().to_string(),
            key: key.to_string(),
        };
        if let Some(dest) = self.local_path(key) {
            let mut counted = Counted {
                inner: &mut src,
                on_bytes,
            };
            // the temporary copy is linked into place once the gate lets it
            let placed = write_into_place(&dest, !if_new, |f| {
                io::copy(&mut counted, f)?;
                match gate.wait() {
                    true => Ok(()),
                    false => Err(io::Error::other("cancelled")),
                }
            });
            return match placed {
                Ok(true) => Ok(()),
                Ok(false) => Err(self.already(key)),
                Err(_) if gate.state() == GATE_CANCEL => Err(cancelled()),
                Err(e) => Err(e),
            };
        }
        let single = size <= SINGLE_PUT_MAX;
        let opts = WriteOptions {
            // unchunked, one write then close is one PutObject
            chunk: (!single).then_some(TRANSFER_CHUNK),
            concurrent: TRANSFER_CONCURRENCY,
            if_not_exists: if_new,
            ..Default::default()
        };
        // The async writer, because only it can abort a failed multipart upload.
        let op = &self.inner.aop;
        runtime()?.block_on(async {
            let mut writer = op
                .writer_options(&path, opts)
                .await
                .map_err(|e| self.map_err("write", key, e))?;
            // No request is ever dropped half-way: one the server may have written could
            // leave an object, and a multipart upload whose start is still under way could
            // not be aborted. A cancel is seen between writes and at the gate.
            let res = async {
                // One PutObject: the whole file read at once (a file that grows is
                // caught: at most one byte more is read).
                let whole = if single {
                    let mut data = Vec::with_capacity(size as usize + 1);
                    (&mut src)
                        .take(size + 1)
                        .read_to_end(&mut data)
                        .map_err(|e| Error::io("read", local, e))?;
                    if data.len() as u64 != size {
                        return Err(Error::io(
                            "read",
                            local,
                            io::Error::other(format!(
                                "the file changed while it was read ({size} bytes, then {})",
                                data.len()
                            )),
                        ));
                    }
                    Some(data)
                } else {
                    loop {
                        let mut buf = vec![0u8; UPLOAD_READ_BUF];
                        let n = read_full(&mut src, &mut buf)
                            .map_err(|e| Error::io("read", local, e))?;
                        if n == 0 {
                            break;
                        }
                        buf.truncate(n);
                        writer
                            .write(buf)
                            .await
                            .map_err(|e| self.map_err("write", key, e))?;
                        on_bytes(n as u64);
                        if gate.state() == GATE_CANCEL {
                            return Err(cancelled());
                        }
                    }
                    None
                };
                // The last step waits for the caller's decision.
                if !gate.wait_async().await {
                    return Err(cancelled());
                }
                if let Some(data) = whole {
                    writer
                        .write(data)
                        .await
                        .map_err(|e| self.map_err("write", key, e))?;
                    on_bytes(size);
                }
                writer
                    .close()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.map_err("write", key, e))
            }
            .await;
            if res.is_err() {
                // best effort: the upload error is what the caller needs to see
                let _ = writer.abort().await;
            }
            res
        })
    }

    /// Stores `data` under `key`, replacing any existing object.
    pub fn put_bytes(&self, key: &str, data: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        if let Some(dest) = self.local_path(key) {
            return write_atomically(&dest, |f| f.write_all(data));
        }
        self.op()?
            .write(&path, data.to_vec())
            .map(|_| ())
            .map_err(|e| self.map_err("write", key, e))
    }

    /// Downloads `key` to the local file `local`, streaming. Parent folders are created; the
    /// file appears complete or not at all.
    pub fn get_to_file(&self, key: &str, local: &Path) -> Result<()> {
        self.get_to_file_with(key, local, &|_| {})
    }

    /// [`Store::get_to_file`], calling `on_bytes` with the number of bytes of each piece
    /// received.
    pub fn get_to_file_with(
        &self,
        key: &str,
        local: &Path,
        on_bytes: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        let path = self.path(key)?;
        if let Some(src_path) = self.local_path(key) {
            self.stat(key)?;
            let mut src = File::open(&src_path).map_err(|e| Error::io("open", &src_path, e))?;
            let mut counted = Counted {
                inner: &mut src,
                on_bytes,
            };
            return write_atomically(local, |f| io::copy(&mut counted, f).map(|_| ()));
        }
        // Stat first so a missing object is a clean NotFound before any file is created.
        let size = self.stat(key)?.size;
        let opts = ReaderOptions {
            chunk: Some(TRANSFER_CHUNK),
            concurrent: TRANSFER_CONCURRENCY,
            ..Default::default()
        };
        let reader = self
            .op()?
            .reader_options(&path, opts)
            .map_err(|e| self.map_err("read", key, e))?;
        let mut src = reader
            .into_std_read(..)
            .map_err(|e| self.map_err("read", key, e))?;
        let mut failed = None;
        let res = write_atomically(local, |f| match copy_exactly(&mut src, f, size, on_bytes) {
            Ok(()) => Ok(()),
            Err(CopyStop::Write(e)) => Err(e),
            Err(stopped) => {
                let shown = io::Error::other(stopped.to_string());
                failed = Some(stopped);
                Err(shown)
            }
        });
        match failed {
            Some(CopyStop::Read(e)) => Err(self.map_io_err("read", key, e)),
            Some(CopyStop::Write(_)) | None => res,
            Some(CopyStop::Length(got)) => Err(self.backend(
                "read",
                key,
                &format!(
                    "the object is {size} bytes but the download gave {got}; nothing was \
                     written, try again"
                ),
            )),
        }
    }

    /// The content hash of the object at `key` (LaminDB's file rules, as [`crate::hash_file`]),
    /// read as a stream: up to 50 MiB the whole object, above it only its first and last
    /// 50 MiB (two ranged reads in parallel). Local stores hash the file.
    pub fn hash_object(&self, key: &str) -> Result<crate::FileHash> {
        let meta = self.stat(key)?;
        self.hash_listed(&meta)
    }

    /// [`Store::hash_object`] of an object already listed or stat'ed (its size known: no
    /// request for it).
    pub fn hash_listed(&self, meta: &ObjectMeta) -> Result<crate::FileHash> {
        let key = meta.key.as_str();
        let path = self.path(key)?;
        if let Some(p) = self.local_path(key) {
            return crate::hash_file(&p);
        }
        let size = meta.size;
        let op = self.op()?;
        let open = |from: u64, len: u64| -> io::Result<Box<dyn Read + Send>> {
            let opts = ReaderOptions {
                chunk: Some(TRANSFER_CHUNK),
                concurrent: TRANSFER_CONCURRENCY,
                ..Default::default()
            };
            let r = op
                .reader_options(&path, opts)
                .and_then(|r| r.into_std_read(from..from + len))
                .map_err(|e| io::Error::other(self.map_err("read", key, e)))?;
            Ok(Box::new(r))
        };
        crate::hash::hash_ranges(size, open, Path::new(&self.url_for(key)))
    }

    /// Whether [`Store::copy_new_from`] copies objects of `source` into this store on the
    /// server, without the bytes passing through this process: both stores are S3 prefixes
    /// of one bucket on one endpoint.
    pub fn copies_server_side_from(&self, source: &Store) -> bool {
        self.inner.kind == StoreKind::S3
            && source.inner.kind == StoreKind::S3
            && self.inner.endpoint == source.inner.endpoint
            && self.inner.bucket == source.inner.bucket
            && self.inner.bucket_op.is_some()
            && source.inner.bucket_op.is_some()
    }

    /// Copies the object `from` of `source` to `to` in this store on the server (S3
    /// `CopyObject`, multipart above 5 GiB), only if `to` does not exist yet
    /// ([`Error::AlreadyExists`] otherwise): checked, then copied with `If-None-Match: *`
    /// where the server takes it (callers serialise writers of one key where it does not).
    /// Requires [`Store::copies_server_side_from`].
    pub fn copy_new_from(&self, source: &Store, from: &str, to: &str) -> Result<()> {
        let (Some((op, prefix)), Some((_, source_prefix)), true) = (
            &self.inner.bucket_op,
            &source.inner.bucket_op,
            self.copies_server_side_from(source),
        ) else {
            return Err(self.no_server_copy(source));
        };
        check_key(from)?;
        check_key(to)?;
        let from_path = format!("{source_prefix}{from}");
        let to_path = format!("{prefix}{to}");
        // Checked first: not every server honours a conditional copy (moto ignores it); the
        // condition still closes the window between check and copy where it is honoured.
        if self.exists(to)? {
            return Err(self.already(to));
        }
        let conditional = op.info().capability().copy_with_if_not_exists;
        let opts = opendal::options::CopyOptions {
            if_not_exists: conditional
                && !self
                    .inner
                    .conditional_refused
                    .load(std::sync::atomic::Ordering::Relaxed),
            ..Default::default()
        };
        let res = runtime()?.block_on(op.copy_options(&from_path, &to_path, opts.clone()));
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::ConditionNotMatch => Err(self.already(to)),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(source.not_found(from)),
            Err(e) if opts.if_not_exists && e.to_string().contains("NotImplemented") => {
                self.inner
                    .conditional_refused
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                self.copy_new_from(source, from, to)
            }
            Err(e) => Err(self.map_err("copy", to, e)),
        }
    }

    fn no_server_copy(&self, source: &Store) -> Error {
        Error::InvalidInput {
            what: format!("a server-side copy from {source} to {self}"),
            reason: "both must be S3 prefixes of one bucket on one endpoint; copy through a \
                     download instead"
                .into(),
        }
    }

    /// Reads a whole object into memory; meant for small objects.
    pub fn read_bytes(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        if let Some(p) = self.local_path(key) {
            return match std::fs::read(&p) {
                Ok(v) => Ok(v),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(key)),
                Err(e) if p.is_dir() => {
                    drop(e);
                    Err(self.not_a_file(key))
                }
                Err(e) => Err(Error::io("read", p, e)),
            };
        }
        self.op()?
            .read(&path)
            .map(|b| b.to_vec())
            .map_err(|e| self.map_err("read", key, e))
    }

    /// Size, ETag and modification time of `key`.
    pub fn stat(&self, key: &str) -> Result<ObjectMeta> {
        let path = self.path(key)?;
        let meta = self
            .op()?
            .stat(&path)
            .map_err(|e| self.map_err("stat", key, e))?;
        if meta.is_dir() {
            return Err(self.not_a_file(key));
        }
        Ok(self.object_meta(key.to_string(), &meta))
    }

    /// Whether an object (not a folder) exists at `key`.
    pub fn exists(&self, key: &str) -> Result<bool> {
        match self.stat(key) {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. } | Error::NotAFile { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the object at `key`. Deleting a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        if let Some(p) = self.local_path(key) {
            if p.is_dir() {
                return Err(self.not_a_file(key));
            }
            // A plain unlink: no round trip through the async runtime.
            return match std::fs::remove_file(&p) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io("remove", &p, e)),
            };
        }
        self.op()?
            .delete(&path)
            .map_err(|e| self.map_err("delete", key, e))
    }

    /// Moves the object at `from` to `to`, replacing `to`. Local stores rename the file;
    /// S3 and memory stores copy and then delete.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let from_path = self.path(from)?;
        let to_path = self.path(to)?;
        if let (Some(src), Some(dest)) = (self.local_path(from), self.local_path(to)) {
            // Local folders: a plain rename, no round trip through the async runtime.
            if !src.is_file() {
                return Err(Error::NotFound {
                    url: self.root_url().to_string(),
                    key: from.to_string(),
                });
            }
            if from == to {
                return Ok(());
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io("create folder", parent, e))?;
            }
            return std::fs::rename(&src, &dest).map_err(|e| Error::io("rename", src, e));
        }
        self.stat(from)?;
        if from == to {
            return Ok(());
        }
        let cap = self.op()?.info().capability();
        if cap.copy {
            self.op()?
                .copy(&from_path, &to_path)
                .map_err(|e| self.map_err("copy", from, e))?;
        } else {
            let data = self
                .op()?
                .read(&from_path)
                .map_err(|e| self.map_err("read", from, e))?;
            self.op()?
                .write(&to_path, data)
                .map_err(|e| self.map_err("write", to, e))?;
        }
        self.delete(from)
    }

    /// Moves the object at `from` to `to` only if `to` does not exist yet: never replaces an
    /// object ([`Error::AlreadyExists`] instead). Local stores link the file to its new name
    /// (atomic: of two racing movers one wins) and then remove the old name, falling back to a
    /// checked rename where the filesystem has no hard links; object stores check, then copy
    /// and delete (callers serialise writers of one key, e.g. with a database lock).
    pub fn rename_new(&self, from: &str, to: &str) -> Result<()> {
        let exists = || Error::AlreadyExists {
            url: self.root_url().to_string(),
            key: to.to_string(),
        };
        if from == to {
            return Err(exists());
        }
        if let (Some(src), Some(dest)) = (self.local_path(from), self.local_path(to)) {
            self.path(from)?;
            self.path(to)?;
            if !src.is_file() {
                return Err(self.not_found(from));
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io("create folder", parent, e))?;
            }
            return match std::fs::hard_link(&src, &dest) {
                Ok(()) => std::fs::remove_file(&src).map_err(|e| Error::io("remove", &src, e)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists()),
                Err(_) => {
                    // no hard links here (some network and FUSE filesystems)
                    if std::fs::symlink_metadata(&dest).is_ok() {
                        return Err(exists());
                    }
                    std::fs::rename(&src, &dest).map_err(|e| Error::io("rename", &src, e))
                }
            };
        }
        match self.stat(to) {
            Ok(_) | Err(Error::NotAFile { .. }) => return Err(exists()),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        self.rename(from, to)
    }

    /// All objects below the folder `prefix` (recursively), sorted by key; `""` lists the
    /// whole store. `prefix` names a folder: `"a"` and `"a/"` both list `a/…`, never `ab`.
    /// A missing folder gives an empty list.
    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let folder = prefix.trim_end_matches('/');
        if !folder.is_empty() {
            check_key(folder)?;
        }
        let path = match (self.inner.prefix.as_str(), folder) {
            ("", "") => "/".to_string(),
            (p, "") => p.to_string(),
            (p, f) => format!("{p}{f}/"),
        };
        let opts = ListOptions {
            recursive: true,
            ..Default::default()
        };
        let entries = match self.op()?.list_options(&path, opts) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.map_err("list", prefix, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let full = entry.path();
            if full.ends_with('/') || entry.metadata().is_dir() {
                continue;
            }
            let Some(key) = full.strip_prefix(&self.inner.prefix) else {
                continue;
            };
            let key = key.trim_start_matches('/').to_string();
            if entry.metadata().is_file() {
                out.push(self.object_meta(key, entry.metadata()));
            } else {
                // Some backends (memory) list without metadata.
                match self.stat(&key) {
                    Ok(meta) => out.push(meta),
                    Err(Error::NotFound { .. } | Error::NotAFile { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn object_meta(&self, key: String, meta: &opendal::Metadata) -> ObjectMeta {
        let etag = match self.inner.kind {
            StoreKind::S3 => meta.etag().map(|e| e.trim_matches('"').to_string()),
            _ => None,
        };
        ObjectMeta {
            key,
            size: meta.content_length(),
            etag,
            last_modified: meta.last_modified().map(SystemTime::from),
        }
    }

    fn path(&self, key: &str) -> Result<String> {
        check_key(key)?;
        Ok(format!("{}{}", self.inner.prefix, key))
    }

    fn not_found(&self, key: &str) -> Error {
        Error::NotFound {
            url: self.inner.root_url.clone(),
            key: key.to_string(),
        }
    }

    fn not_a_file(&self, key: &str) -> Error {
        Error::NotAFile {
            url: self.inner.root_url.clone(),
            key: key.to_string(),
        }
    }

    fn map_io_err(&self, operation: &'static str, key: &str, e: io::Error) -> Error {
        let kind = e.kind();
        match e
            .into_inner()
            .map(|inner| inner.downcast::<opendal::Error>())
        {
            Some(Ok(od)) => self.map_err(operation, key, *od),
            Some(Err(other)) => self.backend(operation, key, &other.to_string()),
            None => self.backend(operation, key, &kind.to_string()),
        }
    }

    fn backend(&self, operation: &'static str, key: &str, message: &str) -> Error {
        Error::Backend {
            operation,
            url: self.inner.root_url.clone(),
            key: key.to_string(),
            message: scrub(message, &self.inner.secrets),
        }
    }

    fn map_err(&self, operation: &'static str, key: &str, e: opendal::Error) -> Error {
        let message = scrub(&full_message(&e), &self.inner.secrets);
        let url = self.inner.root_url.clone();
        let s3 = self.inner.kind == StoreKind::S3;
        if s3 && message.contains("NoSuchBucket") {
            return Error::NoSuchBucket {
                url,
                bucket: self.inner.bucket.clone(),
            };
        }
        match e.kind() {
            ErrorKind::NotFound => self.not_found(key),
            ErrorKind::IsADirectory => self.not_a_file(key),
            // a conditional write (`If-None-Match: *`) found an object at the key
            ErrorKind::ConditionNotMatch => self.already(key),
            ErrorKind::PermissionDenied => Error::AccessDenied {
                // S3 says why in an error code (SignatureDoesNotMatch, InvalidAccessKeyId, …);
                // the rest of opendal's context is noise for a person.
                url,
                key: key.to_string(),
                hint: if s3 {
                    "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) and the \
                     bucket's policy"
                        .into()
                } else {
                    "check the permissions of the folder".into()
                },
                message: s3_code(&message).unwrap_or(message),
            },
            _ if s3 && is_unreachable(&message) => Error::Unreachable {
                url,
                endpoint: self.inner.endpoint.clone(),
                message,
            },
            _ if s3
                && (message.contains("InvalidAccessKeyId")
                    || message.contains("SignatureDoesNotMatch")
                    || message.contains("AccessDenied")) =>
            {
                Error::AccessDenied {
                    url,
                    key: key.to_string(),
                    hint: "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)"
                        .into(),
                    message,
                }
            }
            _ => self.backend(operation, key, &message),
        }
    }
}

impl Store {
    /// The blocking operator (made, and the I/O runtime started, on first use).
    fn op(&self) -> Result<&blocking::Operator> {
        if let Some(op) = self.inner.op.get() {
            return Ok(op);
        }
        let made = blocking_op(self.inner.aop.clone())?;
        Ok(self.inner.op.get_or_init(|| made))
    }
}

fn blocking_op(op: opendal::Operator) -> Result<blocking::Operator> {
    let rt = runtime()?;
    let _guard = rt.enter();
    blocking::Operator::new(op).map_err(|e| Error::Runtime {
        message: e.to_string(),
    })
}

fn backend_config_error(url: &str, e: opendal::Error) -> Error {
    Error::InvalidUrl {
        url: url.to_string(),
        reason: full_message(&e),
    }
}

/// The error with its chain of sources, which is where transports put "connection refused".
fn full_message(e: &opendal::Error) -> String {
    use std::error::Error as _;
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        src = s.source();
    }
    msg
}

fn is_unreachable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection refused",
        "error trying to connect",
        "dns error",
        "failed to lookup address",
        "tcp connect error",
        "connection reset",
        "timed out",
        "client error (connect)",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// Removes secret values from a message.
fn scrub(message: &str, secrets: &[String]) -> String {
    let mut m = message.to_string();
    for s in secrets {
        m = m.replace(s.as_str(), "<redacted>");
    }
    m
}

/// Checks that a key is a clean relative path.
fn check_key(key: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidKey {
            key: key.to_string(),
            reason: reason.to_string(),
        })
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.starts_with('/') {
        return bad("must be relative to the store root (no leading `/`)");
    }
    if key.ends_with('/') {
        return bad("must name an object, not a folder (no trailing `/`)");
    }
    if key.contains('\\') {
        return bad("use `/` as separator, not `\\`");
    }
    if key.chars().any(char::is_control) {
        return bad("must not contain control characters");
    }
    for seg in key.split('/') {
        match seg {
            "" => return bad("must not contain empty segments (`//`)"),
            "." | ".." => return bad("must not contain `.` or `..` segments"),
            _ => {}
        }
    }
    Ok(())
}

/// Cleans the prefix part of a URL: no empty, `.` or `..` segments, no outer slashes.
fn clean_prefix(url: &str, prefix: &str) -> Result<String> {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        return Ok(String::new());
    }
    check_key(prefix).map_err(|e| Error::InvalidUrl {
        url: url.to_string(),
        reason: format!("bad prefix: {e}"),
    })?;
    Ok(prefix.to_string())
}

/// Writes a file through a temporary sibling and renames it into place.
/// The S3 error code in an opendal message (`code: "SignatureDoesNotMatch"`).
fn s3_code(message: &str) -> Option<String> {
    let rest = &message[message.find("code: \"")? + 7..];
    let code = &rest[..rest.find('"')?];
    (!code.is_empty()).then(|| code.to_string())
}

/// A reader that reports how many bytes went through it.
struct Counted<'a, R> {
    inner: &'a mut R,
    on_bytes: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_bytes)(n as u64);
        Ok(n)
    }
}

/// Why [`copy_exactly`] stopped.
#[derive(Debug)]
enum CopyStop {
    Read(io::Error),
    Write(io::Error),
    /// The source ended after this many bytes, not the size expected.
    Length(u64),
}

impl std::fmt::Display for CopyStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CopyStop::Read(e) => write!(f, "download failed: {e}"),
            CopyStop::Write(e) => write!(f, "{e}"),
            CopyStop::Length(n) => write!(f, "download incomplete after {n} bytes"),
        }
    }
}

/// Copies `src` into `dest`, reporting each chunk's bytes to `on_bytes`; a source that ends
/// before (or runs past) `size` bytes is an error, so a cut download is never kept.
fn copy_exactly(
    src: &mut impl io::BufRead,
    dest: &mut impl Write,
    size: u64,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> std::result::Result<(), CopyStop> {
    let mut got = 0u64;
    loop {
        let chunk = src.fill_buf().map_err(CopyStop::Read)?;
        if chunk.is_empty() {
            return if got == size {
                Ok(())
            } else {
                Err(CopyStop::Length(got))
            };
        }
        let n = chunk.len();
        dest.write_all(chunk).map_err(CopyStop::Write)?;
        src.consume(n);
        got += n as u64;
        on_bytes(n as u64);
    }
}

fn write_atomically(dest: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<()> {
    write_into_place(dest, true, fill).map(|_| ())
}

/// Writes a temporary file next to `dest` and moves it to `dest`: replacing what is there
/// when `replace`, else only if nothing is (a link, atomic among racing writers). Returns
/// whether the file was placed (`false`: `dest` existed and was kept).
fn write_into_place(
    dest: &Path,
    replace: bool,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<bool> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = crate::tmp::file_in(&parent)?;
    fill(tmp.as_file_mut()).map_err(|e| Error::io("write", dest, e))?;
    let placed = if replace {
        tmp.persist(dest)
    } else {
        tmp.persist_noclobber(dest)
    };
    match placed {
        Ok(_) => Ok(true),
        Err(e) if !replace && e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("rename a temporary file to", dest, e.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_shorter_or_longer_than_the_object_is_an_error() {
        let counted = std::sync::atomic::AtomicU64::new(0);
        let count = |n| {
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let body = b"0123456789";
        let mut out = Vec::new();
        copy_exactly(&mut &body[..], &mut out, 10, &count).unwrap();
        assert_eq!(out, body);
        assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), 10);
        for size in [11, 9] {
            let err = copy_exactly(&mut &body[..], &mut Vec::new(), size, &count).unwrap_err();
            assert!(matches!(err, CopyStop::Length(10)), "{err:?}");
        }
        // Through the download: what ends early leaves no file behind.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("cached");
        let mut src = &body[..4];
        let err = write_atomically(&dest, |f| {
            copy_exactly(&mut src, f, 10, &count).map_err(|e| io::Error::other(e.to_string()))
        })
        .unwrap_err();
        assert!(err.to_string().contains("after 4 bytes"), "{err}");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn keys() {
        for good in ["a", "a/b.txt", ".lamella/x", "with space/ü.csv"] {
            check_key(good).unwrap();
        }
        for bad in [
            "", "/a", "a/", "a//b", "../a", "a/./b", "a/..", "a\\b", "a\nb",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(all(feature = "fs", feature = "memory", feature = "s3"))]
    #[test]
    fn urls() {
        let err = Store::open("gs://bucket/x").unwrap_err().to_string();
        assert!(
            err.contains("`gs`") && err.contains("s3://bucket/prefix"),
            "{err}"
        );
        let err = Store::open("relative/dir").unwrap_err().to_string();
        assert!(err.contains("absolute path"), "{err}");
        let err = Store::open("s3:///x").unwrap_err().to_string();
        assert!(err.contains("no bucket"), "{err}");
        let err = Store::open("memory://").unwrap_err().to_string();
        assert!(err.contains("no name"), "{err}");
        let err = Store::open("s3://b/a/../c").unwrap_err().to_string();
        assert!(err.contains("bad prefix"), "{err}");
        let err = Store::open("/tmp/../etc").unwrap_err().to_string();
        assert!(err.contains("`..`"), "{err}");

        let s = Store::open("file:///tmp/lamella%20x/").unwrap();
        assert_eq!(s.root_url(), "/tmp/lamella x");
        assert_eq!(s.kind(), StoreKind::Local);
        assert_eq!(
            s.local_path("a/b"),
            Some(PathBuf::from("/tmp/lamella x/a/b"))
        );
        let s = Store::open("/tmp/lamella-y/").unwrap();
        assert_eq!(s.root_url(), "/tmp/lamella-y");
        assert_eq!(s.url_for("k"), "/tmp/lamella-y/k");
        let s = Store::open_with("s3://bucket/some/prefix/", &S3Options::default()).unwrap();
        assert_eq!(s.root_url(), "s3://bucket/some/prefix");
        assert_eq!(s.kind(), StoreKind::S3);
        assert_eq!(s.local_path("a"), None);
        assert_eq!(s.url_for("a"), "s3://bucket/some/prefix/a");
        let s = Store::open("MEMORY://n/p").unwrap();
        assert_eq!(s.root_url(), "memory://n/p");
    }

    #[cfg(feature = "s3")]
    #[test]
    fn secrets_stay_hidden() {
        let opts = S3Options {
            endpoint: Some("http://127.0.0.1:1".into()),
            access_key_id: Some("AKIDSECRETID".into()),
            secret_access_key: Some("verysecretvalue".into()),
            session_token: Some("tokentokentoken".into()),
            ..Default::default()
        };
        let dbg = format!("{opts:?}");
        assert!(
            !dbg.contains("AKIDSECRETID") && !dbg.contains("verysecretvalue"),
            "{dbg}"
        );
        assert!(!dbg.contains("tokentokentoken"), "{dbg}");
        let store = Store::open_with("s3://b/p", &opts).unwrap();
        let shown = format!("{store:?} {store}");
        assert!(!shown.contains("verysecretvalue"), "{shown}");
        assert_eq!(
            scrub("x verysecretvalue y", &opts.secrets()),
            "x <redacted> y"
        );
    }

    #[cfg(all(unix, feature = "memory", feature = "fs"))]
    #[test]
    fn put_file_refuses_devices_and_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let local = Store::open(tmp.path().join("store").to_str().unwrap()).unwrap();
        for store in [Store::open("memory://put-file-special").unwrap(), local] {
            let (tx, rx) = std::sync::mpsc::channel();
            let s = store.clone();
            std::thread::spawn(move || {
                let _ = tx.send(s.put_file("zero", Path::new("/dev/zero")));
            });
            let err = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("uploading /dev/zero did not stop")
                .unwrap_err();
            assert!(matches!(err, Error::NotARegularFile { .. }), "{err:?}");
            assert!(!store.exists("zero").unwrap());
            let err = store.put_file("d", tmp.path()).unwrap_err();
            assert!(err.to_string().contains("is a folder"), "{err}");
        }
    }

    #[cfg(feature = "memory")]
    #[test]
    fn memory_stores_are_shared_by_name() {
        let a = Store::open("memory://shared-by-name").unwrap();
        let b = Store::open("memory://shared-by-name").unwrap();
        let c = Store::open("memory://shared-by-name/sub").unwrap();
        let other = Store::open("memory://another-name").unwrap();
        a.put_bytes("sub/x", b"1").unwrap();
        assert_eq!(b.read_bytes("sub/x").unwrap(), b"1");
        assert_eq!(c.read_bytes("x").unwrap(), b"1");
        assert_eq!(c.list("").unwrap()[0].key, "x");
        assert!(!other.exists("sub/x").unwrap());
    }
}
