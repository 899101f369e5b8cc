// SPDX-License-Identifier: GPL-2.0

//! rsunion: a union filesystem that stacks read-only layers under one
//! writable layer, as container runtimes build a root filesystem from image
//! layers. The crate is split by VFS concern as fs/overlayfs is; all raw
//! pointer work lives in [`vfs`].

mod copy_up;
mod dir;
mod entry;
mod file;
mod inode;
mod lower_names;
mod namei;
mod params;
mod readdir;
mod super_block;
mod util;
mod vfs;
mod xattr;

use kernel::prelude::*;

module! {
    type: RsunionModule,
    name: "rsunion",
    author: "rsunion developers",
    description: "Union filesystem: read-only layers under one writable layer",
    license: "GPL",
}

/// The registered `rsunion` type; static, as lockdep wants its keys.
static FS_TYPE: vfs::FsTypeStorage = vfs::FsTypeStorage::new();

/// Dropped in field order: the type goes before `/sys/fs/rsunion`, which
/// the mounts' directories hang under.
struct RsunionModule {
    _fs: vfs::Registration,
    _sysfs: vfs::SysfsRoot,
}

impl kernel::Module for RsunionModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let sysfs = vfs::SysfsRoot::new()?;
        let fs = vfs::Registration::new::<super_block::RsunionType>(module, &FS_TYPE)?;
        Ok(Self {
            _fs: fs,
            _sysfs: sysfs,
        })
    }
}
