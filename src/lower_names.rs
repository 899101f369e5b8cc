// SPDX-License-Identifier: GPL-2.0

//! What the lower directories of a busy merged directory hold, learned
//! once, so that a lookup skips the layers that cannot have the name.
//!
//! overlayfs looks a name up in every layer down to the one that has it:
//! a name in the bottom layer of 64 costs 63 negative lookups, and a union
//! that also honours `.wh.NAME` whiteouts pays twice that. Lower layers
//! seldom change, so after a few lookups in one directory the union lists
//! each of its lower directories once and keeps the hashes of their names,
//! sorted, with the directory's change counter (`i_version`) as it was
//! before the listing. A layer whose list holds neither NAME nor
//! `.wh.NAME` is skipped; a hash that is there is only a maybe, and the
//! real lookup decides.
//!
//! overlayfs leaves changes to the lower layers of a mounted union
//! undefined, but aufs shows them, and so does rsunion (the seed article
//! adds a file to a lower branch of a mounted union): a list whose
//! directory's counter has moved is not used again, and lookups there go
//! to the layer.
//!
//! A merged directory's listing reads every lower directory anyway: what
//! it reads is learned then too, for the lists' memory and a sort of each,
//! so a walk such as `find` that lists a directory and then looks its
//! names up asks only the layers that have them. (A counter once read
//! must move on the directory's next change: on ext4 that is one more
//! inode update for a change of a lower layer, which seldom changes.)
//!
//! Never learned: the upper layer (it changes all the time), and a lower
//! directory not on tmpfs or ext2/3/4 (filesystems known to move
//! `i_version` on every change of names), one whose names are folded
//! (casefolding) or encrypted, one that cannot be opened, or one that
//! holds more than [`MAX_NAMES`] entries.

use crate::entry::{Real, RsInode};
use crate::util::{heap_sort, real_path, WH_PREFIX};
use crate::vfs::{read_real_dir_on, Dentry, Inode, RawEntry, RealFile};
use kernel::prelude::*;

/// Lookups in a directory before its lower directories are listed: a
/// directory walked through once is not worth listing.
const LEARN_AFTER: u32 = 8;
/// The most entries a lower directory may have to be learned: its list
/// costs four bytes an entry, for as long as the union directory lives.
const MAX_NAMES: usize = 1 << 16;

/// The learned names of a union directory's lower directories, in the
/// order of its `lowers()`: `None` for one not learned.
pub(crate) struct LowerNames {
    dirs: KVec<Option<NameHashes>>,
}

/// The hashes of the names one real directory held, sorted, when its
/// change counter was `version`.
pub(crate) struct NameHashes {
    hashes: KVVec<u32>,
    version: u64,
}

/// The hashes a lookup of NAME asks the learned lists about.
#[derive(Clone, Copy)]
pub(crate) struct Sought {
    name: u32,
    whiteout: u32,
}

impl Sought {
    pub(crate) fn new(name: &[u8]) -> Self {
        Self {
            name: hash(FNV_BASIS, name),
            whiteout: hash(hash(FNV_BASIS, WH_PREFIX), name),
        }
    }
}

impl LowerNames {
    /// What lower directory `index` of `lowers()`, `real`, holds, if
    /// learned and unchanged since.
    pub(crate) fn dir(&self, index: usize, real: &Dentry) -> Option<&NameHashes> {
        let names = self.dirs.get(index)?.as_ref()?;
        real.inode()?.version_is(names.version).then_some(names)
    }
}

impl NameHashes {
    /// May this directory hold NAME or `.wh.NAME`?
    pub(crate) fn may_hold_any(&self, sought: Sought) -> bool {
        self.may_hold(sought.name) || self.may_hold_whiteout(sought)
    }

    /// May this directory hold `.wh.NAME`?
    pub(crate) fn may_hold_whiteout(&self, sought: Sought) -> bool {
        self.may_hold(sought.whiteout)
    }

    fn may_hold(&self, hash: u32) -> bool {
        self.hashes.binary_search(&hash).is_ok()
    }
}

/// The learned lower names of directory `dir`, for a lookup in it: learned
/// now if this is its `LEARN_AFTER`th lookup and it merges layers. Runs
/// with the mounter's credentials, which list the lower directories.
pub(crate) fn for_lookup(dir: &RsInode) -> Option<&LowerNames> {
    if let Some(names) = dir.lower_names().get() {
        return Some(names);
    }
    if dir.count_lookup() != LEARN_AFTER || !dir.is_merged() {
        return None;
    }
    // Not learning costs time, never a correct answer.
    let learned = learn(dir).ok()?;
    Some(dir.lower_names().set(learned))
}

fn learn(dir: &RsInode) -> Result<KBox<LowerNames>> {
    let lowers = dir.lowers();
    let mut dirs = KVec::with_capacity(lowers.len(), GFP_KERNEL)?;
    for real in lowers {
        // One directory that cannot be learned leaves the others learned.
        dirs.push(list(dir, real.borrow()).ok().flatten(), GFP_KERNEL)?;
    }
    Ok(KBox::new(LowerNames { dirs }, GFP_KERNEL)?)
}

/// The hashes of the names real directory `real` holds; `None` when it
/// cannot stand for the lookups (see the module's comment).
fn list(dir: &RsInode, real: Real<'_>) -> Result<Option<NameHashes>> {
    let Some(mut names) = NameList::start(real) else {
        return Ok(None);
    };
    let file = RealFile::open_dir(&real_path(dir, real)?, &dir.fs().creds)?;
    read_real_dir_on(&file, &mut |e: RawEntry<'_>| Ok(names.add(e.name)))?;
    Ok(names.finish())
}

/// The names of one lower directory, learned while something reads it.
pub(crate) struct NameList {
    hashes: KVVec<u32>,
    version: u64,
    /// Too many names, or no memory for them: nothing is learned.
    given_up: bool,
}

impl NameList {
    /// Starts learning `real`, a lower directory about to be read from its
    /// first entry; `None` where it cannot be learned.
    pub(crate) fn start(real: Real<'_>) -> Option<Self> {
        if !real.dentry.names_are_plain() {
            return None;
        }
        // Read before the listing: a change made while it is read moves it.
        let version = real.dentry.inode().and_then(Inode::query_version)?;
        // Room for a small directory: growing from nothing costs a
        // reallocation per doubling, on the readdir path.
        Some(Self {
            hashes: KVVec::with_capacity(64, GFP_KERNEL_ACCOUNT).ok()?,
            version,
            given_up: false,
        })
    }

    /// Takes one name the directory lists; false once it has given up.
    pub(crate) fn add(&mut self, name: &[u8]) -> bool {
        if self.given_up {
            return false;
        }
        self.given_up = self.hashes.len() >= MAX_NAMES
            || self
                .hashes
                .push(hash(FNV_BASIS, name), GFP_KERNEL_ACCOUNT)
                .is_err();
        if self.given_up {
            self.hashes = KVVec::new();
        }
        !self.given_up
    }

    /// The list, once the directory has been read to its end.
    pub(crate) fn finish(mut self) -> Option<NameHashes> {
        if self.given_up {
            return None;
        }
        heap_sort(self.hashes.as_mut_slice(), u32::cmp);
        Some(NameHashes {
            hashes: self.hashes,
            version: self.version,
        })
    }
}

/// Keeps what a merge of `dir` learned of its lower directories, one entry
/// per directory of `lowers()` in its order, unless `dir` knows already.
pub(crate) fn learned_by_merge(dir: &RsInode, dirs: KVec<Option<NameHashes>>) {
    if dir.lower_names().get().is_some() || dirs.len() != dir.lowers().len() {
        return;
    }
    if let Ok(names) = KBox::new(LowerNames { dirs }, GFP_KERNEL_ACCOUNT) {
        dir.lower_names().set(names);
    }
}

const FNV_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a, continued from `state` over `bytes`: hashing `.wh.` and then
/// NAME gives the hash of `.wh.NAME` without building it.
fn hash(state: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(state, |h, &b| (h ^ u32::from(b)).wrapping_mul(FNV_PRIME))
}
