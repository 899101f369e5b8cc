// SPDX-License-Identifier: GPL-2.0

//! The thin layer over the raw VFS bindings.
//!
//! Every raw pointer the module touches is handled here, behind types named
//! after the C objects they wrap (`SuperBlock`, `FsContext`, ...), so that the
//! union logic above reads like the rules it implements. A C VFS reader should
//! recognise each wrapper at a glance: no new object model, just ownership
//! and lifetimes made explicit.

pub(crate) mod bindings;
mod fs_context;
mod fs_type;
mod super_block;

pub(crate) use fs_context::{FsContext, FsParameter};
pub(crate) use fs_type::{FileSystem, Registration};
pub(crate) use super_block::SuperBlock;

use kernel::error::Error;

/// `-ENOPARAM`: "not my parameter", so the VFS handles it (e.g. `source`).
pub(crate) fn enoparam() -> Error {
    Error::from_errno(-(bindings::ENOPARAM as i32))
}
