// SPDX-License-Identifier: GPL-2.0

//! Merged readdir (fs/overlayfs/readdir.c's concern).
//!
//! A directory with one real directory behind it is read straight from
//! that one, as overlayfs reads a "real" directory: the positions are the
//! real directory's, and only whiteouts and markers are held back. Any
//! other is read once into a list of each visible name, upper layers'
//! entries first, whiteouts of both formats applied. The list is shared by
//! the directory's open files until a name in it changes (overlayfs's
//! `ovl_dir_cache`), and charged to the memory cgroup of whoever read it.
//! There `f_pos` indexes the list (after `.` and `..`), so small getdents
//! buffers and seekdir/telldir stay consistent. Seeking back to 0 starts
//! afresh in both cases. A merge also leaves the directory's lookups what
//! each lower directory holds (`lower_names`): `find` and `ls -R` read a
//! directory, then look its names up.

use crate::entry::{Real, RsInode};
use crate::lower_names::{self, NameList};
use crate::util::{is_wh_name, real_path, WH_PREFIX};
use crate::vfs::consts::{DT_CHR, DT_UNKNOWN, SEEK_CUR, SEEK_SET};
use crate::vfs::{
    errno, read_real_dir, read_real_dir_on, Dentry, DirContext, File, LockedDir, NameHashKey, Path,
    PrivateMount, RawEntry, RealFile,
};
use core::ops::Range;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ARef;

/// How one open union directory is read; `None` until its first read.
#[derive(Default)]
pub(crate) struct DirCache {
    source: Option<Source>,
}

enum Source {
    /// Straight from the one real directory behind the union one.
    Real(OneLayer),
    /// From the merged list the directory's open files share.
    Merged(Arc<Merged>),
}

/// The one real directory a union directory is read from: held entries
/// are looked up there, whatever the union directory became since.
struct OneLayer {
    file: RealFile,
    layer: usize,
    dir: ARef<Dentry>,
}

/// A merged directory's list, kept while an open file reads it.
#[derive(Default)]
pub(crate) struct SharedListing {
    merged: Option<Arc<Merged>>,
    /// Open files reading `merged`: the last to leave frees it.
    readers: usize,
}

/// Names live in one arena: one allocation for a 100k-entry directory, not
/// 100k. The vectors may outgrow what kmalloc can give (a few MiB):
/// kvmalloc falls back to vmalloc.
struct Merged {
    names: KVVec<u8>,
    entries: KVVec<Entry>,
}

struct Entry {
    name: Range<usize>,
    ino: u64,
    d_type: u32,
}

/// One name one layer shows, on the way to the merged list; candidates
/// are kept in discovery order: upper layers first, each in its own order.
struct Candidate {
    entry: Entry,
    /// Of the name shown (NAME for a `.wh.NAME` entry), keyed.
    hash: u32,
    layer: usize,
    whiteout: bool,
}

pub(crate) fn iterate(
    inode: &RsInode,
    file: &File,
    cache: &mut DirCache,
    ctx: &DirContext,
) -> Result {
    match source(inode, cache)? {
        Source::Real(one) => {
            // As overlayfs: the real directory is read as the mounter.
            inode.fs().creds.with(|| {
                let read = iterate_real(inode, file, one, ctx);
                // Whatever stopped the reading, the next getdents goes on from
                // the first entry not emitted.
                ctx.set_pos(one.file.pos());
                read
            })
        }
        Source::Merged(merged) => iterate_merged(file, merged, ctx),
    }
}

fn source<'a>(inode: &RsInode, cache: &'a mut DirCache) -> Result<&'a Source> {
    if cache.source.is_none() {
        cache.source = Some(open_source(inode)?);
    }
    cache.source.as_ref().ok_or(EIO)
}

fn open_source(inode: &RsInode) -> Result<Source> {
    let mut reals = inode.reals();
    if let (Some(real), None) = (reals.next(), reals.next()) {
        let fs = inode.fs();
        return fs.creds.with(|| {
            Ok(Source::Real(OneLayer {
                file: RealFile::open_dir(&real_path(inode, real)?, &fs.creds)?,
                layer: real.layer,
                dir: real.dentry.into(),
            }))
        });
    }
    Ok(Source::Merged(join_listing(inode)?))
}

/// The directory's shared list, merged now if there is none. The merge
/// runs unlocked (a union layer's own merges nest in it); no namespace
/// operation can change the directory meanwhile, as getdents holds its
/// lock. Of two readers merging at once, the first to finish is kept.
fn join_listing(inode: &RsInode) -> Result<Arc<Merged>> {
    if let Some(merged) = shared_listing(inode) {
        return Ok(merged);
    }
    let merged = Arc::new(merge(inode, Purpose::Listing)?, GFP_KERNEL_ACCOUNT)?;
    let mut shared = inode.lock_listing();
    if let Some(theirs) = &shared.merged {
        let theirs = theirs.clone();
        shared.readers += 1;
        return Ok(theirs);
    }
    shared.merged = Some(merged.clone());
    shared.readers = 1;
    Ok(merged)
}

fn shared_listing(inode: &RsInode) -> Option<Arc<Merged>> {
    let mut shared = inode.lock_listing();
    let merged = shared.merged.clone()?;
    shared.readers += 1;
    Some(merged)
}

/// The open file is done with its source (closed, or rewound).
pub(crate) fn release(inode: &RsInode, cache: &mut DirCache) {
    let Some(Source::Merged(mine)) = cache.source.take() else {
        return;
    };
    let freed = {
        let mut shared = inode.lock_listing();
        if !shared
            .merged
            .as_ref()
            .is_some_and(|m| Arc::ptr_eq(m, &mine))
        {
            None
        } else if shared.readers > 1 {
            shared.readers -= 1;
            None
        } else {
            shared.readers = 0;
            shared.merged.take()
        }
    };
    drop((freed, mine));
}

/// A name in `dir` is about to change: open files keep the list they
/// read, later readers merge afresh.
pub(crate) fn forget_listing(dir: &RsInode) {
    let old = {
        let mut shared = dir.lock_listing();
        shared.readers = 0;
        shared.merged.take()
    };
    drop(old);
}

fn iterate_merged(file: &File, merged: &Merged, ctx: &DirContext) -> Result {
    if !ctx.emit_dots(file) {
        return Ok(());
    }
    let mut pos = ctx.pos();
    while let Some(e) = usize::try_from(pos - 2)
        .ok()
        .and_then(|i| merged.entries.get(i))
    {
        let name = merged.names.get(e.name.clone()).ok_or(EIO)?;
        if !ctx.emit(name, e.ino, e.d_type) {
            break;
        }
        pos += 1;
        ctx.set_pos(pos);
    }
    Ok(())
}

/// An entry of a one-layer directory that may be an overlayfs whiteout: it
/// can only be looked up once `iterate_dir` has let the real directory go.
struct Held {
    name: [u8; NAME_MAX],
    len: usize,
    ino: u64,
    d_type: u32,
    pos: i64,
}

const NAME_MAX: usize = 255;

impl Held {
    fn name(&self) -> &[u8] {
        self.name.get(..self.len).unwrap_or(&[])
    }
}

fn may_be_whiteout(e: &RawEntry<'_>) -> bool {
    (e.d_type == DT_CHR || e.d_type == DT_UNKNOWN) && e.name != b"." && e.name != b".."
}

/// Reads the one real directory behind `inode` from where `ctx` is, with
/// the union's numbers for `.` and `..`.
fn iterate_real(inode: &RsInode, file: &File, one: &OneLayer, ctx: &DirContext) -> Result {
    let real = &one.file;
    let dot = inode.inode().ino();
    let dotdot = file.dentry().parent().inode().map_or(dot, |p| p.ino());
    if real.pos() != ctx.pos() {
        real.llseek(ctx.pos(), SEEK_SET)?;
    }
    loop {
        let mut held = None;
        let mut full = false;
        read_real_dir_on(real, &mut |e: RawEntry<'_>| {
            if is_wh_name(e.name) {
                return Ok(true);
            }
            if may_be_whiteout(&e) {
                let mut h = Held {
                    name: [0; NAME_MAX],
                    len: e.name.len(),
                    ino: e.ino,
                    d_type: e.d_type,
                    pos: e.pos,
                };
                h.name
                    .get_mut(..e.name.len())
                    .ok_or(EIO)?
                    .copy_from_slice(e.name);
                held = Some(h);
                return Ok(false);
            }
            let ino = match e.name {
                b"." => dot,
                b".." => dotdot,
                _ => e.ino,
            };
            ctx.set_pos(e.pos);
            full = !ctx.emit(e.name, ino, e.d_type);
            Ok(!full)
        })?;
        let Some(h) = held.filter(|_| !full) else {
            break;
        };
        if !is_whiteout(inode, one, h.name())? {
            ctx.set_pos(h.pos);
            if !ctx.emit(h.name(), h.ino, h.d_type) {
                break;
            }
        }
        if !skip_entry(real, h.name())? {
            break;
        }
    }
    Ok(())
}

/// Moves `real` past its next entry if that is `name`: whether it did.
fn skip_entry(real: &RealFile, name: &[u8]) -> Result<bool> {
    let mut skipped = false;
    read_real_dir_on(real, &mut |e| {
        if skipped || e.name != name {
            return Ok(false);
        }
        skipped = true;
        Ok(true)
    })?;
    Ok(skipped)
}

fn is_whiteout(inode: &RsInode, one: &OneLayer, name: &[u8]) -> Result<bool> {
    let fs = inode.fs();
    let idmap = fs.layer(one.layer)?.mnt.idmap();
    Ok(one.dir.lookup_unlocked(idmap, name)?.is_whiteout())
}

/// lseek on a union directory. A one-layer directory's positions are its
/// real directory's; a merged one's index its list. 0 starts afresh.
/// Nothing is read here, where the directory is not locked: before the
/// first read the position is only recorded.
pub(crate) fn llseek(
    inode: &RsInode,
    cache: &mut DirCache,
    pos: &mut i64,
    offset: i64,
    whence: u32,
) -> Result<i64> {
    let new = match (&cache.source, whence) {
        (Some(Source::Real(one)), _) => one.file.llseek(offset, whence)?,
        (_, SEEK_SET) => offset,
        (_, SEEK_CUR) => pos.checked_add(offset).ok_or(EINVAL)?,
        _ => return Err(EINVAL),
    };
    if new < 0 {
        return Err(EINVAL);
    }
    if new == 0 {
        release(inode, cache);
    }
    *pos = new;
    Ok(new)
}

/// What a merge is for.
#[derive(Clone, Copy)]
enum Purpose {
    /// A listing for readers, who may look its names up next.
    Listing,
    /// `rmdir`'s check that nothing shows: nothing to learn for.
    EmptinessCheck,
}

/// Reads every layer of `inode` and merges what they show.
fn merge(inode: &RsInode, purpose: Purpose) -> Result<Merged> {
    // Room for a small directory's names: growing a vector by doubling
    // from nothing costs a dozen reallocations a listing.
    let mut names = KVVec::with_capacity(1024, GFP_KERNEL_ACCOUNT)?;
    let mut cands = KVVec::with_capacity(64, GFP_KERNEL_ACCOUNT)?;
    // A key of this listing's own: a layer's names cannot be chosen to
    // collide in `visible`'s table, which would make it quadratic.
    let key = NameHashKey::random();
    let fs = inode.fs();
    // Not learning costs time, never a listing.
    let mut learned = match purpose {
        Purpose::Listing if inode.lower_names().get().is_none() => {
            KVec::with_capacity(inode.lowers().len(), GFP_KERNEL_ACCOUNT).ok()
        }
        _ => None,
    };
    for (depth, real) in inode.reals().enumerate() {
        let lower = !fs.layer(real.layer)?.writable;
        let mut list = (learned.is_some() && lower)
            .then(|| NameList::start(real))
            .flatten();
        let start = cands.len();
        read_layer(
            inode,
            real,
            depth,
            &key,
            &mut names,
            &mut cands,
            list.as_mut(),
        )?;
        mark_char_whiteouts(inode, real, &names, cands.get_mut(start..).ok_or(EIO)?)?;
        if let (Some(dirs), true) = (&mut learned, lower) {
            // Room for each lower directory was made above.
            let _ = dirs.push(list.and_then(NameList::finish), GFP_KERNEL_ACCOUNT);
        }
    }
    if let Some(dirs) = learned {
        lower_names::learned_by_merge(inode, dirs);
    }
    let keep = visible(&names, &cands)?;
    // Discovery order: upper layers' entries first.
    let mut entries = KVVec::with_capacity(cands.len(), GFP_KERNEL_ACCOUNT)?;
    for (c, _) in cands.into_iter().zip(keep.iter()).filter(|(_, &k)| k) {
        entries.push(c.entry, GFP_KERNEL_ACCOUNT)?;
    }
    Ok(Merged { names, entries })
}

/// Which candidates show. Per name the topmost layer decides; within one
/// layer an object beats a `.wh.` entry for the same name (that one hides
/// the layers below). Candidates come in discovery order, upper layers
/// first, so the first of a name is its topmost: a table of the first of
/// each name finds it again, where sorting the names cost a `log n`
/// comparisons each (overlayfs's rb-tree of names pays the same).
fn visible(names: &[u8], cands: &[Candidate]) -> Result<KVVec<bool>> {
    let mut keep = KVVec::from_elem(false, cands.len(), GFP_KERNEL_ACCOUNT)?;
    let mut firsts = FirstOfName::new(cands.len())?;
    for (i, c) in cands.iter().enumerate() {
        let slot = firsts.slot(names, cands, c)?;
        let first = slot.checked_sub(1).and_then(|f| cands.get(f as usize));
        let shows = match first {
            None => !c.whiteout,
            Some(f) => f.layer == c.layer && f.whiteout && !c.whiteout,
        };
        if first.is_none() || shows {
            *slot = u32::try_from(i + 1).map_err(|_| ENOMEM)?;
        }
        if let Some(k) = keep.get_mut(i) {
            *k = shows;
        }
    }
    Ok(keep)
}

/// An open-addressing table of candidates by name hash: each slot holds a
/// candidate's index plus one, 0 where empty.
struct FirstOfName {
    slots: KVVec<u32>,
    mask: usize,
}

impl FirstOfName {
    fn new(names: usize) -> Result<Self> {
        // At most half full: probes stay short, and one slot stays empty.
        let len = names
            .checked_mul(2)
            .and_then(usize::checked_next_power_of_two)
            .ok_or(ENOMEM)?
            .max(2);
        Ok(Self {
            slots: KVVec::from_elem(0, len, GFP_KERNEL_ACCOUNT)?,
            mask: len - 1,
        })
    }

    /// The slot of the first candidate named as `c` is, or the empty one
    /// where it goes.
    fn slot(&mut self, names: &[u8], cands: &[Candidate], c: &Candidate) -> Result<&mut u32> {
        let name = names.get(c.entry.name.clone());
        let mut at = c.hash as usize & self.mask;
        loop {
            let taken = *self.slots.get(at).ok_or(EIO)?;
            let same = taken.checked_sub(1).map(|f| {
                cands
                    .get(f as usize)
                    .is_some_and(|f| f.hash == c.hash && names.get(f.entry.name.clone()) == name)
            });
            if same != Some(false) {
                return self.slots.get_mut(at).ok_or(EIO);
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Appends what one real directory lists: objects, and `.wh.NAME`
/// whiteouts as whiteouts of NAME, each with its name's hash under `key`;
/// markers (`.wh..wh.*`) are dropped. `learning` takes every name the
/// directory lists.
fn read_layer(
    inode: &RsInode,
    real: Real<'_>,
    depth: usize,
    key: &NameHashKey,
    names: &mut KVVec<u8>,
    cands: &mut KVVec<Candidate>,
    mut learning: Option<&mut NameList>,
) -> Result {
    let fs = inode.fs();
    let path = real_path(inode, real)?;
    fs.creds.with(|| {
        let dir = RealFile::open_dir(&path, &fs.creds)?;
        read_real_dir(&dir, &mut |e: RawEntry<'_>| {
            if let Some(list) = learning.as_deref_mut() {
                list.add(e.name);
            }
            let (name, whiteout) = match e.name {
                b"." | b".." => return Ok(()),
                n if n.starts_with(b".wh..wh.") => return Ok(()),
                n if is_wh_name(n) => match n.get(WH_PREFIX.len()..) {
                    Some(hidden) if !hidden.is_empty() => (hidden, true),
                    _ => return Ok(()),
                },
                n => (n, false),
            };
            let start = names.len();
            names.extend_from_slice(name, GFP_KERNEL_ACCOUNT)?;
            let entry = Entry {
                name: start..names.len(),
                ino: e.ino,
                d_type: e.d_type,
            };
            cands.push(
                Candidate {
                    entry,
                    hash: key.hash(name),
                    layer: depth,
                    whiteout,
                },
                GFP_KERNEL_ACCOUNT,
            )?;
            Ok(())
        })
    })
}

/// Char devices may be overlayfs whiteouts (0/0): look each one up, now
/// that `iterate_dir` no longer holds the real directory's lock.
fn mark_char_whiteouts(
    inode: &RsInode,
    real: Real<'_>,
    names: &[u8],
    cands: &mut [Candidate],
) -> Result {
    let fs = inode.fs();
    let idmap = fs.layer(real.layer)?.mnt.idmap();
    fs.creds.with(|| {
        for c in cands.iter_mut().filter(|c| !c.whiteout) {
            if c.entry.d_type != DT_CHR && c.entry.d_type != DT_UNKNOWN {
                continue;
            }
            let name = names.get(c.entry.name.clone()).ok_or(EIO)?;
            c.whiteout = real.dentry.lookup_unlocked(idmap, name)?.is_whiteout();
        }
        Ok(())
    })
}

/// `rmdir` may remove a union directory only when it shows nothing.
pub(crate) fn check_empty(inode: &RsInode) -> Result {
    if merge(inode, Purpose::EmptinessCheck)?.entries.is_empty() {
        Ok(())
    } else {
        Err(errno::enotempty())
    }
}

/// Removes the entries of real directory `dir` that `doomed` picks (files
/// and empty directories), as the current credentials; `doomed` may stop
/// the sweep with an error.
pub(crate) fn remove_entries(
    dir: &Dentry,
    mnt: &PrivateMount,
    creds: &crate::vfs::Cred,
    doomed: impl Fn(&[u8], &Dentry) -> Result<bool>,
) -> Result {
    let mut names = KVVec::new();
    let mut ends = KVVec::new();
    {
        let real = RealFile::open_dir(&Path::new(mnt, dir), creds)?;
        read_real_dir(&real, &mut |e: RawEntry<'_>| {
            if e.name != b"." && e.name != b".." {
                names.extend_from_slice(e.name, GFP_KERNEL)?;
                ends.push(names.len(), GFP_KERNEL)?;
            }
            Ok(())
        })?;
    }
    let locked = LockedDir::lock(dir, mnt)?;
    let mut start = 0;
    for &end in ends.iter() {
        let name = names.get(start..end).ok_or(EIO)?;
        start = end;
        let d = locked.lookup(name)?;
        if d.is_negative() || !doomed(name, &d)? {
            continue;
        }
        locked.remove(&d)?;
    }
    Ok(())
}
