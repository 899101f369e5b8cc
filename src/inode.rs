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

use crate::copy_up::copy_up;
use crate::entry::{Real, RsInode};
use crate::vfs::{bindings, Dentry, MntWrite, Path};
use kernel::prelude::*;

/// The topmost real object of `inode` as a path on its layer's mount.
pub(crate) fn top_path(inode: &RsInode) -> Result<Path> {
    real_path(inode, inode.top().ok_or(EIO)?)
}

pub(crate) fn real_path(inode: &RsInode, real: Real<'_>) -> Result<Path> {
    let layer = inode.fs().layers.get(real.layer).ok_or(EIO)?;
    Ok(Path::new(&layer.mnt, real.dentry))
}

pub(crate) fn getattr(
    inode: &RsInode,
    stat: &mut bindings::kstat,
    request_mask: u32,
    flags: u32,
) -> Result {
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
    // A lower object is never written: a write will go to its upper copy.
    // Ask only that the mounter can read it, to copy it up.
    let mask = if inode.upper().is_none()
        && !real.is_special()
        && mask & bindings::MAY_WRITE as i32 != 0
    {
        (mask & !((bindings::MAY_WRITE | bindings::MAY_APPEND) as i32)) | bindings::MAY_READ as i32
    } else {
        mask
    };
    let _creds = fs.creds.override_creds();
    real.permission(layer.mnt.idmap(), mask)
}

/// Changes attributes: the caller is checked on the union inode, the
/// object is copied up, and the change made to the upper copy.
pub(crate) fn setattr(
    dentry: &Dentry,
    idmap: *mut bindings::mnt_idmap,
    attr: &mut bindings::iattr,
) -> Result {
    dentry.setattr_prepare(idmap, attr)?;
    copy_up(dentry)?;
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let layer = fs.upper().ok_or(EROFS)?;
    let upper = inode.upper().ok_or(EIO)?;
    // The mode is recomputed by the upper filesystem when privileges are
    // dropped; the union file means nothing to it.
    if attr.ia_valid & (bindings::ATTR_KILL_SUID | bindings::ATTR_KILL_SGID) != 0 {
        attr.ia_valid &= !bindings::ATTR_MODE;
    }
    attr.ia_valid &= !(bindings::ATTR_FILE | bindings::ATTR_OPEN);
    let _write = MntWrite::get(&layer.mnt)?;
    let result = {
        let _creds = fs.creds.override_creds();
        upper.notify_change(&layer.mnt, attr)
    };
    inode.copy_attr();
    result
}
