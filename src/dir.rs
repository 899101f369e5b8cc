// SPDX-License-Identifier: GPL-2.0

//! Namespace operations (fs/overlayfs/dir.c's concern): they change the
//! upper layer only, copying parents up first, and leave a whiteout where
//! a name must disappear from the lower layers.

use crate::copy_up::{copy_up, remove_temp, temp_name};
use crate::entry::{RealDentry, RsInode, UnionFs, WhiteoutFormat};
use crate::namei::{is_wh_name, union_inode, wh_name, WH_OPAQUE};
use crate::vfs::{
    bindings, errno, Cred, Dentry, DirOps, LockedDir, MntWrite, PrivateMount, RenameLock,
};
use kernel::{c_str, prelude::*, str::CStr, types::ARef};

/// What a namespace operation creates.
pub(crate) enum NewObject<'a> {
    File(u32),
    Dir(u32),
    Node(u32, bindings::dev_t),
    Symlink(&'a CStr),
    /// A hard link to this union object.
    Link(&'a Dentry),
}

/// The union directory's upper directory, copied up if need be.
fn upper_dir(parent: &Dentry) -> Result<(&RsInode, &Dentry)> {
    copy_up(parent)?;
    let dir = parent.union_inode().ok_or(ENOENT)?;
    Ok((dir, dir.upper().ok_or(EIO)?))
}

/// Creates `what` at negative union dentry `dentry` and instantiates it.
pub(crate) fn create(dentry: &Dentry, what: NewObject<'_>) -> Result {
    // A `.wh.` name would be read as a whiteout or marker, not content.
    if is_wh_name(dentry.name()) {
        return Err(EPERM);
    }
    let parent = dentry.parent();
    if let NewObject::Link(old) = what {
        copy_up(old)?;
    }
    let (dir, upper_parent) = upper_dir(&parent)?;
    let fs = dir.fs();
    let layer = fs.upper().ok_or(EROFS)?;
    // The mounter makes the object, on the caller's behalf.
    let creds = fs.creds.for_owner(Cred::current_fs_owner())?;
    let _creds = creds.override_creds();
    let _write = MntWrite::get(&layer.mnt)?;
    let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
    let target = locked.lookup(dentry.name())?;
    let placed = if target.is_whiteout() {
        drop(locked);
        replace_whiteout(fs, upper_parent, dentry.name(), &what)?
    } else if target.is_negative() {
        create_beside_wh(fs, &locked, &target, dentry.name(), &what)?
    } else {
        return Err(EEXIST);
    };
    dir.copy_attr();
    let mut found = KVec::new();
    found.push(
        RealDentry {
            layer: 0,
            dentry: placed,
        },
        GFP_KERNEL,
    )?;
    // For a link, this is the old name's union inode (hashed on the same
    // real inode), with one more link now.
    let inode = union_inode(dir.inode().super_block(), fs, found)?;
    dentry.instantiate(inode);
    if let Some(inode) = dentry.union_inode() {
        inode.copy_attr();
    }
    Ok(())
}

/// Makes `what` at negative `d` in a locked directory and returns it,
/// looked up again (a filesystem may leave `d` itself unhashed).
fn make_object(dir: &DirOps<'_>, d: &Dentry, what: &NewObject<'_>) -> Result<ARef<Dentry>> {
    match *what {
        NewObject::File(mode) => dir.create(d, mode)?,
        NewObject::Dir(mode) => dir.mkdir(d, mode)?,
        NewObject::Node(mode, dev) => dir.mknod(d, mode, dev)?,
        NewObject::Symlink(link) => dir.symlink(d, link)?,
        NewObject::Link(old) => {
            let old_upper = old.union_inode().and_then(|i| i.upper()).ok_or(EIO)?;
            dir.link(old_upper, d)?;
        }
    }
    dir.lookup(d.name())
}

/// Creates at a free name; an aufs whiteout `.wh.NAME` beside it goes only
/// once the object exists (a crash in between leaves the object, made
/// opaque by the `.wh.` beside it if a directory), and a directory made
/// there is opaque.
fn create_beside_wh(
    fs: &UnionFs,
    dir: &LockedDir<'_>,
    target: &Dentry,
    name: &[u8],
    what: &NewObject<'_>,
) -> Result<ARef<Dentry>> {
    let placed = make_object(dir, target, what)?;
    let wh = dir.lookup(&wh_name(name)?)?;
    if !wh.is_negative() {
        if placed.is_dir() {
            make_opaque(fs, &placed, &fs.upper().ok_or(EROFS)?.mnt)?;
        }
        dir.unlink(&wh)?;
    }
    Ok(placed)
}

/// Replaces the char-device whiteout at `name` atomically: the object is
/// made in the work directory (opaque, if a directory), exchanged with the
/// whiteout, and the whiteout, now in the work directory, removed. At no
/// moment does the name show what the whiteout hides.
fn replace_whiteout(
    fs: &UnionFs,
    upper_parent: &Dentry,
    name: &[u8],
    what: &NewObject<'_>,
) -> Result<ARef<Dentry>> {
    let layer = fs.upper().ok_or(EROFS)?;
    let work = fs.work.as_ref().ok_or(EROFS)?;
    let (temp_name, temp) = make_in_work(fs, |dir, temp| make_object(dir, temp, what))?;
    let exchanged = (|| {
        if temp.is_dir() {
            make_opaque(fs, &temp, &layer.mnt)?;
        }
        let lock = RenameLock::lock(work.dentry(), upper_parent, &layer.mnt)?;
        let whiteout = lock.new_dir().lookup(name)?;
        if !whiteout.is_whiteout() {
            return Err(errno::estale());
        }
        lock.rename(&temp, &whiteout, RENAME_EXCHANGE)?;
        let old_whiteout = lock.old_dir().lookup(temp_name.as_bytes())?;
        lock.old_dir().unlink(&old_whiteout)?;
        lock.new_dir().lookup(name)
    })();
    if exchanged.is_err() {
        remove_temp(fs, &temp);
    }
    exchanged
}

/// Removes a whiteout for `name` in a locked upper directory, of either
/// format; says whether there was one.
fn remove_whiteout(dir: &DirOps<'_>, target: &Dentry, name: &[u8]) -> Result<bool> {
    if target.is_whiteout() {
        dir.unlink(target)?;
        return Ok(true);
    }
    let wh = dir.lookup(&wh_name(name)?)?;
    if wh.is_negative() {
        return Ok(false);
    }
    dir.unlink(&wh)?;
    Ok(true)
}

/// Marks a new upper directory opaque, in the union's whiteout format.
fn make_opaque(fs: &UnionFs, dir: &Dentry, mnt: &PrivateMount) -> Result {
    match fs.whiteout {
        WhiteoutFormat::Overlay => dir.setxattr(mnt, c_str!("trusted.overlay.opaque"), b"y"),
        WhiteoutFormat::Aufs => {
            // The new directory's parent may be locked by the caller.
            let locked = LockedDir::lock_child(dir, mnt)?;
            let marker = locked.lookup(WH_OPAQUE)?;
            locked.create(&marker, bindings::S_IFREG | 0o444)
        }
    }
}

/// Writes a whiteout for `name` in the locked upper directory.
fn write_whiteout(fs: &UnionFs, dir: &DirOps<'_>, name: &[u8]) -> Result {
    match fs.whiteout {
        WhiteoutFormat::Overlay => {
            let d = dir.lookup(name)?;
            dir.whiteout(&d)
        }
        WhiteoutFormat::Aufs => {
            let d = dir.lookup(&wh_name(name)?)?;
            // As aufs and OCI layers write them: an empty regular file.
            dir.create(&d, bindings::S_IFREG | 0o644)
        }
    }
}

/// Removes the object at union dentry `dentry` (`rmdir` when `is_dir`):
/// its upper copy goes, and a whiteout stays where lower layers have it.
/// Where both happen the name never shows the lower object meanwhile.
pub(crate) fn remove(dentry: &Dentry, is_dir: bool) -> Result {
    let parent = dentry.parent();
    let victim = dentry.union_inode().ok_or(ENOENT)?;
    if is_dir {
        crate::readdir::check_empty(victim)?;
    }
    let (dir, upper_parent) = upper_dir(&parent)?;
    let fs = dir.fs();
    let layer = fs.upper().ok_or(EROFS)?;
    let needs_whiteout = lower_positive(dir, dentry.name())?;
    let _creds = fs.creds.override_creds();
    let _write = MntWrite::get(&layer.mnt)?;
    match victim.upper() {
        Some(upper) => {
            if is_dir {
                crate::readdir::clear_whiteouts(victim, upper, &layer.mnt)?;
            }
            if needs_whiteout && fs.whiteout == WhiteoutFormat::Overlay {
                swap_for_whiteout(fs, upper_parent, dentry.name(), upper)?;
            } else {
                let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
                // An aufs whiteout first: a crash before the object goes
                // leaves it shown, never the lower one.
                if needs_whiteout {
                    write_whiteout(fs, &locked, dentry.name())?;
                }
                remove_upper(&locked, dentry.name(), upper)?;
            }
        }
        None if needs_whiteout => {
            let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
            write_whiteout(fs, &locked, dentry.name())?;
        }
        None => (),
    }
    dir.copy_attr();
    if is_dir {
        victim.inode().clear_nlink();
    } else {
        victim.inode().drop_nlink();
    }
    Ok(())
}

/// Removes `upper`, the object at `name` in a locked upper directory.
fn remove_upper(dir: &DirOps<'_>, name: &[u8], upper: &Dentry) -> Result {
    let target = dir.lookup(name)?;
    if target.as_ptr() != upper.as_ptr() {
        return Err(errno::estale());
    }
    if target.is_dir() {
        dir.rmdir(&target)
    } else {
        dir.unlink(&target)
    }
}

/// Makes an object under a fresh temporary name in the work directory
/// with `make`; returns the name and the object.
fn make_in_work(
    fs: &UnionFs,
    make: impl FnOnce(&DirOps<'_>, &Dentry) -> Result<ARef<Dentry>>,
) -> Result<(kernel::str::CString, ARef<Dentry>)> {
    let layer = fs.upper().ok_or(EROFS)?;
    let work = fs.work.as_ref().ok_or(EROFS)?;
    let name = temp_name()?;
    let dir = LockedDir::lock(work.dentry(), &layer.mnt)?;
    let temp = dir.lookup(name.as_bytes())?;
    let made = make(&dir, &temp)?;
    Ok((name, made))
}

/// Puts a char-device whiteout in place of `upper` at `name` atomically:
/// the whiteout is made in the work directory, exchanged with the object,
/// and the object, now in the work directory, removed.
fn swap_for_whiteout(fs: &UnionFs, upper_parent: &Dentry, name: &[u8], upper: &Dentry) -> Result {
    let layer = fs.upper().ok_or(EROFS)?;
    let work = fs.work.as_ref().ok_or(EROFS)?;
    let (temp_name, temp) = make_in_work(fs, |dir, temp| {
        dir.whiteout(temp)?;
        dir.lookup(temp.name())
    })?;
    let lock = RenameLock::lock(work.dentry(), upper_parent, &layer.mnt)?;
    let exchanged = lock.new_dir().lookup(name).and_then(|target| {
        if target.as_ptr() != upper.as_ptr() {
            return Err(errno::estale());
        }
        lock.rename(&temp, &target, RENAME_EXCHANGE)
    });
    if exchanged.is_err() {
        drop(lock);
        remove_temp(fs, &temp);
        return exchanged;
    }
    remove_upper(lock.old_dir(), temp_name.as_bytes(), upper)
}

/// `renameat2` flags, as the VFS passes them (uapi/linux/fs.h; the AT_
/// names share the values).
const RENAME_NOREPLACE: u32 = bindings::AT_RENAME_NOREPLACE;
const RENAME_EXCHANGE: u32 = bindings::AT_RENAME_EXCHANGE;
const RENAME_WHITEOUT: u32 = bindings::AT_RENAME_WHITEOUT;

/// Renames within the union, in the upper layer. A directory with lower
/// content cannot move there as such: EXDEV, as overlayfs answers with
/// redirect_dir off, and `mv` copies instead. A lower non-directory is
/// copied up first, and a whiteout stays at its old name.
pub(crate) fn rename(old: &Dentry, new: &Dentry, flags: u32) -> Result {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
        return Err(EINVAL);
    }
    // A `.wh.` name would be read as a whiteout or marker, not content.
    if is_wh_name(new.name()) {
        return Err(EPERM);
    }
    let exchange = flags & RENAME_EXCHANGE != 0;
    let source = old.union_inode().ok_or(ENOENT)?;
    let target = new.union_inode();
    if has_lower_dir(source) || (exchange && target.is_some_and(has_lower_dir)) {
        return Err(EXDEV);
    }
    // Replacing a directory that has lower content would need it emptied
    // of whiteouts first: refused the same way for now.
    if target.is_some_and(|t| t.inode().is_dir() && !t.lowers().is_empty()) {
        return Err(EXDEV);
    }
    copy_up(old)?;
    if exchange {
        copy_up(new)?;
    }
    let (old_parent, new_parent) = (old.parent(), new.parent());
    let (old_dir, old_upper_dir) = upper_dir(&old_parent)?;
    let (new_dir, new_upper_dir) = upper_dir(&new_parent)?;
    let fs = old_dir.fs();
    let layer = fs.upper().ok_or(EROFS)?;
    let old_lower = lower_positive(old_dir, old.name())?;
    let new_lower = lower_positive(new_dir, new.name())?;
    let _creds = fs.creds.override_creds();
    let _write = MntWrite::get(&layer.mnt)?;
    let lock = RenameLock::lock(old_upper_dir, new_upper_dir, &layer.mnt)?;
    let upper_old = lock.old_dir().lookup(old.name())?;
    if Some(upper_old.as_ptr()) != source.upper().map(|u| u.as_ptr()) {
        return Err(errno::estale());
    }
    let mut upper_new = lock.new_dir().lookup(new.name())?;
    if !exchange && remove_whiteout(lock.new_dir(), &upper_new, new.name())? {
        // The new name was whited out: what comes now takes its place.
        upper_new = lock.new_dir().lookup(new.name())?;
    }
    lock.rename(
        &upper_old,
        &upper_new,
        flags & (RENAME_EXCHANGE | RENAME_NOREPLACE),
    )?;
    // A directory arriving where lower layers have the name must not
    // merge with them.
    if new_lower && source.inode().is_dir() {
        make_opaque(fs, &upper_old, &layer.mnt)?;
    }
    if exchange && old_lower && target.is_some_and(|t| t.inode().is_dir()) {
        make_opaque(fs, &upper_new, &layer.mnt)?;
    }
    if !exchange && (old_lower || flags & RENAME_WHITEOUT != 0) {
        write_whiteout(fs, lock.old_dir(), old.name())?;
    }
    drop(lock);
    old_dir.copy_attr();
    new_dir.copy_attr();
    Ok(())
}

fn has_lower_dir(inode: &RsInode) -> bool {
    inode.inode().is_dir() && !inode.lowers().is_empty()
}

/// Does a lower layer of union directory `dir` show `name`? Then removing
/// or moving it away needs a whiteout.
fn lower_positive(dir: &RsInode, name: &[u8]) -> Result<bool> {
    let fs = dir.fs();
    let _creds = fs.creds.override_creds();
    for parent in dir.lowers() {
        let layer = fs.layers.get(parent.layer).ok_or(EIO)?;
        let d = parent.dentry.lookup_unlocked(layer.mnt.idmap(), name)?;
        if d.is_whiteout() {
            return Ok(false);
        }
        if !d.is_negative() {
            return Ok(true);
        }
        let wh = parent
            .dentry
            .lookup_unlocked(layer.mnt.idmap(), &wh_name(name)?)?;
        if !wh.is_negative() {
            return Ok(false);
        }
    }
    Ok(false)
}
