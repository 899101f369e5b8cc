// SPDX-License-Identifier: GPL-2.0

//! Extended attributes of union objects (fs/overlayfs/xattrs.c's concern):
//! read from the topmost real object, changed on the upper copy (a change
//! copies up), and never showing the union's private names.

use crate::copy_up::copy_up;
use crate::entry::{RsInode, UnionFs};
use crate::util::{is_escaped, is_private, top_path, ESCAPE, PRIVATE_XATTR_PREFIX};
use crate::vfs::consts::ATTR_KILL_SGID;
use crate::vfs::{Dentry, Iattr, Inode, MntIdmap, MntWrite, Path, PrivateMount};
use kernel::{
    fmt,
    prelude::*,
    str::{BStr, CStr, CString},
};

pub(crate) fn get(dentry: &Dentry, name: &CStr, buf: &mut [u8]) -> Result<usize> {
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let top = inode.top().ok_or(EIO)?;
    let layer = fs.layer(top.layer)?;
    fs.creds.with(
        || match top.dentry.getxattr(layer.mnt.idmap(), name, buf)? {
            Some(n) => Ok(n),
            None => Err(crate::vfs::errno::enodata()),
        },
    )
}

/// POSIX ACLs of a union object are its topmost real object's: `read`
/// reads them there, as the mounter.
pub(crate) fn get_acl<R>(dentry: &Dentry, read: impl FnOnce(&Path) -> R) -> Result<R> {
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let path = top_path(inode)?;
    Ok(inode.fs().creds.with(|| read(&path)))
}

/// The ACL permission checks on union inode `inode` use: its topmost real
/// inode's, read by `read`, as the mounter unless in an RCU walk (`rcu`),
/// where only a cached ACL is read and nothing may sleep.
pub(crate) fn get_inode_acl<R>(
    inode: &RsInode,
    rcu: bool,
    read: impl FnOnce(&Inode) -> R,
) -> Result<R> {
    // Evicted under an RCU walk: let the walk retry with references.
    let real = inode.top().and_then(|t| t.dentry.inode()).ok_or(ECHILD)?;
    if rcu {
        return Ok(read(real));
    }
    Ok(inode.fs().creds.with(|| read(real)))
}

/// Sets (or removes) a POSIX ACL of a union object with `set`, on its
/// upper copy, as the mounter; `access` for an access ACL, which may have
/// to clear the setgid bit: the mounter's `CAP_FSETID` would keep one the
/// caller must lose, so it is cleared first, as the caller would.
pub(crate) fn set_acl(
    dentry: &Dentry,
    idmap: &MntIdmap,
    access: bool,
    set: impl FnOnce(&Dentry, &PrivateMount) -> Result,
) -> Result {
    let union = dentry.union_inode().ok_or(ENOENT)?;
    if access && union.inode().acl_kills_sgid() {
        let mut attr = Iattr::only(ATTR_KILL_SGID);
        crate::inode::setattr(dentry, idmap, &mut attr)?;
    }
    let (upper, mnt, fs) = upper_for_change(dentry)?;
    let _write = MntWrite::get(mnt)?;
    let result = fs.creds.with(|| set(upper, mnt));
    if let Some(rs) = dentry.union_inode() {
        rs.sync_from_real();
    }
    result
}

/// Copies `dentry` up for a change of its xattrs or ACLs; the upper copy,
/// its layer's mount, and the union.
fn upper_for_change(dentry: &Dentry) -> Result<(&Dentry, &PrivateMount, &UnionFs)> {
    copy_up(dentry)?;
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let layer = fs.writable()?;
    Ok((inode.upper().ok_or(EIO)?, &layer.mnt, fs))
}

/// Sets (or with `None` removes) an xattr, on the upper copy. Removing a
/// name a lower object does not have copies nothing up (as overlayfs).
pub(crate) fn set(dentry: &Dentry, name: &CStr, value: Option<&[u8]>, flags: i32) -> Result {
    let union = dentry.union_inode().ok_or(ENOENT)?;
    if value.is_none() && union.upper().is_none() {
        get(dentry, name, &mut [])?;
    }
    let (upper, mnt, fs) = upper_for_change(dentry)?;
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let _write = MntWrite::get(mnt)?;
    let result = fs.creds.with(|| match value {
        Some(v) => upper.setxattr_flags(mnt, name, v, flags),
        None => upper.removexattr(mnt, name),
    });
    inode.sync_from_real();
    result
}

/// The topmost real object's names, less the private ones. A size query
/// (empty `buf`) may over-estimate, as overlayfs's does.
pub(crate) fn list(dentry: &Dentry, buf: &mut [u8]) -> Result<usize> {
    let inode = dentry.union_inode().ok_or(ENOENT)?;
    let fs = inode.fs();
    let top = inode.top().ok_or(EIO)?;
    let len = fs.creds.with(|| top.dentry.listxattr(buf))?;
    if buf.is_empty() {
        return Ok(len);
    }
    let list = buf.get_mut(..len).ok_or(EIO)?;
    Ok(remove_private_names(list))
}

/// Drops from a NUL-separated list in place the names the caller may not
/// see: private ones, and `trusted.*` ones without `CAP_SYS_ADMIN` (the
/// list was read as the mounter); shows escaped names as the caller set
/// them. Returns the new length.
fn remove_private_names(list: &mut [u8]) -> usize {
    let trusted_visible = crate::vfs::may_list_trusted();
    let (mut read, mut write) = (0, 0);
    while read < list.len() {
        let end = list
            .get(read..)
            .and_then(|r| r.iter().position(|&c| c == 0))
            .map_or(list.len(), |p| read + p + 1);
        let (hidden, escaped) = {
            let name = list.get(read..end).unwrap_or_default();
            let trusted_hidden = !trusted_visible && name.starts_with(b"trusted.");
            (is_private(name) || trusted_hidden, is_escaped(name))
        };
        if !hidden && escaped {
            // `trusted.overlay.` stays; the escape's `overlay.` goes.
            let keep = read + PRIVATE_XATTR_PREFIX.len();
            let rest = keep + ESCAPE.len();
            list.copy_within(read..keep, write);
            write += keep - read;
            list.copy_within(rest..end, write);
            write += end - rest;
        } else if !hidden {
            list.copy_within(read..end, write);
            write += end - read;
        }
        read = end;
    }
    write
}

/// The real name of union xattr `trusted.overlay.NAME`, given `NAME`.
fn escaped(name: &CStr) -> Result<CString> {
    let real = CString::try_from_fmt(fmt!(
        "{}{}{}",
        BStr::from_bytes(PRIVATE_XATTR_PREFIX),
        BStr::from_bytes(ESCAPE),
        BStr::from_bytes(name.as_bytes())
    ))?;
    if real.len() > XATTR_NAME_MAX {
        return Err(crate::vfs::errno::eopnotsupp());
    }
    Ok(real)
}

/// The longest xattr name (uapi/linux/limits.h).
const XATTR_NAME_MAX: usize = 255;

/// `getxattr` of `trusted.overlay.NAME` through the union.
pub(crate) fn get_escaped(dentry: &Dentry, name: &CStr, buf: &mut [u8]) -> Result<usize> {
    get(dentry, &escaped(name)?, buf)
}

/// `setxattr`/`removexattr` of `trusted.overlay.NAME` through the union.
pub(crate) fn set_escaped(
    dentry: &Dentry,
    name: &CStr,
    value: Option<&[u8]>,
    flags: i32,
) -> Result {
    set(dentry, &escaped(name)?, value, flags)
}
