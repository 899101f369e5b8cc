// SPDX-License-Identifier: GPL-2.0

//! Opening union files (fs/overlayfs/file.c's concern). I/O on an open
//! regular file goes straight to the real file through the kernel's
//! backing-file helpers (see `vfs::ops`), so reads cost almost nothing
//! over the real filesystem's.

use crate::copy_up::{copy_up_checked, copy_up_with, Data};
use crate::entry::RsInode;
use crate::util::top_path;
use crate::vfs::consts::{
    MAY_APPEND, MAY_OPEN, MAY_READ, MAY_WRITE, O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_NOATIME,
    O_NOCTTY, O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY,
};
use crate::vfs::{File, Inode, Path, RealFile};
use kernel::prelude::*;

/// Flags that did their work at the union level and mean nothing to the
/// real file: `O_TMPFILE`'s made the unnamed file, which the real file is
/// opened on as any other (FUSE would pass them to its server).
const UNION_ONLY_FLAGS: u32 = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_TMPFILE;

/// Opens the real file behind `file` with the mounter's credentials, after
/// checking that the mounter may open it so. An open that may write copies
/// a lower file up first: writes only ever reach the upper layer.
pub(crate) fn open(inode: &RsInode, file: &File) -> Result<RealFile> {
    let truncating = file.flags() & O_TRUNC != 0;
    let writing = file.flags() & O_ACCMODE != O_RDONLY;
    if inode.upper().is_none() && truncating {
        // No use copying data the open is about to drop; but an open that
        // fails must leave the lower file showing, so the empty copy is
        // opened before it takes the lower file's place.
        let mut opened = None;
        copy_up_checked(file.dentry(), Data::Drop, &mut |copy| {
            opened = Some(open_real(inode, file, copy)?);
            Ok(())
        })?;
        if let Some(real) = opened {
            return Ok(real);
        }
    } else if inode.upper().is_none() && writing {
        copy_up_with(file.dentry(), Data::Copy)?;
    }
    open_real(inode, file, &top_path(inode)?)
}

/// Opens `real`, the real object behind union file `file`, after checking
/// that the mounter may open it so.
fn open_real(inode: &RsInode, file: &File, real: &Path) -> Result<RealFile> {
    let fs = inode.fs();
    let flags = file.flags() & !UNION_ONLY_FLAGS;
    fs.creds.with(|| {
        real.permission(MAY_OPEN | access_mode(flags))?;
        // The union records accesses (see `accessed`), the real file none;
        // the caller's own O_NOATIME holds only where the mounter's would.
        let flags = (flags & !O_NOATIME) | real.noatime_flag();
        RealFile::open_backing(file, flags, real, &fs.creds)
    })
}

/// A file opened before its object was copied up holds the lower file:
/// its I/O must reach the upper copy instead, which another file may have
/// written. The upper file is opened for the one call, with the union
/// file's current flags, as at open (overlayfs's `ovl_real_fdget_meta`
/// does the same); `None` when `opened`, the real file's inode, is still
/// the top one.
pub(crate) fn reopen_if_copied_up(
    inode: &RsInode,
    file: &File,
    opened: &Inode,
) -> Result<Option<RealFile>> {
    if inode.is_top_real(opened) {
        return Ok(None);
    }
    open_real(inode, file, &top_path(inode)?).map(Some)
}

/// After a read or mmap of `file`: the union's atime options decide
/// whether the access is recorded, on the union inode, whose
/// `update_time` passes it to the upper copy (overlayfs's
/// `ovl_file_accessed`). The real file, opened `O_NOATIME`, records
/// nothing itself; the upper layer's private mount has no atime options
/// of its own, so it would record every access. Lower layers record no
/// accesses.
#[inline(always)]
pub(crate) fn accessed(inode: &RsInode, file: &File) {
    if let Some(upper) = inode.upper_inode() {
        accessed_upper(inode, file, upper);
    }
}

/// `accessed`, where the caller found `upper`, the union inode's upper
/// copy, itself: any other inode would lend the union its times.
#[inline(always)]
pub(crate) fn accessed_upper(inode: &RsInode, file: &File, upper: &Inode) {
    if file.flags() & O_NOATIME == 0 {
        inode.take_upper_cmtime(upper);
        file.touch_atime();
    }
}

/// `MAY_READ`/`MAY_WRITE`/`MAY_APPEND` for open flags (the kernel's
/// ACC_MODE).
fn access_mode(flags: u32) -> i32 {
    let mut mask = match flags & O_ACCMODE {
        O_RDONLY => MAY_READ,
        O_WRONLY => MAY_WRITE,
        _ => MAY_READ | MAY_WRITE,
    };
    if flags & O_APPEND != 0 {
        mask |= MAY_APPEND;
    }
    mask
}

/// A write to a union file (`write_iter`, `splice_write`), made by
/// `write` on the real file. Writes to one union inode are serialised by
/// its lock, as the real filesystem serialises them on the real inode, and
/// the union inode takes the real one's size and times first (the VFS
/// checks limits against them); the write's `end_write` takes them again.
pub(crate) fn write<R>(inode: &RsInode, write: impl FnOnce() -> R) -> R {
    let _lock = inode.inode().lock();
    inode.sync_written_from_real();
    write()
}

/// After a write, the union inode takes what it changed on the real one:
/// see `sync_written_from_real`, as an asynchronous write ends here, on a
/// workqueue, outside the union inode's lock.
pub(crate) fn end_write(inode: &RsInode) {
    inode.sync_written_from_real();
}

/// fallocate(2) on a union file, made by `allocate` on the real file as
/// the mounter, under the union inode's lock. The mounter would keep a
/// setuid bit the caller must lose: it is dropped as the caller first.
pub(crate) fn fallocate(inode: &RsInode, file: &File, allocate: impl FnOnce() -> Result) -> Result {
    let lock = inode.inode().lock();
    inode.sync_written_from_real();
    let result = file
        .remove_privs(&lock)
        .and_then(|()| inode.fs().creds.with(allocate));
    inode.sync_written_from_real();
    result
}

/// lseek(2) on a union file, made by `seek` on the real file, which alone
/// knows SEEK_DATA/SEEK_HOLE and its own size limits: as the mounter,
/// under the union inode's lock. The union file's position stays the
/// master copy: `seek` carries it to the real file and back.
pub(crate) fn llseek<R>(inode: &RsInode, seek: impl FnOnce() -> R) -> R {
    inode.fs().creds.with(|| {
        let _lock = inode.inode().lock();
        seek()
    })
}

/// close(2) reaches the real file's `flush` (NFS writes back there), made
/// by `flush` as the mounter.
pub(crate) fn flush<R>(inode: &RsInode, flush: impl FnOnce() -> R) -> R {
    inode.fs().creds.with(flush)
}

/// Lower layers are never written, so there is nothing of theirs to sync
/// (and overlayfs does not try: a read-only lower could answer EROFS).
fn on_upper(inode: &RsInode) -> bool {
    inode.upper().is_some()
}

pub(crate) fn fsync(
    inode: &RsInode,
    real: &RealFile,
    start: i64,
    end: i64,
    datasync: bool,
) -> Result {
    if !on_upper(inode) {
        return Ok(());
    }
    inode.fs().creds.with(|| real.fsync(start, end, datasync))
}

pub(crate) fn fsync_dir(inode: &RsInode, start: i64, end: i64, datasync: bool) -> Result {
    if !on_upper(inode) {
        return Ok(());
    }
    let fs = inode.fs();
    let real = top_path(inode)?;
    fs.creds
        .with(|| RealFile::open_dir(&real, &fs.creds)?.fsync(start, end, datasync))
}
