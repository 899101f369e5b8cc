// SPDX-License-Identifier: GPL-2.0

//! Copy-up (fs/overlayfs/copy_up.c's concern): before the first change to
//! an object that lives only in lower layers, copy it (data, mode, owner,
//! times, xattrs) into the upper layer, parents first.
//!
//! The copy is built in the work directory and put in place whole, so a
//! failure half-way leaves the lower object visible and nothing partial in
//! the upper layer: a regular file in an unnamed file (`O_TMPFILE`) that
//! is linked in, as overlayfs does, anything else (or where the upper
//! filesystem makes no unnamed files) under a temporary name that is
//! renamed. Copy-ups of one object serialise on its mutex: the second
//! copier finds it done.

use crate::entry::{RsInode, UnionFs, Upper, WhiteoutFormat};
use crate::util::{is_private, real_path, warn_once, wh_name, ORIGIN_INO_XATTR};
use crate::vfs::consts::{
    O_LARGEFILE, O_RDONLY, O_WRONLY, SEEK_DATA, SEEK_HOLE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
};
use crate::vfs::CopyUp;
use crate::vfs::{
    Dentry, DirOps, FileAttr, LockedDir, MntWrite, Path, PrivateMount, RealFile, RenameLock, Times,
    XattrList,
};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::{fmt, prelude::*, str::CString, types::ARef};

/// The names of copy-up temporaries: `.wh..wh.` names are hidden from the
/// union even where the work directory is the upper root (aufs syntax).
pub(crate) const TEMP_PREFIX: &[u8] = b".wh..wh.rsunion.";

/// Data moves in chunks, so that a huge copy-up can be interrupted.
const CHUNK: usize = 1 << 20;

/// What a copy-up of a regular file carries over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Data {
    /// The whole content.
    Copy,
    /// None: the caller is about to truncate it (open with O_TRUNC).
    Drop,
}

/// Gives the object at union dentry `dentry` an upper copy, copying up its
/// ancestors first.
pub(crate) fn copy_up(dentry: &Dentry) -> Result {
    copy_up_with(dentry, Data::Copy)
}

/// As [`copy_up`]; `data` says what becomes of a regular file's content.
pub(crate) fn copy_up_with(dentry: &Dentry, data: Data) -> Result {
    copy_up_checked(dentry, data, &mut |_| Ok(()))
}

/// As [`copy_up_with`]; `check` runs on the finished copy before it is
/// put in place, and a failure there leaves the union as it was (an open
/// with `O_TRUNC` opens the empty copy first: if that fails, the lower
/// file still shows, whole).
pub(crate) fn copy_up_checked(
    dentry: &Dentry,
    data: Data,
    check: &mut dyn FnMut(&Path) -> Result,
) -> Result {
    // Copied up already, most often: known without the copy-up lock or a
    // reference to the parent, as overlayfs's `ovl_already_copied_up`.
    if has_upper(dentry) {
        return Ok(());
    }
    // Without an upper layer not even the root has an upper copy: the
    // climb below would never stop.
    if dentry.union_inode().ok_or(ENOENT)?.fs().upper().is_none() {
        return Err(EROFS);
    }
    loop {
        // The topmost ancestor still lacking an upper copy goes first.
        let mut next: ARef<Dentry> = dentry.into();
        let mut parent = next.parent();
        while !has_upper(&parent) {
            if core::ptr::eq(&*parent, &*next) {
                return Err(EIO);
            }
            next = parent;
            parent = next.parent();
        }
        let last = core::ptr::eq(&*next, dentry);
        if last {
            return copy_up_one(&next, &parent, data, check);
        }
        copy_up_one(&next, &parent, Data::Copy, &mut |_| Ok(()))?;
    }
}

fn has_upper(d: &Dentry) -> bool {
    d.union_inode().is_some_and(|i| i.upper().is_some())
}

/// Copies up `d`, whose union parent `parent` has an upper directory.
fn copy_up_one(
    d: &Dentry,
    parent: &Dentry,
    data: Data,
    check: &mut dyn FnMut(&Path) -> Result,
) -> Result {
    let rs = d.union_inode().ok_or(ENOENT)?;
    let fs = rs.fs();
    let serial = rs.lock_copy_up();
    if rs.upper().is_some() {
        return Ok(());
    }
    let upper = fs.writable()?;
    let upper_parent = parent.union_inode().and_then(|p| p.upper()).ok_or(EIO)?;
    let lower = rs.top().ok_or(EIO)?;
    fs.creds.with(|| {
        if rs.inode().is_regular()
            && copy_up_unnamed(fs, rs, &serial, d.name(), upper_parent, data, check)?
        {
            if let Some(p) = parent.union_inode() {
                p.sync_from_real();
            }
            return Ok(());
        }
        let temp = {
            let _write = MntWrite::get(&upper.mnt)?;
            make_temp(fs, rs, lower.dentry)?
        };
        // The data moves without write access to the upper mount held: the
        // copy takes its own, and holding both would nest sb_writers (which a
        // freeze in between turns into a deadlock), as overlayfs knows too.
        let result = copy_temp_data(fs, rs, &temp, data)
            .and_then(|()| {
                let _write = MntWrite::get(&upper.mnt)?;
                finish_temp(fs, rs, lower.dentry, &temp, data)
            })
            .and_then(|()| check(&Path::new(&upper.mnt, &temp)))
            .and_then(|()| {
                let _write = MntWrite::get(&upper.mnt)?;
                place_temp(fs, &serial, d.name(), &temp, upper_parent)
            });
        if result.is_err() {
            if let Ok(_write) = MntWrite::get(&upper.mnt) {
                remove_temp(fs, &temp);
            }
        }
        result?;
        // An upper directory a copy-up made is empty: in a union that
        // writes no `.wh.` entries, it will never hold one.
        if rs.inode().is_dir() && fs.whiteout == WhiteoutFormat::Overlay {
            rs.set_upper_has_no_wh();
        }
        if let Some(p) = parent.union_inode() {
            p.sync_from_real();
        }
        Ok(())
    })
}

/// Copies up regular file `rs` as overlayfs does where the upper
/// filesystem can: into an unnamed file (`O_TMPFILE`) in the work
/// directory, linked in at `name` in `upper_parent` once complete. No
/// temporary name means no rename (on tmpfs, moving an entry between
/// directories costs as much as the rest of a small copy-up) and nothing
/// for a crash to leave behind. `false`: the upper filesystem makes no
/// unnamed files, and nothing was done.
fn copy_up_unnamed(
    fs: &UnionFs,
    rs: &RsInode,
    serial: &CopyUp<'_>,
    name: &[u8],
    upper_parent: &Dentry,
    data: Data,
    check: &mut dyn FnMut(&Path) -> Result,
) -> Result<bool> {
    let Upper { layer: upper, work } = fs.upper_work()?;
    let lower = rs.top().ok_or(EIO)?.dentry;
    let copy = {
        let _write = MntWrite::get(&upper.mnt)?;
        // Owner-only until the attributes are copied, as a named temporary.
        // On the union's private clone of the upper mount, as every other
        // work directory operation: not the mounter's `workdir=` mount,
        // whose remount or fanotify marks are not the union's business.
        let work = Path::new(&upper.mnt, work.dentry());
        match RealFile::tmpfile(&work, S_IFREG | 0o600, false, &fs.creds) {
            Err(e) if e == crate::vfs::errno::eopnotsupp() => return Ok(false),
            made => made?,
        }
    };
    let temp = copy.dentry();
    if data == Data::Copy {
        copy_lower_data(fs, rs, &copy)?;
    }
    {
        let _write = MntWrite::get(&upper.mnt)?;
        finish_temp(fs, rs, lower, temp, data)?;
    }
    check(&Path::new(&upper.mnt, temp))?;
    let _write = MntWrite::get(&upper.mnt)?;
    link_copy(fs, serial, name, temp, upper_parent)?;
    Ok(true)
}

/// Links the finished unnamed copy `temp` in at `name` and makes it the
/// inode's upper object; the directory's times are put back.
fn link_copy(
    fs: &UnionFs,
    serial: &CopyUp<'_>,
    name: &[u8],
    temp: &Dentry,
    upper_parent: &Dentry,
) -> Result {
    let upper = fs.writable()?;
    let parent_times = upper_parent.times()?;
    {
        let dir = LockedDir::lock(upper_parent, &upper.mnt)?;
        let target = dir.lookup(name)?;
        if !target.is_negative() || aufs_whiteout_appeared(fs, &dir, name)? {
            return Err(EEXIST);
        }
        dir.link(temp, &target)?;
        // A filesystem may leave the new entry itself unhashed.
        let linked = if target.is_negative() {
            dir.lookup(name)?
        } else {
            target
        };
        serial.prepare_upper(linked.inode().ok_or(EIO)?)?;
        serial.set_upper(linked)?;
    }
    restore_times(&upper.mnt, upper_parent, &parent_times, None);
    Ok(())
}

/// Has a `.wh.NAME` whiteout been made in locked upper directory `dir`
/// since the lookup that found NAME? Only a union that writes them can
/// have made one.
fn aufs_whiteout_appeared(fs: &UnionFs, dir: &DirOps<'_>, name: &[u8]) -> Result<bool> {
    if fs.whiteout != WhiteoutFormat::Aufs {
        return Ok(false);
    }
    match wh_name(name)? {
        Some(wh) => Ok(!dir.lookup(&wh)?.is_negative()),
        None => Ok(false),
    }
}

/// Renames the finished copy into place and makes it the inode's upper
/// object. Placing it touches the directories' times: they are put back,
/// as overlayfs does, so a copy-up changes nothing a reader can see.
fn place_temp(
    fs: &UnionFs,
    serial: &CopyUp<'_>,
    name: &[u8],
    temp: &Dentry,
    upper_parent: &Dentry,
) -> Result {
    let Upper { layer: upper, work } = fs.upper_work()?;
    let parent_times = upper_parent.times()?;
    // A work directory outside the upper layer (overlayfs's syntax) shows
    // in no union: its times are nobody's business.
    let work_shows = core::ptr::eq(work.dentry(), upper.mnt.root())
        && !core::ptr::eq(work.dentry(), upper_parent);
    let work_times = if work_shows {
        Some(work.dentry().times()?)
    } else {
        None
    };
    {
        let lock = RenameLock::lock(work.dentry(), upper_parent, &upper.mnt)?;
        // The name was removed meanwhile (a whiteout of either format
        // took its place): never bring the object back.
        let target = lock.new_dir().lookup(name)?;
        if !target.is_negative() {
            return Err(EEXIST);
        }
        if aufs_whiteout_appeared(fs, lock.new_dir(), name)? {
            return Err(EEXIST);
        }
        lock.rename(temp, &target, 0)?;
        // Only a placed copy moves the inode's hash: a failed rename leaves
        // the inode where lookups of the lower object find it. Nothing can
        // look the new upper inode up meanwhile: its one name is this
        // union dentry's, which the dcache holds.
        // The rename moved `temp` to the name (`d_move`): it is the copy.
        serial.prepare_upper(temp.inode().ok_or(EIO)?)?;
        serial.set_upper(temp.into())?;
    }
    let work_times = work_times.as_ref().map(|times| (work.dentry(), times));
    restore_times(&upper.mnt, upper_parent, &parent_times, work_times);
    Ok(())
}

/// Puts back the times of the directories placing a copy touched: the
/// copy's parent, and the work directory where it shows. The copy is in
/// place and in use: a directory that refuses to take its times back (a
/// failing filesystem, say) must not undo it.
fn restore_times(
    mnt: &PrivateMount,
    parent: &Dentry,
    parent_times: &Times,
    work: Option<(&Dentry, &Times)>,
) {
    let restored = parent
        .set_times(mnt, parent_times)
        .and_then(|()| match work {
            Some((dir, times)) => dir.set_times(mnt, times),
            None => Ok(()),
        });
    if let Err(e) = restored {
        pr_warn!(
            "copy-up could not restore a directory's times: error {}\n",
            e.to_errno()
        );
    }
}

/// A free temporary name in the locked work directory `dir`, and its
/// negative dentry. The counter restarts with the module, and what a crash
/// left behind may not all be removable: names in use are skipped.
pub(crate) fn free_temp(dir: &DirOps<'_>) -> Result<(CString, ARef<Dentry>)> {
    for _ in 0..TEMP_NAME_TRIES {
        let name = temp_name()?;
        let temp = dir.lookup(name.as_bytes())?;
        if temp.is_negative() {
            return Ok((name, temp));
        }
    }
    pr_warn!("no free temporary name in the work directory\n");
    Err(EEXIST)
}

/// How many taken temporary names `free_temp` skips before it gives up.
const TEMP_NAME_TRIES: usize = 1024;

/// A fresh name for a temporary object in the work directory.
fn temp_name() -> Result<CString> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let prefix = core::str::from_utf8(TEMP_PREFIX).map_err(|_| EINVAL)?;
    CString::try_from_fmt(fmt!(
        "{}{:x}",
        prefix,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Makes an object under a fresh temporary name in the work directory
/// with `make`, the directory locked; returns the name and what `make`
/// returns.
pub(crate) fn make_in_work(
    fs: &UnionFs,
    make: impl FnOnce(&DirOps<'_>, &Dentry) -> Result<ARef<Dentry>>,
) -> Result<(CString, ARef<Dentry>)> {
    let Upper { layer, work } = fs.upper_work()?;
    let dir = LockedDir::lock(work.dentry(), &layer.mnt)?;
    let (name, temp) = free_temp(&dir)?;
    let made = make(&dir, &temp)?;
    Ok((name, made))
}

/// The temporary object a copy-up of `rs` starts from, of its type.
fn make_temp(fs: &UnionFs, rs: &RsInode, lower: &Dentry) -> Result<ARef<Dentry>> {
    let mode = u32::from(rs.inode().mode());
    let (_, temp) = make_in_work(fs, |dir, temp| {
        // Owner-only until the attributes are copied: nobody may use a
        // half-made copy.
        match mode & S_IFMT {
            S_IFREG => dir.create(temp, S_IFREG | 0o600)?,
            S_IFDIR => dir.mkdir(temp, 0o700)?,
            S_IFLNK => dir.symlink(temp, &lower.link_target()?)?,
            _ => dir.mknod(temp, mode, rs.inode().rdev())?,
        }
        Ok(temp.into())
    })?;
    Ok(temp)
}

/// Copies a regular file's data into the temporary object.
fn copy_temp_data(fs: &UnionFs, rs: &RsInode, temp: &Dentry, data: Data) -> Result {
    if !rs.inode().is_regular() || data == Data::Drop {
        return Ok(());
    }
    let upper = fs.writable()?;
    let temp_path = crate::vfs::Path::new(&upper.mnt, temp);
    let dst = RealFile::open(&temp_path, O_LARGEFILE | O_WRONLY, &fs.creds)?;
    copy_lower_data(fs, rs, &dst)
}

/// Copies regular file `rs`'s lower data into `dst`, open for writing.
fn copy_lower_data(fs: &UnionFs, rs: &RsInode, dst: &RealFile) -> Result {
    let lower_path = real_path(rs, rs.top().ok_or(EIO)?)?;
    let src = RealFile::open(&lower_path, O_LARGEFILE | O_RDONLY, &fs.creds)?;
    let size = rs.inode().size();
    let blocks = rs.top().and_then(|t| t.dentry.inode()).ok_or(EIO)?.blocks();
    let dense = blocks.saturating_mul(512) >= size.unsigned_abs();
    copy_data(&src, dst, size, dense)
}

/// Copies xattrs and attributes into the temporary object.
fn finish_temp(fs: &UnionFs, rs: &RsInode, lower: &Dentry, temp: &Dentry, data: Data) -> Result {
    let upper = fs.writable()?;
    let lower_layer = fs.layer(rs.top().ok_or(EIO)?.layer)?;
    // Made in the work directory, the copy took its default ACL, if it has
    // one: the copy may have the lower object's ACLs only. overlayfs strips
    // its own work/work of ACLs at mount; rsunion's work directory is the
    // mounter's workdir= itself, or the upper root (aufs syntax), neither
    // the union's to change.
    temp.drop_acls(&upper.mnt)?;
    copy_xattrs(lower, &lower_layer.mnt, temp, &upper.mnt)?;
    copy_fileattr(rs, lower, &lower_layer.mnt, temp, &upper.mnt)?;
    record_origin(fs, lower, temp, &upper.mnt)?;
    temp.set_attrs_like(lower.inode().ok_or(EIO)?, &upper.mnt, data == Data::Copy)
}

/// Records on the copy of a non-directory the inode number it reports,
/// its lower object's, so that a remount finds it (see `inode.rs`). A
/// lower hard link is broken by the copy-up: its copy is a new object.
fn record_origin(fs: &UnionFs, lower: &Dentry, temp: &Dentry, mnt: &PrivateMount) -> Result {
    let origin = lower.inode().ok_or(EIO)?;
    if !fs.samefs || origin.is_dir() || origin.nlink() != 1 {
        return Ok(());
    }
    match temp.setxattr(mnt, ORIGIN_INO_XATTR, &origin.ino().to_le_bytes()) {
        // Without trusted xattrs the number holds until the next mount.
        Err(e) if e == crate::vfs::errno::eopnotsupp() => Ok(()),
        r => r,
    }
}

/// Copies `len` bytes, skipping the holes `SEEK_DATA` finds; the final
/// size is set with the attributes, which also covers a trailing hole.
/// Each data extent is found once and then copied in chunks: seeking
/// the next hole per chunk would scan a tmpfs file's page cache from the
/// chunk to the extent's end every time, quadratic in its size. A file
/// with as many blocks as bytes (`dense`) is copied whole, unsought: the
/// seeks scan its whole page cache on tmpfs. `cp` guesses the same way;
/// blocks beyond the end or for metadata can hide a hole, which the copy
/// then fills with zeros (its content the same, only less sparse).
fn copy_data(src: &RealFile, dst: &RealFile, len: i64, dense: bool) -> Result {
    if dst.clone_range(src, len)? {
        return Ok(());
    }
    // `do_splice_direct` leaves these checks (security modules') to its
    // callers, as overlayfs's copy-up makes them: once, for the whole.
    src.verify_area(false, 0, len)?;
    dst.verify_area(true, 0, len)?;
    if dense {
        return copy_extent(src, dst, 0, len);
    }
    let mut pos = 0;
    while pos < len {
        let data = match src.llseek(pos, SEEK_DATA) {
            Ok(data) => data,
            Err(e) if e == ENXIO => break,
            // No SEEK_DATA here: copy everything.
            Err(_) => pos,
        };
        let hole = match src.llseek(data, SEEK_HOLE) {
            Ok(hole) => hole.min(len),
            Err(_) => len,
        };
        if hole <= data {
            break;
        }
        copy_extent(src, dst, data, hole)?;
        pos = hole;
    }
    Ok(())
}

/// Copies the bytes from `start` to `end`, a chunk at a time so that
/// killing the task can stop a long copy; one that completed is kept.
fn copy_extent(src: &RealFile, dst: &RealFile, start: i64, end: i64) -> Result {
    let mut at = start;
    while at < end {
        if crate::vfs::fatal_signal_pending() {
            return Err(EINTR);
        }
        let chunk = (end - at).min(CHUNK as i64);
        src.copy_range_to(dst, at, chunk as usize)?;
        at += chunk;
    }
    Ok(())
}

/// Copies every xattr but the union's private ones.
fn copy_xattrs(
    lower: &Dentry,
    lower_mnt: &PrivateMount,
    temp: &Dentry,
    mnt: &PrivateMount,
) -> Result {
    let list = XattrList::read(lower)?;
    for name in list.names() {
        if is_private(name.as_bytes()) {
            continue;
        }
        if name.as_bytes().starts_with(b"system.posix_acl_") {
            lower.copy_acl(lower_mnt, temp, mnt, name)?;
            continue;
        }
        let value = match lower.getxattr_alloc(lower_mnt, name)? {
            Some(v) => v,
            None => continue,
        };
        match temp.setxattr(mnt, name, &value) {
            // A security module may refuse a label it manages itself.
            Err(e) if e == EPERM && name.as_bytes().starts_with(b"security.") => continue,
            r => r?,
        }
    }
    Ok(())
}

/// The lower object's inode flags, on its copy: the protection flags in
/// the protattr xattr (see `inode::write_protattr`), the synchronous and
/// no-atime ones on the copy itself (overlayfs's `ovl_copy_fileattr`). A
/// layer without them has none to copy; an upper layer without them or
/// without xattrs loses them, with a warning, as under overlayfs.
fn copy_fileattr(
    rs: &RsInode,
    lower: &Dentry,
    lower_mnt: &PrivateMount,
    temp: &Dentry,
    mnt: &PrivateMount,
) -> Result {
    // The union inode took the flags from the lower one: without any,
    // nothing to ask the layers. Devices would open as devices.
    let lower_inode = lower.inode().ok_or(EIO)?;
    if rs.copied_flags() == 0 || !(lower_inode.is_regular() || lower_inode.is_dir()) {
        return Ok(());
    }
    let mut old = FileAttr::flags_only();
    match lower.fileattr_get(lower_mnt, &mut old) {
        // ntfs-3g answers EINVAL for "no fileattr".
        Err(e) if e == ENOTTY || e == EINVAL => return Ok(()),
        r => r?,
    }
    if old.protection() != 0 {
        match crate::inode::write_protattr(rs, temp, mnt, &mut old) {
            Err(e) if e == EPERM => {
                static WARNED: AtomicBool = AtomicBool::new(false);
                warn_once(&WARNED, "copying fileattr: no xattr on upper");
            }
            r => r?,
        }
    }
    if !old.has_copied_flags() {
        return Ok(());
    }
    let mut new = FileAttr::flags_only();
    match temp.fileattr_get(mnt, &mut new) {
        Err(e) if e == ENOTTY || e == EINVAL => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            warn_once(&WARNED, "copying fileattr: no support on upper");
            return Ok(());
        }
        r => r?,
    }
    new.take_copied_flags(&old);
    temp.fileattr_set(mnt, &mut new)
}

/// Removes a temporary object from the work directory after a failure.
pub(crate) fn remove_temp(fs: &UnionFs, temp: &Dentry) {
    let Ok(Upper { layer: upper, work }) = fs.upper_work() else {
        return;
    };
    let Ok(dir) = LockedDir::lock(work.dentry(), &upper.mnt) else {
        return;
    };
    // Only what is still in the work directory is a temporary: a copy
    // renamed into place before a later step failed is the object itself.
    if temp.is_negative() || !core::ptr::eq(&*temp.parent(), work.dentry()) {
        return;
    }
    let removed = dir.remove(temp);
    if removed.is_err() {
        pr_warn!("could not remove a temporary copy-up object from the work directory\n");
    }
}
