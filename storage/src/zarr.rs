//! Zarr stores (format 2 and 3, a folder on the local file system) read as the tree an
//! AnnData needs: groups with their members and attributes, and 1-D or 2-D arrays with their
//! shapes and element types. Node metadata is read from its JSON (`.zgroup`/`.zarray` +
//! `.zattrs`, or `zarr.json`); array values are decoded by `zarrs` (blosc, zstd, gzip,
//! sharding), so a read touches only the chunks of the range asked for.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array,
    Int64Array, StringArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use serde_json::{Map, Value};
use zarrs::array::Array;
use zarrs::filesystem::FilesystemStore;

/// Whether `path` looks like a Zarr store: a folder with root metadata of format 2 or 3.
pub(crate) fn is_zarr_store(path: &Path) -> bool {
    path.is_dir() && (path.join(".zgroup").is_file() || path.join("zarr.json").is_file())
}

/// A node's metadata.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A group and its attributes.
    Group(Map<String, Value>),
    /// An array: its shape, its element type (in HDF5's vocabulary, which the AnnData reader
    /// speaks), and its attributes.
    Array {
        shape: Vec<u64>,
        ty: TypeDescriptor,
        attrs: Map<String, Value>,
    },
}

impl Node {
    /// The node's attributes.
    pub(crate) fn attrs(&self) -> &Map<String, Value> {
        match self {
            Node::Group(a) | Node::Array { attrs: a, .. } => a,
        }
    }
}

/// An open Zarr store.
pub(crate) struct ZarrTree {
    root: PathBuf,
    store: Arc<FilesystemStore>,
    /// Metadata read so far, by node path (a frame's reader asks about each column several
    /// times: whether it exists, is an array, its type and shape).
    seen: Mutex<HashMap<String, Option<Node>>>,
}

impl ZarrTree {
    /// Opens the store at `root` (a folder).
    pub(crate) fn open(root: &Path) -> Result<ZarrTree, String> {
        let store = FilesystemStore::new(root).map_err(|e| e.to_string())?;
        Ok(ZarrTree {
            root: root.to_path_buf(),
            store: Arc::new(store),
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// The folder of node `path` (`""` is the root, `obs/cell_type` a member of a member).
    fn dir(&self, path: &str) -> PathBuf {
        path.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.root.clone(), |d, p| d.join(p))
    }

    /// The metadata of node `path`, `None` when there is no such node.
    pub(crate) fn node(&self, path: &str) -> Result<Option<Node>, String> {
        if let Some(node) = self.seen.lock().ok().and_then(|s| s.get(path).cloned()) {
            return Ok(node);
        }
        let node = self.read_node(path)?;
        if let Ok(mut s) = self.seen.lock() {
            s.insert(path.to_string(), node.clone());
        }
        Ok(node)
    }

    fn read_node(&self, path: &str) -> Result<Option<Node>, String> {
        let dir = self.dir(path);
        if let Some(meta) = read_json(&dir.join("zarr.json"))? {
            let attrs = meta
                .get("attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            return match meta.get("node_type").and_then(Value::as_str) {
                Some("group") => Ok(Some(Node::Group(attrs))),
                Some("array") => Ok(Some(Node::Array {
                    shape: shape_of(&meta)?,
                    ty: v3_type(meta.get("data_type").unwrap_or(&Value::Null))?,
                    attrs,
                })),
                other => Err(format!("has node type {other:?} (a group or an array)")),
            };
        }
        let attrs = read_json(&dir.join(".zattrs"))?
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        if let Some(meta) = read_json(&dir.join(".zarray"))? {
            return Ok(Some(Node::Array {
                shape: shape_of(&meta)?,
                ty: v2_type(&meta)?,
                attrs,
            }));
        }
        if dir.join(".zgroup").is_file() {
            return Ok(Some(Node::Group(attrs)));
        }
        Ok(None)
    }

    /// The names of the nodes in group `path`, sorted.
    pub(crate) fn members(&self, path: &str) -> Result<Vec<String>, String> {
        let dir = self.dir(path);
        let entries = std::fs::read_dir(&dir).map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let p = entry.path();
            if !name.starts_with('.')
                && p.is_dir()
                && (p.join("zarr.json").is_file()
                    || p.join(".zarray").is_file()
                    || p.join(".zgroup").is_file())
            {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn array(&self, path: &str) -> Result<Array<FilesystemStore>, String> {
        Array::open(self.store.clone(), &format!("/{}", path.trim_matches('/')))
            .map_err(|e| e.to_string())
    }

    /// The values of `subset` (one range per dimension; the whole array when `None`) of array
    /// `path`, of element type `ty`, row after row, as an Arrow array of that type.
    pub(crate) fn read(
        &self,
        path: &str,
        ty: &TypeDescriptor,
        subset: Option<Vec<Range<u64>>>,
    ) -> Result<ArrayRef, String> {
        let array = self.array(path)?;
        let subset = subset.unwrap_or_else(|| array.shape().iter().map(|&n| 0..n).collect());
        macro_rules! read {
            ($t:ty, $a:ty) => {
                Arc::new(<$a>::from(
                    array
                        .retrieve_array_subset::<Vec<$t>>(&subset)
                        .map_err(|e| e.to_string())?,
                )) as ArrayRef
            };
        }
        Ok(match ty {
            TypeDescriptor::Integer(IntSize::U1) => read!(i8, Int8Array),
            TypeDescriptor::Integer(IntSize::U2) => read!(i16, Int16Array),
            TypeDescriptor::Integer(IntSize::U4) => read!(i32, Int32Array),
            TypeDescriptor::Integer(IntSize::U8) => read!(i64, Int64Array),
            TypeDescriptor::Unsigned(IntSize::U1) => read!(u8, UInt8Array),
            TypeDescriptor::Unsigned(IntSize::U2) => read!(u16, UInt16Array),
            TypeDescriptor::Unsigned(IntSize::U4) => read!(u32, UInt32Array),
            TypeDescriptor::Unsigned(IntSize::U8) => read!(u64, UInt64Array),
            TypeDescriptor::Float(FloatSize::U4) => read!(f32, Float32Array),
            TypeDescriptor::Float(FloatSize::U8) => read!(f64, Float64Array),
            TypeDescriptor::Boolean => read!(bool, BooleanArray),
            TypeDescriptor::VarLenUnicode | TypeDescriptor::FixedUnicode(_) => {
                read!(String, StringArray)
            }
            other => return Err(format!("has element type {other}, which is not read")),
        })
    }
}

/// A JSON document, `None` when the file does not exist.
fn read_json(path: &Path) -> Result<Option<Value>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            format!(
                "has metadata that is not JSON ({}: {e}); the store may be corrupt",
                path.file_name().unwrap_or_default().to_string_lossy()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn shape_of(meta: &Value) -> Result<Vec<u64>, String> {
    meta.get("shape")
        .and_then(Value::as_array)
        .and_then(|s| s.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
        .ok_or_else(|| "has no valid shape in its metadata".to_string())
}

/// The element type of a format-3 array (`data_type`).
fn v3_type(data_type: &Value) -> Result<TypeDescriptor, String> {
    let name = data_type
        .as_str()
        .or_else(|| data_type.get("name").and_then(Value::as_str))
        .unwrap_or("");
    Ok(match name {
        "int8" => TypeDescriptor::Integer(IntSize::U1),
        "int16" => TypeDescriptor::Integer(IntSize::U2),
        "int32" => TypeDescriptor::Integer(IntSize::U4),
        "int64" => TypeDescriptor::Integer(IntSize::U8),
        "uint8" => TypeDescriptor::Unsigned(IntSize::U1),
        "uint16" => TypeDescriptor::Unsigned(IntSize::U2),
        "uint32" => TypeDescriptor::Unsigned(IntSize::U4),
        "uint64" => TypeDescriptor::Unsigned(IntSize::U8),
        "float32" => TypeDescriptor::Float(FloatSize::U4),
        "float64" => TypeDescriptor::Float(FloatSize::U8),
        "bool" => TypeDescriptor::Boolean,
        "string" => TypeDescriptor::VarLenUnicode,
        other => {
            return Err(format!(
                "has data type '{other}', which Lamella does not read"
            ));
        }
    })
}

/// The element type of a format-2 array (numpy's `dtype` string; `|O` text with the
/// `vlen-utf8` filter).
fn v2_type(meta: &Value) -> Result<TypeDescriptor, String> {
    let dtype = meta.get("dtype").and_then(Value::as_str).unwrap_or("");
    let body = dtype.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = body.split_at(body.len().min(1));
    let size: usize = size.parse().unwrap_or(0);
    let int = |s: usize| match s {
        1 => Some(IntSize::U1),
        2 => Some(IntSize::U2),
        4 => Some(IntSize::U4),
        8 => Some(IntSize::U8),
        _ => None,
    };
    let ty = match kind {
        "i" => int(size).map(TypeDescriptor::Integer),
        "u" => int(size).map(TypeDescriptor::Unsigned),
        "f" if size == 4 => Some(TypeDescriptor::Float(FloatSize::U4)),
        "f" if size == 8 => Some(TypeDescriptor::Float(FloatSize::U8)),
        "b" if size == 1 => Some(TypeDescriptor::Boolean),
        "U" => Some(TypeDescriptor::FixedUnicode(size * 4)),
        "O" => {
            let filters = meta.get("filters").and_then(Value::as_array);
            let utf8 = filters.is_some_and(|f| {
                f.iter()
                    .any(|x| x.get("id").and_then(Value::as_str) == Some("vlen-utf8"))
            });
            utf8.then_some(TypeDescriptor::VarLenUnicode)
        }
        _ => None,
    };
    ty.ok_or_else(|| format!("has dtype '{dtype}', which Lamella does not read"))
}
