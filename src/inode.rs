// SPDX-License-Identifier: GPL-2.0

//! Attributes and permission of union inodes (fs/overlayfs/inode.c's
//! concern).
//!
//! What `stat` reports: a non-directory keeps its real object's `st_dev`
//! and `st_ino`, so tools that compare them (tar, du, find -samefile) see
//! one file through the union and through the layer alike. A directory
//! reports the union's `st_dev` with its topmost real `st_ino` (as
//! overlayfs does without xino), and a merged directory `st_nlink` 1, since
//! no single layer's link count describes it.

use crate::entry::{Real, RsInode};
use crate::vfs::{bindings, Path};
use kernel::prelude::*;

/// The topmost real object of `inode` as a path on its layer's mount.
pub(crate) fn top_path(inode: &RsInode) -> Result<Path> {
    real_path(inode, inode.top().ok_or(EIO)?)
}

pub(crate) fn real_path(inode: &RsInode, real: Real<'_>) -> Result<Path> {
    let layer = inode.fs().layers.get(real.layer).ok_or(EIO)?;
    Ok(Path::new(&layer.mnt, real.dentry))
}

pub(crate) fn getattr(inode: &RsInode, stat: &mut bindings::kstat, request_mask: u32, flags: u32) -> Result {
    let path = top_path(inode)?;
    {
        let _creds = inode.fs().creds.override_creds();
        path.getattr(stat, request_mask, flags)?;
    }
    if inode.inode().is_dir() {
        stat.dev = inode.inode().super_block().dev();
        if inode.is_merged() {
            stat.nlink = 1;
        }
    }
    Ok(())
}

/// The caller is checked on the union inode, whose attributes are the real
/// object's; the mounter, whose credentials every layer operation uses, is
/// checked on the real object.
///
/// This runs in RCU path walks too: it takes no references and never
/// sleeps.
pub(crate) fn permission(inode: &RsInode, idmap: *mut bindings::mnt_idmap, mask: i32) -> Result {
    inode.inode().generic_permission(idmap, mask)?;
    let fs = inode.fs();
    let top = inode.top().ok_or(ECHILD)?;
    // Evicted under an RCU walk: let the walk retry with references.
    let real = top.dentry.inode().ok_or(ECHILD)?;
    let layer = fs.layers.get(top.layer).ok_or(EIO)?;
    let _creds = fs.creds.override_creds();
    real.permission(layer.mnt.idmap(), mask)
}
