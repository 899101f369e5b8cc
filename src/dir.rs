// SPDX-License-Identifier: GPL-2.0

//! Namespace operations (fs/overlayfs/dir.c's concern): they change the
//! upper layer only, copying parents up first, and leave a whiteout where
//! a name must disappear from the lower layers.

use crate::copy_up::{copy_up, make_in_work, remove_temp};
use crate::entry::{RealDentry, RsInode, UnionFs, Upper, WhiteoutFormat};
use crate::lower_names::{self, Sought};
use crate::namei::{has_wh_entry, stack_inode};
use crate::util::{is_wh_name, wh_name, WH_OPAQUE};
use crate::vfs::consts::{
    O_EXCL, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT,
    S_IFREG, WHITEOUT_DEV,
};
use crate::vfs::{
    errno, Cred, Dentry, DevT, DirOps, Inherited, LockedDir, MntWrite, Path, PrivateMount,
    RealFile, RenameLock, TmpfileOpen,
};
use kernel::{c_str, prelude::*, str::CStr, types::ARef};

/// What a namespace operation creates.
pub(crate) enum NewObject<'a> {
    File(u32),
    Dir(u32),
    Node(u32, DevT),
    Symlink(&'a CStr),
    /// A hard link to this union object.
    Link(&'a Dentry),
}

/// The union directory's upper directory, copied up if need be.
fn upper_dir(parent: &Dentry) -> Result<(&RsInode, &Dentry)> {
    copy_up(parent)?;
    let dir = parent.union_inode().ok_or(ENOENT)?;
    let upper = dir.upper().ok_or(EIO)?;
    // Every caller is about to change the directory's names: the shared
    // listing goes now, before any step that could fail half-way.
    crate::readdir::forget_listing(dir);
    Ok((dir, upper))
}

/// Creates `what` at negative union dentry `dentry` and instantiates it.
pub(crate) fn create(dentry: &Dentry, what: NewObject<'_>) -> Result {
    // A `.wh.` name would be read as a whiteout or marker, not content;
    // so would a char device 0/0 (overlayfs refuses it the same way).
    if is_wh_name(dentry.name()) || makes_whiteout(&what) {
        return Err(EPERM);
    }
    let parent = dentry.parent();
    if let NewObject::Link(old) = what {
        copy_up(old)?;
    }
    let (dir, upper_parent) = upper_dir(&parent)?;
    let fs = dir.fs();
    let layer = fs.writable()?;
    // The mounter makes the object, on the caller's behalf.
    let creds = fs.creds.for_owner(Cred::current_fs_owner())?;
    creds.with(|| {
        let _write = MntWrite::get(&layer.mnt)?;
        let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
        let target = locked.lookup(dentry.name())?;
        let placed = if target.is_whiteout() {
            drop(locked);
            replace_whiteout(fs, upper_parent, dentry.name(), &what)?
        } else if target.is_negative() {
            let placed = make_object(&locked, &target, &what)?;
            // Where the upper directory can hold none, a lookup of
            // `.wh.NAME` would only leave a negative dentry behind.
            if !dir.upper_has_no_wh() {
                remove_wh_beside(fs, &locked, &placed, dentry.name())?;
            }
            placed
        } else {
            return Err(EEXIST);
        };
        dir.sync_from_real();
        let mut found = KVec::new();
        found.push(
            RealDentry {
                layer: 0,
                dentry: placed,
            },
            GFP_KERNEL,
        )?;
        // For a link, this is the old name's union inode (hashed on the same
        // real inode), with one more link now, and maybe a recorded number.
        let made_now = !matches!(what, NewObject::Link(_));
        let inode = stack_inode(dir.union_sb(), fs, found, made_now)?;
        dentry.instantiate(inode);
        if let Some(inode) = dentry.union_inode() {
            inode.sync_from_real();
            // As a copied-up directory's (see `copy_up_one`).
            if matches!(what, NewObject::Dir(_)) && fs.whiteout == WhiteoutFormat::Overlay {
                inode.set_upper_has_no_wh();
            }
        }
        Ok(())
    })
}

/// `O_TMPFILE` in a union directory: an unnamed file in its upper
/// directory, copied up first, made by the mounter on the caller's behalf,
/// and opened as any union file (overlayfs's `ovl_tmpfile`). Linked in
/// later, it goes where `link` puts any upper object.
pub(crate) fn tmpfile(file: TmpfileOpen<'_>, mode: u32) -> Result {
    let parent = file.parent();
    let exclusive = file.flags() & O_EXCL != 0;
    let (dir, upper_parent) = upper_dir(&parent)?;
    let fs = dir.fs();
    let layer = fs.writable()?;
    let creds = fs.creds.for_owner(Cred::current_fs_owner())?;
    let real = creds.with(|| {
        let _write = MntWrite::get(&layer.mnt)?;
        RealFile::tmpfile(
            &Path::new(&layer.mnt, upper_parent),
            mode,
            exclusive,
            &creds,
        )
    })?;
    let mut found = KVec::new();
    found.push(
        RealDentry {
            layer: 0,
            dentry: real.dentry().into(),
        },
        GFP_KERNEL,
    )?;
    let inode = stack_inode(dir.union_sb(), fs, found, true)?;
    file.finish(inode)
}

fn makes_whiteout(what: &NewObject<'_>) -> bool {
    matches!(*what, NewObject::Node(mode, dev)
        if mode & S_IFMT == S_IFCHR && dev == WHITEOUT_DEV)
}

/// Makes `what` at negative `d` in a locked directory and returns it.
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
    // `d` is the object now, unless the filesystem left it unhashed (a
    // `->mkdir` may, as overlayfs's `ovl_mkdir_real` knows): then only a
    // lookup finds it.
    if d.is_hashed() && !d.is_negative() {
        return Ok(d.into());
    }
    dir.lookup(d.name())
}

/// Removes an aufs whiteout `.wh.NAME` beside `placed`, an object just
/// made at a free name: only once the object exists (a crash in between
/// leaves the object, made opaque by the `.wh.` beside it if a directory),
/// and a directory made there is opaque.
fn remove_wh_beside(fs: &UnionFs, dir: &LockedDir<'_>, placed: &Dentry, name: &[u8]) -> Result {
    let Some(wh) = wh_name(name)? else {
        return Ok(());
    };
    let wh = dir.lookup(&wh)?;
    if !wh.is_negative() {
        if placed.is_dir() {
            make_opaque(fs, placed, &fs.writable()?.mnt)?;
        }
        dir.unlink(&wh)?;
    }
    Ok(())
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
    let Upper { layer, work } = fs.upper_work()?;
    let parent = upper_parent.inode().ok_or(ENOENT)?;
    // The type bits tell posix_acl_create whether a default ACL passes on.
    let inherited = match *what {
        NewObject::File(mode) => Some(S_IFREG | mode),
        NewObject::Dir(mode) => Some(S_IFDIR | mode),
        NewObject::Node(mode, _) => Some(mode),
        NewObject::Symlink(_) => Some(S_IFLNK | 0o777),
        NewObject::Link(_) => None,
    }
    .map(|mode| Inherited::from_parent(parent, mode))
    .transpose()?;
    let what = match (what, &inherited) {
        (NewObject::File(_), Some(i)) => NewObject::File(i.mode()),
        (NewObject::Dir(_), Some(i)) => NewObject::Dir(i.mode()),
        (NewObject::Node(_, dev), Some(i)) => NewObject::Node(i.mode(), *dev),
        (NewObject::Symlink(target), _) => NewObject::Symlink(target),
        (NewObject::Link(old), _) => NewObject::Link(old),
        _ => return Err(EINVAL),
    };
    let (temp_name, temp) = make_in_work(fs, |dir, temp| make_object(dir, temp, &what))?;
    let exchanged = (|| {
        // Made in the work directory, it must come out as if made in its
        // real parent: mode, group, ACLs.
        if let Some(inherited) = &inherited {
            inherited.apply(&temp, &layer.mnt, parent)?;
        }
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

/// Removes an aufs whiteout `.wh.NAME` from a locked upper directory, if
/// there is one.
fn remove_aufs_whiteout(dir: &DirOps<'_>, name: &[u8]) -> Result {
    let Some(wh) = wh_name(name)? else {
        return Ok(());
    };
    let wh = dir.lookup(&wh)?;
    if wh.is_negative() {
        return Ok(());
    }
    dir.unlink(&wh)
}

/// Prepares the whiteout a rename leaves at `name` in a locked upper
/// directory: an overlayfs-format one is made by the rename itself
/// (`RENAME_WHITEOUT`, atomically); an aufs `.wh.NAME` is made now, beside
/// the object still there, and returned so that a failed rename can take
/// it back.
fn prepare_whiteout(
    fs: &UnionFs,
    dir: &DirOps<'_>,
    name: &[u8],
    real_flags: &mut u32,
) -> Result<Option<ARef<Dentry>>> {
    match (fs.whiteout, wh_name(name)?) {
        (WhiteoutFormat::Aufs, Some(wh)) => {
            let d = dir.lookup(&wh)?;
            if d.is_negative() {
                dir.create(&d, S_IFREG | 0o644)?;
            }
            Ok(Some(d))
        }
        _ => {
            *real_flags |= RENAME_WHITEOUT;
            Ok(None)
        }
    }
}

/// Marks a new upper directory opaque, in the union's whiteout format.
fn make_opaque(fs: &UnionFs, dir: &Dentry, mnt: &PrivateMount) -> Result {
    match fs.whiteout {
        WhiteoutFormat::Overlay => dir.setxattr(mnt, c_str!("trusted.overlay.opaque"), b"y"),
        WhiteoutFormat::Aufs => {
            // The new directory's parent may be locked by the caller.
            let locked = LockedDir::lock_child(dir, mnt)?;
            let marker = locked.lookup(WH_OPAQUE)?;
            if !marker.is_negative() {
                return Ok(());
            }
            locked.create(&marker, S_IFREG | 0o444)
        }
    }
}

/// Writes a whiteout for `name` in the locked upper directory. A name too
/// long for a `.wh.` prefix gets the overlayfs format, which rsunion reads
/// as well. The whiteout it made, if it made one.
fn write_whiteout(fs: &UnionFs, dir: &DirOps<'_>, name: &[u8]) -> Result<Option<ARef<Dentry>>> {
    let d = match (fs.whiteout, wh_name(name)?) {
        (WhiteoutFormat::Aufs, Some(wh)) => {
            let d = dir.lookup(&wh)?;
            // A layer may hold an object beside its own `.wh.` entry (the
            // object wins in its layer): the whiteout is there already.
            if !d.is_negative() {
                return Ok(None);
            }
            // As aufs and OCI layers write them: an empty regular file.
            dir.create(&d, S_IFREG | 0o644)?;
            d
        }
        _ => {
            let d = dir.lookup(name)?;
            dir.whiteout(&d)?;
            d
        }
    };
    Ok(Some(d))
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
    let layer = fs.writable()?;
    let needs_whiteout = lower_positive(dir, dentry.name())?;
    let removed = fs.creds.with(|| {
        let _write = MntWrite::get(&layer.mnt)?;
        match victim.upper() {
            Some(upper) => {
                if is_dir {
                    empty_upper(fs, victim, upper, &layer.mnt)?;
                }
                if needs_whiteout && fs.whiteout == WhiteoutFormat::Overlay {
                    swap_for_whiteout(fs, upper_parent, dentry.name(), upper)?;
                } else {
                    let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
                    // An aufs whiteout first: a crash before the object goes
                    // leaves it shown, never the lower one.
                    let written = if needs_whiteout {
                        write_whiteout(fs, &locked, dentry.name())?
                    } else {
                        None
                    };
                    let removed = remove_unmarked(fs, &locked, dentry.name(), upper, is_dir);
                    if let (Err(_), Some(wh)) = (&removed, written) {
                        if locked.unlink(&wh).is_err() {
                            pr_warn!("could not remove a whiteout after a failed removal\n");
                        }
                    }
                    removed?;
                }
            }
            None if needs_whiteout => {
                let locked = LockedDir::lock(upper_parent, &layer.mnt)?;
                write_whiteout(fs, &locked, dentry.name())?;
            }
            None => (),
        }
        dir.sync_from_real();
        if is_dir {
            victim.inode().clear_nlink();
        } else {
            victim.inode().drop_nlink();
        }
        Ok(())
    });
    forget_if_emptied(dentry, victim, &removed);
    removed
}

/// Removes `upper`, at `name` in locked upper directory `dir`, emptied
/// before if `is_dir`: of its aufs marker too, put back should the removal
/// fail.
fn remove_unmarked(
    fs: &UnionFs,
    dir: &DirOps<'_>,
    name: &[u8],
    upper: &Dentry,
    is_dir: bool,
) -> Result {
    let mnt = &fs.writable()?.mnt;
    let unmarked = is_dir && unmark(fs, upper, mnt)?;
    remove_upper(dir, name, upper).inspect_err(|_| remark(unmarked, fs, upper, mnt))
}

/// After a failed removal or replacement of union directory `dentry`:
/// its upper copy may have been made opaque and emptied (`empty_upper`),
/// while its inode still merges the lower layers, which would show again
/// what the whiteouts hid. The next lookup sees the copy as it now is
/// (overlayfs drops the dentry too); a file open on the directory keeps
/// the old view.
fn forget_if_emptied(dentry: &Dentry, dir: &RsInode, result: &Result) {
    if result.is_err() && dir.inode().is_dir() && !dir.lowers().is_empty() {
        dentry.drop_from_cache();
    }
}

/// Removes `upper`, the object at `name` in a locked upper directory (for
/// a hard link, `name`'s dentry differs from the one the inode keeps).
fn remove_upper(dir: &DirOps<'_>, name: &[u8], upper: &Dentry) -> Result {
    let target = dir.lookup(name)?;
    if !target.names_same_object(upper) {
        return Err(errno::estale());
    }
    dir.remove(&target)
}

/// Puts a char-device whiteout in place of `upper` at `name` atomically:
/// the whiteout is made in the work directory, exchanged with the object,
/// and the object, now in the work directory, removed.
fn swap_for_whiteout(fs: &UnionFs, upper_parent: &Dentry, name: &[u8], upper: &Dentry) -> Result {
    let Upper { layer, work } = fs.upper_work()?;
    let (temp_name, temp) = make_in_work(fs, |dir, temp| {
        dir.whiteout(temp)?;
        dir.lookup(temp.name())
    })?;
    let lock = RenameLock::lock(work.dentry(), upper_parent, &layer.mnt)?;
    let exchanged = lock.new_dir().lookup(name).and_then(|target| {
        if !target.names_same_object(upper) {
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

/// Renames within the union, in the upper layer. A directory with lower
/// content cannot move there as such: EXDEV, as overlayfs answers with
/// redirect_dir off, and `mv` copies instead. A lower non-directory is
/// copied up first, and a whiteout stays at its old name. A directory
/// that shows empty may be replaced wherever its content lies.
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
    // A directory the rename replaces: its upper directory, if it has one,
    // may hold whiteouts and an aufs marker even where it shows empty, and
    // they go first.
    let mut emptied = None;
    if let Some(t) = target.filter(|t| !exchange && t.inode().is_dir()) {
        if !t.lowers().is_empty() {
            crate::readdir::check_empty(t)?;
        }
        emptied = t.upper().map(|upper| (t, upper));
    }
    let emptied_upper = emptied.map(|(_, upper)| upper);
    copy_up(old)?;
    if exchange {
        copy_up(new)?;
    }
    let (old_parent, new_parent) = (old.parent(), new.parent());
    let (old_dir, old_upper_dir) = upper_dir(&old_parent)?;
    let (new_dir, new_upper_dir) = upper_dir(&new_parent)?;
    let fs = old_dir.fs();
    let layer = fs.writable()?;
    let old_lower = lower_positive(old_dir, old.name())?;
    let new_lower = lower_positive(new_dir, new.name())?;
    let renamed = fs.creds.with(|| {
        let _write = MntWrite::get(&layer.mnt)?;
        if let Some((dir, upper)) = emptied {
            empty_upper(fs, dir, upper, &layer.mnt)?;
        }
        let lock = RenameLock::lock(old_upper_dir, new_upper_dir, &layer.mnt)?;
        let upper_old = lock.old_dir().lookup(old.name())?;
        if !source
            .upper()
            .is_some_and(|u| upper_old.names_same_object(u))
        {
            return Err(errno::estale());
        }
        let upper_new = lock.new_dir().lookup(new.name())?;
        if emptied_upper.is_some_and(|u| !upper_new.names_same_object(u)) {
            return Err(errno::estale());
        }
        // Whatever can fail is done before the rename, and undone if the
        // rename fails: after it, only the removal of a stale aufs whiteout
        // is left. A directory arriving where lower layers have the name must
        // not merge with them; upper-only directories (the only ones that
        // move) show nothing more for being opaque early.
        if new_lower && source.inode().is_dir() {
            make_opaque(fs, &upper_old, &layer.mnt)?;
        }
        if exchange && old_lower && target.is_some_and(|t| t.inode().is_dir()) {
            make_opaque(fs, &upper_new, &layer.mnt)?;
        }
        let mut real_flags = flags & (RENAME_EXCHANGE | RENAME_NOREPLACE);
        let wants_whiteout = !exchange && (old_lower || flags & RENAME_WHITEOUT != 0);
        // The union's name is free (the VFS checked): a whiteout there is
        // replaced. A directory cannot replace a char device, so it is
        // exchanged with the whiteout, which then serves at the old name or
        // goes (as overlayfs does).
        let swaps_whiteout = upper_new.is_whiteout() && source.inode().is_dir();
        if upper_new.is_whiteout() {
            real_flags &= !RENAME_NOREPLACE;
        }
        let unmarked = emptied_upper.is_some() && unmark(fs, &upper_new, &layer.mnt)?;
        let undo_unmark = || remark(unmarked, fs, &upper_new, &layer.mnt);
        let mut aufs_whiteout = None;
        if swaps_whiteout {
            real_flags |= RENAME_EXCHANGE;
        } else if wants_whiteout {
            aufs_whiteout = prepare_whiteout(fs, lock.old_dir(), old.name(), &mut real_flags)
                .inspect_err(|_| undo_unmark())?;
        }
        if let Err(e) = lock.rename(&upper_old, &upper_new, real_flags) {
            undo_unmark();
            if let Some(wh) = aufs_whiteout {
                if lock.old_dir().unlink(&wh).is_err() {
                    pr_warn!("could not remove a whiteout after a failed rename\n");
                }
            }
            return Err(e);
        }
        if swaps_whiteout && !(wants_whiteout && fs.whiteout == WhiteoutFormat::Overlay) {
            // `upper_new` is the whiteout, now at the old name.
            lock.old_dir().unlink(&upper_new)?;
            if wants_whiteout {
                write_whiteout(fs, lock.old_dir(), old.name())?;
            }
        }
        if !exchange {
            remove_aufs_whiteout(lock.new_dir(), new.name())?;
        }
        drop(lock);
        old_dir.sync_from_real();
        new_dir.sync_from_real();
        Ok(())
    });
    if let Some((t, _)) = emptied {
        forget_if_emptied(new, t, &renamed);
    }
    renamed
}

/// Empties `upper`, the upper directory of union directory `dir` that
/// shows empty, before it is removed or replaced: of the whiteouts hiding
/// lower entries. Made opaque first where lower layers have it, it shows
/// empty at every step, should the change fail or never come (overlayfs
/// swaps in an empty opaque copy). In a union that writes aufs markers its
/// marker stays: see `unmark`; one an aufs-format mount left goes here.
fn empty_upper(fs: &UnionFs, dir: &RsInode, upper: &Dentry, mnt: &PrivateMount) -> Result {
    if !dir.lowers().is_empty() {
        make_opaque(fs, upper, mnt)?;
    }
    let marks = fs.whiteout == WhiteoutFormat::Aufs;
    crate::readdir::remove_entries(upper, mnt, &fs.creds, |name, d| {
        if marks && name == WH_OPAQUE {
            Ok(false)
        } else if d.is_whiteout() || is_wh_name(name) {
            Ok(true)
        } else {
            Err(errno::enotempty())
        }
    })
}

/// Removes the aufs opaque marker from emptied directory `upper` (whose
/// parent the caller holds locked) right before it is removed or a rename
/// replaces it: either wants it empty. Whether there was one. A crash in
/// between shows the lower entries again: the marker is an entry, the
/// price of the format.
fn unmark(fs: &UnionFs, upper: &Dentry, mnt: &PrivateMount) -> Result<bool> {
    if fs.whiteout != WhiteoutFormat::Aufs {
        return Ok(false);
    }
    let locked = LockedDir::lock_child(upper, mnt)?;
    let marker = locked.lookup(WH_OPAQUE)?;
    if marker.is_negative() {
        return Ok(false);
    }
    locked.unlink(&marker)?;
    Ok(true)
}

/// Puts back the marker `unmark` took, if it took one, after the change
/// it was taken for failed.
fn remark(unmarked: bool, fs: &UnionFs, upper: &Dentry, mnt: &PrivateMount) {
    if unmarked && make_opaque(fs, upper, mnt).is_err() {
        pr_warn!("could not mark a directory opaque again after a failed change\n");
    }
}

fn has_lower_dir(inode: &RsInode) -> bool {
    inode.inode().is_dir() && !inode.lowers().is_empty()
}

/// Does a lower layer of union directory `dir` show `name`? Then removing
/// or moving it away needs a whiteout.
/// Layers whose learned names hold neither `name` nor `.wh.name` are not
/// asked.
fn lower_positive(dir: &RsInode, name: &[u8]) -> Result<bool> {
    let fs = dir.fs();
    let sought = Sought::new(name);
    fs.creds.with(|| {
        let learned = lower_names::for_lookup(dir);
        for (i, parent) in dir.lowers().iter().enumerate() {
            let names = learned.and_then(|l| l.dir(i, &parent.dentry));
            if names.is_some_and(|n| !n.may_hold_any(sought)) {
                continue;
            }
            let layer = fs.layer(parent.layer)?;
            let d = parent.dentry.lookup_unlocked(layer.mnt.idmap(), name)?;
            if d.is_whiteout() {
                return Ok(false);
            }
            if !d.is_negative() {
                return Ok(true);
            }
            let may_hold_whiteout = names.is_none_or(|n| n.may_hold_whiteout(sought));
            if may_hold_whiteout && has_wh_entry(layer, &parent.dentry, name)? {
                return Ok(false);
            }
        }
        Ok(false)
    })
}
