// SPDX-License-Identifier: GPL-2.0

//! The thin layer over the raw VFS bindings.
//!
//! Every raw pointer the module touches is handled here, behind types named
//! after the C objects they wrap (`SuperBlock`, `Inode`, `Dentry`, `Path`,
//! `File`, `Cred`, ...), so that the union logic above reads like the rules
//! it implements. A C VFS reader should recognise each wrapper at a glance:
//! no new object model, just ownership and lifetimes made explicit.

mod attr;
mod bindings;
pub(crate) mod consts;
mod cred;
mod dentry;
mod dir_context;
mod file;
mod fs_context;
mod fs_type;
mod inode;
mod namei;
mod once;
mod ops;
mod path;
mod seq_file;
mod super_block;
mod sysfs;
mod xattr;

pub(crate) use attr::{
    FiemapInfo, FileAttr, Iattr, Kstat, Kstatfs, COPIED_I_FLAGS, PROTECTION_I_FLAGS,
};
pub(crate) use consts::{DevT, Umode};
pub(crate) use cred::{may_list_trusted, Cred};
pub(crate) use dentry::{Dentry, NameHashKey, Times};
pub(crate) use dir_context::{read_real_dir, read_real_dir_on, DirContext, RawEntry};
pub(crate) use file::{File, RealFile, TmpfileOpen};
pub(crate) use fs_context::{FsContext, FsParameter};
pub(crate) use fs_type::{FileSystem, FsTypeStorage, Registration};
pub(crate) use inode::{CopyUp, Iget, Inode, InodeLock, InodeOps, RsInode};
pub(crate) use namei::{DirOps, LockedDir, MntWrite, RenameLock};
pub(crate) use once::OnceBox;
pub(crate) use ops::ops_for_mode;
pub(crate) use path::{unmount_all, MntIdmap, Path, PrivateMount};
pub(crate) use seq_file::SeqFile;
pub(crate) use super_block::{NewSuperBlock, SuperBlock, UnionSb};
pub(crate) use sysfs::{BranchFiles, SysfsRoot};
pub(crate) use xattr::{Inherited, XattrList};

/// Whether a signal is killing the current task: between the steps of a
/// long operation, the only reason to give it up. A signal the task
/// catches stops only a step that stops for any (splice, with
/// `ERESTARTSYS`, which SA_RESTART restarts): our own `EINTR` would
/// reach callers of open(2) or chmod(2) that never expect it.
pub(crate) fn fatal_signal_pending() -> bool {
    // SAFETY: reads the current task's own pending signals.
    unsafe { bindings::rsunion_fatal_signal_pending() }
}

/// The errnos `kernel::error::code` does not name, from the headers.
pub(crate) mod errno {
    use super::bindings;
    use kernel::error::Error;

    fn err(errno: u32) -> Error {
        Error::from_errno(-(errno as i32))
    }

    /// "Not my parameter": the VFS handles it (e.g. `source`).
    pub(crate) fn enoparam() -> Error {
        err(bindings::ENOPARAM)
    }

    pub(crate) fn enametoolong() -> Error {
        err(bindings::ENAMETOOLONG)
    }

    pub(crate) fn enodata() -> Error {
        err(bindings::ENODATA)
    }

    pub(crate) fn eopnotsupp() -> Error {
        err(bindings::EOPNOTSUPP)
    }

    /// A filesystem without the ioctl: the caller sees ENOTTY.
    pub(crate) fn enoioctlcmd() -> Error {
        err(bindings::ENOIOCTLCMD)
    }

    pub(crate) fn enotempty() -> Error {
        err(bindings::ENOTEMPTY)
    }

    pub(crate) fn estale() -> Error {
        err(bindings::ESTALE)
    }

    /// Layers that nest: the union would contain itself.
    pub(crate) fn eloop() -> Error {
        err(bindings::ELOOP)
    }
}
