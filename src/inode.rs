// SPDX-License-Identifier: GPL-2.0

//! Attributes and permission of union inodes (fs/overlayfs/inode.c's
//! concern).
//!
//! What `stat` reports, as overlayfs does (its st_dev/st_ino table in
//! Documentation/filesystems/overlayfs.rst): an object keeps its numbers
//! across copy-up, so that tools that remember them while they walk (fts
//! in `rm -rf`, `find`, `du`, `tar`) see one object before and after.
//!
//! - All layers on one filesystem: every object reports the union's
//!   `st_dev`, and the `st_ino` of the object it was copied up from (a
//!   directory: of its topmost lower directory), recorded on the copy so
//!   that it survives a remount. Real inode numbers are unique on one
//!   filesystem, so no two union objects report the same pair.
//! - Layers on several filesystems: a directory reports the union's
//!   `st_dev` and an inode number of the union's own (unique, not
//!   persistent); a non-directory its real object's `st_dev` and `st_ino`,
//!   those of the lower object it was copied from for as long as the
//!   union inode lives.
//!
//! A lower object with several links keeps them only until one name is
//! copied up; that name then reports its upper copy's number.
//!
//! A merged directory reports `st_nlink` 1, since no single layer's link
//! count describes it.

use crate::copy_up::copy_up;
use crate::entry::{RealDentry, RsInode, UnionFs};
use crate::util::{warn_once, ORIGIN_INO_XATTR};
use crate::vfs::consts::{
    ATTR_FILE, ATTR_KILL_SGID, ATTR_KILL_SUID, ATTR_MODE, ATTR_OPEN, MAY_APPEND, MAY_READ,
    MAY_WRITE, S_APPEND, S_ATIME, S_IMMUTABLE,
};
use crate::vfs::{
    errno, Dentry, FiemapInfo, FileAttr, Iattr, Inode, Kstat, MntIdmap, MntWrite, Path,
    PrivateMount,
};
use core::sync::atomic::AtomicBool;
use kernel::prelude::*;
use kernel::{c_str, str::CStr};

/// The inode number a new union inode reports, per the rules above;
/// `None` for one of the union's own. An object `made_now` has no number
/// recorded by a copy-up to read.
pub(crate) fn identity_ino(
    fs: &UnionFs,
    upper: Option<&Dentry>,
    lowers: &[RealDentry],
    is_dir: bool,
    made_now: bool,
) -> Result<Option<u64>> {
    let first_lower = lowers.first().map(|r| &*r.dentry);
    if is_dir {
        if !fs.samefs {
            return Ok(None);
        }
        let origin = first_lower.or(upper).and_then(Dentry::inode).ok_or(EIO)?;
        return Ok(Some(origin.ino()));
    }
    if let (true, false, Some(upper), None) = (fs.samefs, made_now, upper, first_lower) {
        if let Some(ino) = recorded_origin(fs, upper)? {
            return Ok(Some(ino));
        }
    }
    let top = upper.or(first_lower).and_then(Dentry::inode).ok_or(EIO)?;
    Ok(Some(top.ino()))
}

/// The origin inode number copy-up recorded on `upper`, if any.
fn recorded_origin(fs: &UnionFs, upper: &Dentry) -> Result<Option<u64>> {
    let layer = fs.upper().ok_or(EIO)?;
    let mut value = [0u8; 8];
    match upper.getxattr(layer.mnt.idmap(), ORIGIN_INO_XATTR, &mut value) {
        Ok(Some(8)) => Ok(Some(u64::from_le_bytes(value))),
        Ok(_) => Ok(None),
        // No trusted xattrs here: nothing was recorded.
        Err(e) if e == crate::vfs::errno::eopnotsupp() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The lower object a non-directory was copied up from in this mount, if
/// it had one link (a broken hard link is a new object).
fn copy_origin(inode: &RsInode) -> Option<&Inode> {
    inode.upper()?;
    let origin = inode.lowers().first()?.dentry.inode()?;
    (origin.nlink() == 1).then_some(origin)
}

pub(crate) fn getattr(inode: &RsInode, stat: &mut Kstat, request_mask: u32, flags: u32) -> Result {
    let fs = inode.fs();
    let top = inode.top().ok_or(EIO)?;
    let mnt = &fs.layer(top.layer)?.mnt;
    fs.creds
        .with(|| mnt.getattr(top.dentry, stat, request_mask, flags))?;
    let vfs = inode.inode();
    let union_dev = vfs.super_block().dev();
    if vfs.is_dir() {
        stat.set_dev(union_dev);
        stat.set_ino(vfs.ino());
        if inode.is_merged() {
            stat.set_nlink(1);
        }
    } else if fs.samefs {
        stat.set_dev(union_dev);
        // Copied up in this mount from a lower hard link: a new object.
        let copied_here = inode.upper().is_some() && !inode.lowers().is_empty();
        if !copied_here || copy_origin(inode).is_some() {
            stat.set_ino(vfs.ino());
        }
    } else if let Some(origin) = copy_origin(inode) {
        stat.set_dev(origin.super_block().dev());
        stat.set_ino(origin.ino());
    }
    Ok(())
}

/// A union symlink's target is its topmost real object's, read by `read`
/// as the mounter.
pub(crate) fn get_link<R>(inode: &RsInode, read: impl FnOnce(&Dentry) -> R) -> Result<R> {
    let real = inode.top().ok_or(EIO)?;
    Ok(inode.fs().creds.with(|| read(real.dentry)))
}

/// The caller is checked on the union inode, whose attributes are the real
/// object's; the mounter, whose credentials every layer operation uses, is
/// checked on the real object.
///
/// This runs in RCU path walks too: it takes no references and never
/// sleeps.
pub(crate) fn permission(inode: &RsInode, idmap: &MntIdmap, mask: i32) -> Result {
    inode.inode().generic_permission(idmap, mask)?;
    let fs = inode.fs();
    let top = inode.top().ok_or(ECHILD)?;
    // Evicted under an RCU walk: let the walk retry with references.
    let real = top.dentry.inode().ok_or(ECHILD)?;
    let layer = fs.layer(top.layer)?;
    // A lower object is never written: a write will go to its upper copy.
    // Ask only that the mounter can read it, to copy it up.
    let mask = if inode.upper().is_none() && !real.is_special() && mask & MAY_WRITE != 0 {
        (mask & !(MAY_WRITE | MAY_APPEND)) | MAY_READ
    } else {
        mask
    };
    fs.creds.with(|| real.permission(layer.mnt.idmap(), mask))
}

/// The union's atime options decided, in `touch_atime` on the union
/// inode, that an access is recorded: the upper copy records it (its
/// private mount has no atime options of its own), a lower object nothing
/// (overlayfs's `ovl_update_time`). Other times are the real filesystem's
/// to set, in the real object.
pub(crate) fn update_time(inode: &RsInode, flags: u32) {
    if flags & S_ATIME == 0 {
        return;
    }
    if let (Some(upper), Some(layer)) = (inode.upper(), inode.fs().upper()) {
        Path::new(&layer.mnt, upper).touch_atime();
        inode.take_upper_atime();
    }
}

/// Changes attributes: the caller is checked on the union inode, the
/// object is copied up, and the change made to the upper copy.
pub(crate) fn setattr(dentry: &Dentry, idmap: &MntIdmap, attr: &mut Iattr) -> Result {
    dentry.setattr_prepare(idmap, attr)?;
    copy_up(dentry)?;
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let layer = fs.writable()?;
    let upper = inode.upper().ok_or(EIO)?;
    // The mode is recomputed by the upper filesystem when privileges are
    // dropped; the union file means nothing to it.
    if attr.valid() & (ATTR_KILL_SUID | ATTR_KILL_SGID) != 0 {
        attr.clear_valid(ATTR_MODE);
    }
    attr.clear_valid(ATTR_FILE | ATTR_OPEN);
    let _write = MntWrite::get(&layer.mnt)?;
    let result = fs.creds.with(|| upper.notify_change(&layer.mnt, attr));
    inode.sync_from_real();
    result
}

/// FIEMAP (`filefrag`) on a union file: the extents of its topmost real
/// file, mapped as the mounter (overlayfs's `ovl_fiemap`). The top one
/// holds all the data, as overlayfs's `ovl_inode_realdata` would: the
/// union has no metadata-only copies, and an upper copy becomes the top
/// only once its data is complete.
pub(crate) fn fiemap(inode: &RsInode, info: &mut FiemapInfo, start: u64, len: u64) -> Result {
    let real = inode.top().and_then(|top| top.dentry.inode()).ok_or(EIO)?;
    inode.fs().creds.with(|| real.fiemap(info, start, len))
}

/// Where an upper object keeps its protection flags, as overlayfs keeps
/// them: a letter each, `a` append-only, `i` immutable. Set on the object
/// itself, they would forbid the union what it does to it (a copy-up's
/// rename into an immutable directory, its own xattrs).
const PROTATTR_XATTR: &CStr = c_str!("trusted.overlay.protattr");

/// `lsattr` through the union (FS_IOC_GETFLAGS, FS_IOC_FSGETXATTR): the
/// topmost object's flags, read as the mounter, with the union inode's
/// protection flags (overlayfs's `ovl_fileattr_get`).
pub(crate) fn fileattr_get(dentry: &Dentry, fa: &mut FileAttr) -> Result {
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let top = inode.top().ok_or(EIO)?;
    let layer = fs.layer(top.layer)?;
    let result = fs.creds.with(|| top.dentry.fileattr_get(&layer.mnt, fa));
    fa.add_protection(inode.protection());
    result
}

/// `chattr` through the union: on the upper copy, as the mounter, once
/// the VFS checked the caller on the union inode (owner, and
/// `CAP_LINUX_IMMUTABLE` for the protection flags), which go to the
/// protattr xattr instead (overlayfs's `ovl_fileattr_set`).
pub(crate) fn fileattr_set(dentry: &Dentry, fa: &mut FileAttr) -> Result {
    copy_up(dentry)?;
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let layer = fs.writable()?;
    let upper = inode.upper().ok_or(EIO)?;
    let _write = MntWrite::get(&layer.mnt)?;
    let result = fs.creds.with(|| {
        write_protattr(inode, upper, &layer.mnt, fa)?;
        upper.fileattr_set(&layer.mnt, fa)
    });
    inode.take_real_flags();
    inode.sync_from_real();
    result
}

/// Records `fa`'s protection flags in `upper`'s protattr xattr and on
/// `inode`, and takes them out of `fa` (overlayfs's `ovl_set_protattr`).
/// Without xattrs on the upper layer they cannot be kept: EPERM.
pub(crate) fn write_protattr(
    inode: &RsInode,
    upper: &Dentry,
    mnt: &PrivateMount,
    fa: &mut FileAttr,
) -> Result {
    let flags = fa.protection();
    let value: &[u8] = match (flags & S_APPEND != 0, flags & S_IMMUTABLE != 0) {
        (true, true) => b"ai",
        (true, false) => b"a",
        (false, true) => b"i",
        (false, false) => b"",
    };
    if !value.is_empty() {
        match upper.setxattr(mnt, PROTATTR_XATTR, value) {
            Err(e) if e == errno::eopnotsupp() => return Err(EPERM),
            r => r?,
        }
    } else if inode.protection() != 0 {
        match upper.removexattr(mnt, PROTATTR_XATTR) {
            Err(e) if e == errno::eopnotsupp() || e == errno::enodata() => {}
            r => r?,
        }
    }
    inode.set_protection(flags);
    fa.clear_protection();
    Ok(())
}

/// A union inode set up on `upper` takes the protection flags its
/// protattr xattr records (overlayfs's `ovl_check_protattr`), besides those
/// it took from the upper inode itself, where an older kernel set them. A
/// value this module cannot read is left alone, with a warning, as
/// overlayfs does.
pub(crate) fn read_protattr(inode: &RsInode, upper: &Dentry, mnt: &PrivateMount) {
    let mut buf = [0u8; 32];
    let len = match upper.getxattr(mnt.idmap(), PROTATTR_XATTR, &mut buf) {
        Ok(Some(len)) => len,
        _ => return,
    };
    let value = buf.get(..len).unwrap_or_default();
    let flags = value
        .iter()
        .try_fold(inode.protection(), |flags, letter| match letter {
            b'a' => Some(flags | S_APPEND),
            b'i' => Some(flags | S_IMMUTABLE),
            _ => None,
        });
    match flags {
        Some(flags) if !value.is_empty() => inode.set_protection(flags),
        // Directories are looked up anew for each dentry: once will do.
        _ => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            warn_once(&WARNED, "incompatible overlay.protattr on an upper object");
        }
    }
}
