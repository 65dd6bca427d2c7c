//! One field of an HDF5 compound dataset, read by a name known only when the file is open —
//! the columns of a pre-0.7 AnnData frame (`obs` and `var` were compound datasets then).
//!
//! HDF5 converts a compound dataset into a compound memory type member by member, matching
//! members by name: reading into a one-member compound named like a field reads that field
//! alone. `hdf5-metno` describes memory types statically (`H5Type::type_descriptor()` takes
//! no value), so the field's name reaches the descriptor through a thread-local set around
//! the read. This module is the workspace's only unsafe code: the `unsafe impl` below states
//! the memory layout of [`Field`], which is what its safety contract is about.
#![allow(unsafe_code)]

use std::cell::RefCell;

use hdf5::types::{CompoundField, CompoundType, TypeDescriptor};

thread_local! {
    /// The name of the field being read on this thread (set only during [`read`]).
    static NAME: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A value of type `T` as the only member of a compound, at offset 0.
#[repr(transparent)]
struct Field<T>(T);

// SAFETY: `Field<T>` is `repr(transparent)` over `T`, so its layout is `T`'s: one member of
// `T`'s type at offset 0 and `size_of::<T>()` bytes, which is exactly the descriptor given.
// Only the member's name varies (it selects the file's field HDF5 converts from); `read`
// checks first that the file has a field of that name, so every element is written by the
// read and no uninitialised value (such as a string pointer) is ever produced.
unsafe impl<T: hdf5::H5Type> hdf5::H5Type for Field<T> {
    fn type_descriptor() -> TypeDescriptor {
        let name = NAME.with(|n| n.borrow().clone());
        TypeDescriptor::Compound(CompoundType {
            fields: vec![CompoundField::new(&name, T::type_descriptor(), 0, 0)],
            size: std::mem::size_of::<T>(),
        })
    }
}

/// The values of field `name` of the compound dataset `ds`, converted to `T` by HDF5 (an
/// error when the dataset has no such field or its type does not convert).
pub(crate) fn read<T: hdf5::H5Type>(ds: &hdf5::Dataset, name: &str) -> hdf5::Result<Vec<T>> {
    let TypeDescriptor::Compound(c) = ds.dtype()?.to_descriptor()? else {
        return Err(hdf5::Error::from("not a compound dataset"));
    };
    if !c.fields.iter().any(|f| f.name == name) {
        return Err(hdf5::Error::from(format!("no field named '{name}'")));
    }
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            NAME.with(|n| n.borrow_mut().clear());
        }
    }
    NAME.with(|n| *n.borrow_mut() = name.to_string());
    let _reset = Reset;
    let values = ds.read_raw::<Field<T>>()?;
    Ok(values.into_iter().map(|f| f.0).collect())
}
