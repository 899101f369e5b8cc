// SPDX-License-Identifier: GPL-2.0

//! `struct inode` (linux/fs.h): any inode, and the union's own inodes,
//! which embed one in [`RsInode`].

use super::{
    bindings, errno, Dentry, FiemapInfo, MntIdmap, OnceBox, SuperBlock, Umode, UnionSb,
    COPIED_I_FLAGS, PROTECTION_I_FLAGS,
};
use crate::entry::{Real, RealDentry};
use crate::lower_names::LowerNames;
use crate::readdir::SharedListing;
use core::pin::Pin;
use core::{
    cell::UnsafeCell,
    ptr::NonNull,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering},
};
use kernel::{
    error::to_result,
    new_mutex,
    prelude::*,
    sync::{
        lock::{mutex::MutexBackend, Guard},
        Mutex,
    },
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// An inode; `ARef<Inode>` owns one reference (ihold/iput).
#[repr(transparent)]
pub(crate) struct Inode(Opaque<bindings::inode>);

// SAFETY: `ihold` and `iput` keep the object alive; the count is atomic.
unsafe impl AlwaysRefCounted for Inode {
    fn inc_ref(&self) {
        // SAFETY: `self` is live and referenced, so `ihold` is valid.
        unsafe { bindings::ihold(self.as_ptr()) };
    }

    /// # Safety
    /// `obj` is a live inode and the caller gives up one reference it owns.
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a reference it owns.
        unsafe { bindings::iput(obj.as_ptr().cast()) };
    }
}

// SAFETY: inodes are refcounted kernel objects usable from any thread.
unsafe impl Send for Inode {}
// SAFETY: `&Inode` methods read fields the VFS allows to be read racily.
unsafe impl Sync for Inode {}

impl Inode {
    /// # Safety
    /// `ptr` is a live inode for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: transparent wrapper over a live inode.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    pub(crate) fn mode(&self) -> Umode {
        // SAFETY: `self` is live; `i_mode` of a live inode is readable.
        unsafe { (*self.as_ptr()).i_mode }
    }

    /// A char device 0/0: the overlayfs whiteout format.
    pub(crate) fn is_whiteout(&self) -> bool {
        // SAFETY: `i_rdev` of a live inode is readable.
        let rdev = unsafe { (*self.as_ptr()).i_rdev };
        u32::from(self.mode()) & bindings::S_IFMT == bindings::S_IFCHR
            && rdev == bindings::WHITEOUT_DEV
    }

    /// The extents of `len` bytes from `start` (FIEMAP), by the inode's
    /// own filesystem; EOPNOTSUPP where that maps none (tmpfs).
    pub(crate) fn fiemap(&self, info: &mut FiemapInfo, start: u64, len: u64) -> Result {
        // SAFETY: `self` is live; its `i_op` stays set while it lives.
        let fiemap = unsafe { (*(*self.as_ptr()).i_op).fiemap }.ok_or_else(errno::eopnotsupp)?;
        // SAFETY: the filesystem's own operation on its own live inode;
        // `info` wraps an FS_IOC_FIEMAP's in progress (its invariant),
        // which nothing else uses meanwhile.
        to_result(unsafe { fiemap(self.as_ptr(), info.as_mut_ptr(), start, len) })
    }

    /// One link fewer (an unlinked name).
    pub(crate) fn drop_nlink(&self) {
        // SAFETY: `self` is live; the VFS holds its lock around unlink.
        unsafe { bindings::drop_nlink(self.as_ptr()) };
    }

    /// No links left (a removed directory).
    pub(crate) fn clear_nlink(&self) {
        // SAFETY: `self` is live; the VFS holds its lock around rmdir (the
        // victim's, in `vfs_rmdir`), as `clear_nlink` needs.
        unsafe { bindings::clear_nlink(self.as_ptr()) };
    }

    /// A device, fifo or socket: opening one reaches no file data.
    pub(crate) fn is_special(&self) -> bool {
        !matches!(
            u32::from(self.mode()) & bindings::S_IFMT,
            bindings::S_IFREG | bindings::S_IFDIR | bindings::S_IFLNK
        )
    }

    pub(crate) fn is_regular(&self) -> bool {
        u32::from(self.mode()) & bindings::S_IFMT == bindings::S_IFREG
    }

    /// The 512-byte blocks the inode's data takes up (`i_blocks`).
    pub(crate) fn blocks(&self) -> u64 {
        // SAFETY: `i_blocks` of a live inode is readable, once, as
        // `generic_fillattr` reads it (racily).
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).i_blocks)) }
    }

    pub(crate) fn size(&self) -> i64 {
        // SAFETY: `self` is live.
        unsafe { bindings::i_size_read(self.as_ptr()) }
    }

    pub(crate) fn rdev(&self) -> super::DevT {
        // SAFETY: `i_rdev` of a live inode is readable.
        unsafe { (*self.as_ptr()).i_rdev }
    }

    pub(crate) fn is_dir(&self) -> bool {
        u32::from(self.mode()) & bindings::S_IFMT == bindings::S_IFDIR
    }

    pub(crate) fn ino(&self) -> u64 {
        // SAFETY: `i_ino` of a live inode is readable.
        unsafe { (*self.as_ptr()).i_ino as u64 }
    }

    pub(crate) fn nlink(&self) -> u32 {
        // SAFETY: `i_nlink` of a live inode is readable (racily, as the VFS
        // reads it).
        unsafe { (*self.as_ptr()).__bindgen_anon_1.i_nlink }
    }

    /// May the current credentials access this inode with `mask`
    /// (`MAY_*`)? `idmap` is that of the mount it is reached through.
    pub(crate) fn permission(&self, idmap: &MntIdmap, mask: i32) -> Result {
        // SAFETY: `self` is live (in RCU walk, RCU keeps it so); `idmap` is
        // live for the borrow.
        kernel::error::to_result(unsafe {
            bindings::inode_permission(idmap.as_ptr(), self.as_ptr(), mask)
        })
    }

    /// The mode-bits check of `mask` (`MAY_*`) for the current task.
    pub(crate) fn generic_permission(&self, idmap: &MntIdmap, mask: i32) -> Result {
        // SAFETY: `self` is live (in RCU walk, RCU keeps it so); `idmap` is
        // live for the borrow.
        kernel::error::to_result(unsafe {
            bindings::generic_permission(idmap.as_ptr(), self.as_ptr(), mask)
        })
    }

    /// The inode's change counter (`i_version`), marked as read so that
    /// its next change bumps it; `None` where the filesystem keeps none.
    pub(crate) fn query_version(&self) -> Option<u64> {
        let mut version = 0;
        // SAFETY: `self` is live; `version` is a writable u64.
        unsafe { bindings::rsunion_query_iversion(self.as_ptr(), &mut version) }.then_some(version)
    }

    /// Is the change counter still `version`, as `query_version` gave it:
    /// has the inode not changed since?
    pub(crate) fn version_is(&self, version: u64) -> bool {
        // SAFETY: `self` is live; `i_version` is read atomically.
        unsafe { bindings::rsunion_iversion_is(self.as_ptr(), version) }
    }

    /// Takes the inode's lock (`inode_lock`, its `i_rwsem` for writing)
    /// until the guard is dropped.
    pub(crate) fn lock(&self) -> InodeLock<'_> {
        // SAFETY: `self` is a live inode, so its `i_rwsem` is initialised.
        unsafe { bindings::inode_lock(self.as_ptr()) };
        InodeLock(self)
    }

    /// Would setting an access ACL clear this inode's setgid bit for the
    /// caller (`posix_acl_update_mode`'s rule)?
    pub(crate) fn acl_kills_sgid(&self) -> bool {
        // SAFETY: `self` is a live inode; the helper only reads it and the
        // current task's credentials.
        unsafe { bindings::rsunion_acl_kills_sgid(self.as_ptr()) }
    }

    pub(crate) fn super_block(&self) -> &SuperBlock {
        // SAFETY: an inode's superblock outlives it.
        unsafe { SuperBlock::from_raw((*self.as_ptr()).i_sb) }
    }

    /// The union inode this is, for inodes of an rsunion superblock.
    ///
    /// # Safety
    /// `self` belongs to an rsunion superblock (allocated by
    /// [`alloc_union_inode`]).
    pub(crate) unsafe fn union(&self) -> &RsInode {
        // SAFETY: `vfs_inode` is the first field of the `#[repr(C)]`
        // `RsInode` that `alloc_union_inode` allocated.
        unsafe { &*self.as_ptr().cast::<RsInode>() }
    }
}

/// The union's inode: the VFS inode and the real objects it stands for.
/// Only this file touches its fields.
///
/// # Invariants
///
/// - `vfs_inode` is initialised (`inode_init_once`) before the VFS sees
///   the inode, and is the first field, so that an `inode` of ours is an
///   `RsInode` (`#[repr(C)]`).
/// - `lowers` is written only while the inode is new ([`NewInode`]: locked
///   `I_NEW`, or not yet visible to anyone) and when it is destroyed, when
///   no other reference exists; in between it is only read.
/// - `upper` is NULL or owns a reference to a dentry; it is set at most
///   once, from NULL (by [`NewInode::init`], or by a copy-up's
///   [`CopyUp::set_upper`]), and the reference is given back only when the
///   inode is destroyed.
/// - `real_key` is read only by `inode_test`, under `inode_hash_lock`,
///   while the inode is hashed; it is written only while the inode is not
///   hashed: new (`inode_set`, before the hash publishes it), or taken off
///   the hash by [`CopyUp::prepare_upper`], which holds `copy_up_lock`. A
///   copy-up does rewrite it on a live inode.
#[pin_data]
#[repr(C)]
pub(crate) struct RsInode {
    vfs_inode: Inode,
    /// The object in the upper layer (layer 0), once there is one: found
    /// by lookup, or made by copy-up. Read without locks, as overlayfs
    /// reads `__upperdentry`.
    upper: AtomicPtr<Dentry>,
    /// The objects in lower layers, topmost first: several for a merged
    /// directory, at most one for anything else.
    lowers: UnsafeCell<KVec<RealDentry>>,
    /// For non-directories, the real inode this one is hashed on.
    real_key: UnsafeCell<usize>,
    /// Serialises copy-ups of this object: whoever comes second finds the
    /// copy made; copy-ups of different objects go on side by side.
    #[pin]
    copy_up_lock: Mutex<()>,
    /// A directory's merged listing, shared by the open files reading it.
    #[pin]
    listing: Mutex<SharedListing>,
    /// What a directory's lower directories hold, once learned.
    lower_names: OnceBox<LowerNames>,
    /// Lookups made in a directory so far: learning waits for a few.
    lookups: AtomicU32,
    /// A directory whose upper directory this union made, in a union that
    /// writes no `.wh.` entries: it holds none.
    upper_has_no_wh: AtomicBool,
}

// SAFETY: per the invariants, `lowers` is only written while no other
// thread can see the inode, `real_key` only while no `inode_test` can read
// it, `upper` is atomic, and the mutexes are `Sync`.
unsafe impl Sync for RsInode {}
// SAFETY: the contents are kernel-refcounted objects and kernel mutexes,
// usable from any thread.
unsafe impl Send for RsInode {}

impl RsInode {
    /// The objects in lower layers, topmost first.
    pub(crate) fn lowers(&self) -> &[RealDentry] {
        // SAFETY: per the invariants, nothing writes `lowers` while the
        // inode is reachable through a shared reference.
        unsafe { &*self.lowers.get() }
    }

    /// Every real object behind this inode, topmost first.
    pub(crate) fn reals(&self) -> impl Iterator<Item = Real<'_>> {
        let upper = self.upper().map(|dentry| Real { layer: 0, dentry });
        Iterator::chain(
            upper.into_iter(),
            self.lowers().iter().map(RealDentry::borrow),
        )
    }

    /// The topmost real object.
    pub(crate) fn top(&self) -> Option<Real<'_>> {
        self.reals().next()
    }

    /// A directory whose contents come from more than one layer.
    pub(crate) fn is_merged(&self) -> bool {
        self.reals().nth(1).is_some()
    }

    /// Starts a copy-up of this object: waits for any other to finish.
    pub(crate) fn lock_copy_up(&self) -> CopyUp<'_> {
        CopyUp {
            inode: self,
            _lock: self.copy_up_lock.lock(),
        }
    }

    /// What the directory's lower directories hold, once learned (see
    /// [`crate::lower_names`]).
    pub(crate) fn lower_names(&self) -> &OnceBox<LowerNames> {
        &self.lower_names
    }

    /// Can the directory's upper directory hold no `.wh.` entry? True once
    /// [`RsInode::set_upper_has_no_wh`] said so.
    pub(crate) fn upper_has_no_wh(&self) -> bool {
        self.upper_has_no_wh.load(Ordering::Relaxed)
    }

    /// Says the upper directory holds no `.wh.` entry and never will: the
    /// union made it empty and writes none.
    pub(crate) fn set_upper_has_no_wh(&self) {
        self.upper_has_no_wh.store(true, Ordering::Relaxed);
    }

    /// Counts a lookup in this directory; returns how many came before.
    pub(crate) fn count_lookup(&self) -> u32 {
        self.lookups.fetch_add(1, Ordering::Relaxed)
    }

    /// The directory's shared listing, locked.
    pub(crate) fn lock_listing(&self) -> MutexGuard<'_, SharedListing> {
        self.listing.lock()
    }

    /// The object in the upper layer, if there is one yet.
    pub(crate) fn upper(&self) -> Option<&Dentry> {
        let upper = self.upper.load(Ordering::Acquire);
        // SAFETY: a non-NULL `upper` holds a reference until the inode is
        // destroyed (see the type's invariants), and was published with
        // `Release` after it was set up.
        (!upper.is_null()).then(|| unsafe { Dentry::from_raw(upper.cast()) })
    }

    /// Whether `real`, the inode of a real file opened for this one, is
    /// still its topmost real inode: a file opened before a copy-up holds
    /// the lower one. Without an upper copy, the lower file opened is the
    /// only real one.
    #[inline(always)]
    pub(crate) fn is_top_real(&self, real: &Inode) -> bool {
        self.upper()
            .is_none_or(|upper| upper.inode().is_some_and(|i| core::ptr::eq(i, real)))
    }
}

/// `take_upper_cmtime`'s rare part, out of line: inlined, its calls made
/// every read of an upper copy save two registers more.
///
/// # Safety
/// Both inodes are live.
#[cold]
#[inline(never)]
unsafe fn copy_cmtime(inode: *mut bindings::inode, real: *mut bindings::inode) {
    // SAFETY: per the contract; racy, as `take_upper_cmtime`.
    unsafe {
        bindings::inode_set_mtime_to_ts(inode, bindings::inode_get_mtime(real));
        bindings::inode_set_ctime_to_ts(inode, bindings::inode_get_ctime(real));
    }
}

type MutexGuard<'a, T> = Guard<'a, T, MutexBackend>;

/// A copy-up of one union inode in progress: it holds the inode's
/// `copy_up_lock`, so at most one exists per inode at a time.
pub(crate) struct CopyUp<'a> {
    inode: &'a RsInode,
    _lock: MutexGuard<'a, ()>,
}

impl CopyUp<'_> {
    /// Before the copy-up makes `upper` the inode's upper object: a
    /// non-directory is hashed on its topmost real inode, so it moves to
    /// the upper one, and a later lookup that finds the copy finds this
    /// union inode. One a lower hard link left unhashed is hashed now
    /// (overlayfs's `ovl_inode_update`): a link made through the union to
    /// the copy must get this inode, not a second one, whose protection
    /// flags and attributes would go stale.
    pub(crate) fn prepare_upper(&self, upper: &Inode) -> Result {
        let inode = self.inode.vfs_inode.as_ptr();
        // `inode_test` runs under the hash lock on hashed inodes only, and
        // `self` holds `copy_up_lock`: no other `prepare_upper` writes.
        // SAFETY: `inode` is live; once unhashed, nothing reads `real_key`
        // until `__insert_inode_hash` publishes it under the hash lock.
        unsafe {
            // Directories are one union inode per dentry, never hashed.
            if u32::from((*inode).i_mode) & bindings::S_IFMT == bindings::S_IFDIR {
                return Ok(());
            }
            bindings::remove_inode_hash(inode);
            let key = upper.as_ptr() as usize;
            // INVARIANT: written while unhashed, under `copy_up_lock`.
            *self.inode.real_key.get() = key;
            bindings::__insert_inode_hash(inode, key as _);
        }
        Ok(())
    }

    /// Makes the copy `upper` the inode's upper object. Fails with
    /// `EEXIST`, dropping `upper`, if it already has one: copy-ups are
    /// serialised, so that means a bug, not a race.
    pub(crate) fn set_upper(&self, upper: ARef<Dentry>) -> Result {
        let ptr = ARef::into_raw(upper).as_ptr();
        match self.inode.upper.compare_exchange(
            core::ptr::null_mut(),
            ptr,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // INVARIANT: `upper` was NULL and now owns the reference
            // `into_raw` gave up; it is never set again.
            Ok(_) => Ok(()),
            Err(_) => {
                // SAFETY: we still own the reference `into_raw` gave up.
                drop(unsafe { Dentry::from_owned(NonNull::new_unchecked(ptr.cast())) });
                Err(EEXIST)
            }
        }
    }
}

impl RsInode {
    /// Copies the topmost real object's attributes to the union inode
    /// again, after a change (setattr, copy-up, a namespace operation).
    /// The link count too, so only under the locks an unlink of the union
    /// inode holds while it counts that down: see `sync_written_from_real`.
    pub(crate) fn sync_from_real(&self) {
        let Some(real) = self.top().and_then(|r| r.dentry.inode()) else {
            return;
        };
        // SAFETY: both inodes are live, and neither's `i_lock` is held
        // here (the copy takes the union inode's).
        unsafe { bindings::rsunion_copy_all_attrs(self.vfs_inode.as_ptr(), real.as_ptr()) };
    }

    /// The inode flags the union inode has of those it takes from a real
    /// one (`COPIED_I_FLAGS`).
    pub(crate) fn copied_flags(&self) -> u32 {
        self.flags() & COPIED_I_FLAGS
    }

    /// `i_flags`, which `inode_set_flags` changes atomically (READ_ONCE).
    fn flags(&self) -> u32 {
        // SAFETY: the inode is live; a volatile read of an aligned `u32`
        // sees one whole value.
        unsafe { core::ptr::addr_of!((*self.vfs_inode.as_ptr()).i_flags).read_volatile() }
    }

    /// The protection flags (immutable, append-only) the union inode has.
    pub(crate) fn protection(&self) -> u32 {
        self.flags() & PROTECTION_I_FLAGS
    }

    /// Sets the protection flags to `flags`, as an upper object's
    /// `overlay.protattr` records them.
    pub(crate) fn set_protection(&self, flags: u32) {
        // SAFETY: the inode is live; `inode_set_flags` changes the flags
        // atomically.
        unsafe {
            bindings::inode_set_flags(
                self.vfs_inode.as_ptr(),
                flags & PROTECTION_I_FLAGS,
                PROTECTION_I_FLAGS,
            )
        };
    }

    /// After `chattr` through the union: the flags the VFS enforces, from
    /// the topmost real inode, with the union inode's own protection flags
    /// (overlayfs's `ovl_fileattr_set`).
    pub(crate) fn take_real_flags(&self) {
        let Some(real) = self.top().and_then(|r| r.dentry.inode()) else {
            return;
        };
        // SAFETY: both inodes are live; `inode_set_flags` changes the
        // union inode's flags atomically.
        unsafe {
            let flags = ((*real.as_ptr()).i_flags & COPIED_I_FLAGS) | self.protection();
            bindings::inode_set_flags(self.vfs_inode.as_ptr(), flags, COPIED_I_FLAGS);
        }
    }

    /// After a write to the real file, the attributes a write changes: size,
    /// times, and the mode (a write drops setuid bits), as overlayfs's
    /// `ovl_copyattr`. Not the link count, which `sync_from_real` copies
    /// too: an asynchronous write ends on a workqueue, without the locks an
    /// unlink of the union inode holds while it counts that down, and a
    /// copy taken between the real unlink and the union's would count the
    /// link twice. Nor the inode flags, which the VFS changes on the union
    /// inode without its `i_lock` (`S_NOSEC` when a write found no
    /// privileges to drop, on a union that inherits `SB_NOSEC`).
    pub(crate) fn sync_written_from_real(&self) {
        let Some(real) = self.top().and_then(|r| r.dentry.inode()) else {
            return;
        };
        // SAFETY: as in `sync_from_real`.
        unsafe { bindings::rsunion_copy_written_attrs(self.vfs_inode.as_ptr(), real.as_ptr()) };
    }

    /// The upper copy's inode, once the object has one: it never changes
    /// after.
    #[inline(always)]
    pub(crate) fn upper_inode(&self) -> Option<&Inode> {
        self.upper().and_then(Dentry::inode)
    }

    /// Takes the upper copy's mtime and ctime where they moved (a write
    /// through a shared mapping moves them behind the union's back), so
    /// that the union's relatime judges an access by the copy's times, as
    /// overlayfs's `ovl_file_accessed` does. `upper` is `upper_inode()`.
    #[inline(always)]
    pub(crate) fn take_upper_cmtime(&self, upper: &Inode) {
        let (inode, real) = (self.vfs_inode.as_ptr(), upper.as_ptr());
        // Compared first: a read would otherwise write to the union inode
        // every time.
        // SAFETY: both inodes are live; the fields are read through the
        // raw pointers and written racily, as the VFS and overlayfs do.
        unsafe {
            if (*inode).i_mtime_sec != (*real).i_mtime_sec
                || (*inode).i_mtime_nsec != (*real).i_mtime_nsec
                || (*inode).i_ctime_sec != (*real).i_ctime_sec
                || (*inode).i_ctime_nsec != (*real).i_ctime_nsec
            {
                copy_cmtime(inode, real);
            }
        }
    }

    /// Takes the upper copy's atime, once an access was recorded there:
    /// that alone, as `sync_from_real` would also copy the link count,
    /// which a concurrent unlink of the union inode is counting down.
    pub(crate) fn take_upper_atime(&self) {
        if let Some(upper) = self.upper_inode() {
            // SAFETY: both inodes are live; racy, as `take_upper_cmtime`.
            unsafe {
                let atime = bindings::inode_get_atime(upper.as_ptr());
                bindings::inode_set_atime_to_ts(self.vfs_inode.as_ptr(), atime);
            }
        }
    }

    /// The VFS inode.
    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: `vfs_inode` was initialised by `alloc_union_inode`.
        unsafe { Inode::from_raw(self.vfs_inode.as_ptr()) }
    }

    /// The union superblock this inode belongs to.
    pub(crate) fn union_sb(&self) -> &UnionSb {
        // SAFETY: an `RsInode` is allocated only by `alloc_union_inode`,
        // the `alloc_inode` of `SUPER_OPS`.
        unsafe { UnionSb::from_super_block(self.inode().super_block()) }
    }

    /// The union this inode belongs to.
    pub(crate) fn fs(&self) -> &crate::entry::UnionFs {
        // SAFETY: the inode is on one of our superblocks, which keeps its
        // `UnionFs` until every inode is gone.
        unsafe { super::ops::union_fs((*self.vfs_inode.as_ptr()).i_sb) }
    }
}

/// A union inode being set up: locked `I_NEW` when hashed, invisible when
/// not. Its real objects and attributes can be set only through this.
pub(crate) struct NewInode {
    inode: NonNull<bindings::inode>,
    hashed: bool,
}

impl NewInode {
    /// The union inode being set up, still locked and unseen.
    pub(crate) fn rs_inode(&self) -> &RsInode {
        // SAFETY: a new union inode is `RsInode`, and `&self` keeps it.
        unsafe { &*self.inode.as_ptr().cast::<RsInode>() }
    }

    fn rs(&mut self) -> &mut RsInode {
        // SAFETY: a new union inode is `RsInode` and ours alone.
        unsafe { &mut *self.inode.as_ptr().cast::<RsInode>() }
    }

    /// Sets the real objects behind the inode and copies the topmost one's
    /// type, permissions, owner, size, times and device number, so that
    /// the caller's rights are checked on the union inode itself. `ino` is
    /// the inode number to report; `None` takes a fresh one.
    pub(crate) fn init(
        &mut self,
        upper: Option<ARef<Dentry>>,
        lowers: KVec<RealDentry>,
        ops: &InodeOps,
        ino: Option<u64>,
    ) -> Result {
        let top = upper
            .as_deref()
            .or_else(|| lowers.first().map(|r| &*r.dentry));
        let real = top.and_then(|d| d.inode()).ok_or(EIO)?.as_ptr();
        let inode = self.inode.as_ptr();
        // SAFETY: `inode` is new and ours; `real` is a live inode pinned
        // by `upper` or `lowers`; the operation tables are static.
        unsafe {
            let mode = (*real).i_mode;
            (*inode).i_ino = match ino {
                Some(ino) => ino as usize,
                None => bindings::get_next_ino() as usize,
            };
            bindings::fsstack_copy_attr_all(inode, real);
            bindings::fsstack_copy_inode_size(inode, real);
            // The flags the VFS enforces; times are the real object's
            // business.
            (*inode).i_flags = ((*real).i_flags & COPIED_I_FLAGS) | bindings::S_NOCMTIME;
            // So are ACLs: a cached copy would miss changes made below.
            bindings::rsunion_acl_dont_cache(inode);
            (*inode).i_mode = mode;
            bindings::rsunion_lockdep_annotate(inode);
            (*inode).i_op = ops.iop;
            match u32::from(mode) & bindings::S_IFMT {
                bindings::S_IFREG | bindings::S_IFDIR | bindings::S_IFLNK => {
                    (*inode).i_mode = mode;
                    (*inode).__bindgen_anon_3.i_fop = ops.fop;
                }
                _ => bindings::init_special_inode(inode, mode, (*real).i_rdev),
            }
        }
        let rs = self.rs();
        // INVARIANT: the inode is new and ours alone (`&mut`): `lowers`
        // may be written, and `upper`, NULL since `alloc_union_inode`,
        // takes over the reference `upper` held.
        *rs.lowers.get_mut() = lowers;
        if let Some(upper) = upper {
            *rs.upper.get_mut() = ARef::into_raw(upper).as_ptr().cast();
        }
        Ok(())
    }

    /// Makes the inode visible to other lookups.
    pub(crate) fn unlock(self) -> ARef<Inode> {
        let this = core::mem::ManuallyDrop::new(self);
        if this.hashed {
            // SAFETY: the inode came from `iget5_locked` as `I_NEW`.
            unsafe { bindings::unlock_new_inode(this.inode.as_ptr()) };
        }
        // SAFETY: we own the reference `iget5_locked`/`new_inode` gave.
        unsafe { ARef::from_raw(this.inode.cast()) }
    }
}

impl Drop for NewInode {
    fn drop(&mut self) {
        // SAFETY: setting up failed: give the new inode back, unhashing it
        // if it was hashed, so that a later lookup starts afresh.
        unsafe {
            if self.hashed {
                bindings::iget_failed(self.inode.as_ptr());
            } else {
                bindings::iput(self.inode.as_ptr());
            }
        }
    }
}

/// An inode locked by [`Inode::lock`]; unlocked on drop.
pub(crate) struct InodeLock<'a>(&'a Inode);

impl InodeLock<'_> {
    /// The inode this guard holds locked.
    pub(crate) fn inode(&self) -> &Inode {
        self.0
    }
}

impl Drop for InodeLock<'_> {
    fn drop(&mut self) {
        // SAFETY: `Inode::lock` locked this inode, and only this guard
        // unlocks it, once.
        unsafe { bindings::inode_unlock(self.0.as_ptr()) };
    }
}

/// The operation tables for one kind of union inode.
///
/// # Invariants
///
/// `iop` points to one of the `static` inode tables of `ops.rs`, and `fop`
/// to one of its file tables or is NULL: only `ops_for_mode` makes one,
/// and [`NewInode::init`] installs them on an inode.
pub(crate) struct InodeOps {
    pub(super) iop: *const bindings::inode_operations,
    pub(super) fop: *const bindings::file_operations,
}

/// What looking up a union inode for a real one found.
pub(crate) enum Iget {
    /// Already in the inode cache, set up.
    Cached(ARef<Inode>),
    /// New: the caller sets it up.
    New(NewInode),
}

impl UnionSb {
    /// The union inode standing for real inode `real`: non-directories are
    /// hashed on their real inode, so hard links and dcache misses find one
    /// union inode per real object.
    pub(crate) fn iget_for_real(&self, real: &Inode) -> Result<Iget> {
        let key = real.as_ptr() as usize;
        // SAFETY: `self` is a live superblock; the callbacks match the data.
        let inode = unsafe {
            bindings::iget5_locked(
                self.as_ptr(),
                key as _,
                Some(inode_test),
                Some(inode_set),
                key as *mut ffi::c_void,
            )
        };
        let inode = NonNull::new(inode).ok_or(ENOMEM)?;
        // SAFETY: `iget5_locked` returned a referenced inode.
        if unsafe { (*inode.as_ptr()).i_state } & bindings::I_NEW as u32 != 0 {
            Ok(Iget::New(NewInode {
                inode,
                hashed: true,
            }))
        } else {
            // SAFETY: we own the reference `iget5_locked` gave.
            Ok(Iget::Cached(unsafe { ARef::from_raw(inode.cast()) }))
        }
    }

    /// A new, unhashed union inode (directories: one per union dentry).
    pub(crate) fn new_union_inode(&self) -> Result<NewInode> {
        // SAFETY: `self` is a live superblock.
        let inode = unsafe { bindings::new_inode(self.as_ptr()) };
        let inode = NonNull::new(inode).ok_or(ENOMEM)?;
        Ok(NewInode {
            inode,
            hashed: false,
        })
    }
}

use kernel::ffi;

/// # Safety
/// Called by `iget5_locked` with one of our inodes and the key.
unsafe extern "C" fn inode_test(inode: *mut bindings::inode, key: *mut ffi::c_void) -> ffi::c_int {
    // SAFETY: every inode of our superblock is an `RsInode`; `real_key`
    // is set under `inode_hash_lock` before the inode is hashed.
    let real = unsafe { *(*inode.cast::<RsInode>()).real_key.get() };
    (real == key as usize) as ffi::c_int
}

/// # Safety
/// Called by `iget5_locked` with a new inode of ours, under its hash lock.
unsafe extern "C" fn inode_set(inode: *mut bindings::inode, key: *mut ffi::c_void) -> ffi::c_int {
    // SAFETY: every inode of our superblock is an `RsInode`, and this one
    // is new: `iget5_locked` hashes it only after `inode_set` returns.
    // INVARIANT: `real_key` is written before the inode is hashed.
    unsafe { *(*inode.cast::<RsInode>()).real_key.get() = key as usize };
    0
}

/// `super_operations.alloc_inode`: an `RsInode` around the VFS inode.
///
/// # Safety
/// Called by the VFS for one of our superblocks.
pub(crate) unsafe extern "C" fn alloc_union_inode(
    _sb: *mut bindings::super_block,
) -> *mut bindings::inode {
    let init = pin_init!(RsInode {
        vfs_inode: Inode(Opaque::uninit()),
        upper: AtomicPtr::new(core::ptr::null_mut()),
        lowers: UnsafeCell::new(KVec::new()),
        real_key: UnsafeCell::new(0),
        copy_up_lock <- new_mutex!(()),
        listing <- new_mutex!(crate::readdir::SharedListing::default()),
        lower_names: OnceBox::new(),
        lookups: AtomicU32::new(0),
        upper_has_no_wh: AtomicBool::new(false),
    });
    match KBox::pin_init(init, GFP_KERNEL) {
        Ok(rs) => {
            // SAFETY: the inode never moves: `free_union_inode` frees it
            // where it is.
            let rs = KBox::into_raw(unsafe { Pin::into_inner_unchecked(rs) });
            // SAFETY: `rs` is live; `inode_init_once` initialises the
            // embedded inode, once per allocation, before the VFS sees it.
            unsafe {
                let inode = (*rs).vfs_inode.as_ptr();
                bindings::inode_init_once(inode);
                inode
            }
        }
        Err(_) => core::ptr::null_mut(),
    }
}

/// `super_operations.destroy_inode`: drops the references to the real
/// objects, which may sleep (dput), so it is not left to `free_inode`, an
/// RCU callback. The stack's memory stays until `free_inode`: a path walk
/// in RCU mode may still be reading it, as it may the dentries themselves,
/// which the dcache frees after a grace period too.
///
/// # Safety
/// Called by the VFS once, for one of our inodes with no users left.
pub(crate) unsafe extern "C" fn destroy_union_inode(inode: *mut bindings::inode) {
    // No open file is left to share the listing: it is dropped here, in
    // process context, not in the RCU callback, as are the learned lower
    // names. The references are dropped here and never again (see
    // `free_union_inode`); the pointers stay.
    // SAFETY: ours, and no reference to it remains but RCU readers, which
    // only read, and never the lower names (only `lookup` does, which
    // needs a reference): `&mut` to that field is ours alone.
    unsafe {
        let rs = inode.cast::<RsInode>();
        crate::readdir::forget_listing(&*rs);
        (*rs).lower_names.clear();
        let upper = (*rs).upper.load(Ordering::Acquire);
        if let Some(upper) = NonNull::new(upper) {
            drop(Dentry::from_owned(upper.cast()));
        }
        let lowers = (*rs).lowers.get();
        let base = (*lowers).as_ptr().cast_mut();
        for i in 0..(*lowers).len() {
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*base.add(i)).dentry));
        }
    }
}

/// `super_operations.free_inode`: frees the memory after an RCU grace
/// period.
///
/// # Safety
/// Called by the VFS once, after `destroy_union_inode`.
pub(crate) unsafe extern "C" fn free_union_inode(inode: *mut bindings::inode) {
    // SAFETY: `alloc_union_inode` made this with `KBox::into_raw`; the
    // stack's elements were dropped by `destroy_union_inode`, so only its
    // memory is freed here.
    unsafe {
        let rs = KBox::from_raw(inode.cast::<RsInode>());
        (*rs.lowers.get()).set_len(0);
        drop(rs);
    }
}
