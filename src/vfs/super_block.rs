// SPDX-License-Identifier: GPL-2.0

//! `struct super_block` (linux/fs.h).

use super::{bindings, ops, Inode};
use kernel::{
    error::from_err_ptr,
    ffi,
    prelude::*,
    types::{ARef, Opaque},
};

/// A superblock: the union's own, or a layer's, to read only. A union's
/// inodes are made through its [`UnionSb`], which only `fill_super` and the
/// union's own inodes hand out.
#[repr(transparent)]
pub(crate) struct SuperBlock(Opaque<bindings::super_block>);

/// An rsunion superblock: the union's inodes are made here.
///
/// # Invariants
/// The superblock's `s_op` is `SUPER_OPS`: its inodes are `RsInode`s.
#[repr(transparent)]
pub(crate) struct UnionSb(SuperBlock);

/// A superblock `fill_super` is filling: only it may be set up as a union.
///
/// # Invariants
/// The superblock is new, held under `s_umount` by `get_tree_nodev`, and
/// not yet reachable by anyone else.
#[repr(transparent)]
pub(crate) struct NewSuperBlock(SuperBlock);

impl core::ops::Deref for UnionSb {
    type Target = SuperBlock;

    fn deref(&self) -> &SuperBlock {
        &self.0
    }
}

impl UnionSb {
    /// # Safety
    /// `sb` is a union superblock: its `s_op` is `SUPER_OPS`.
    pub(crate) unsafe fn from_super_block(sb: &SuperBlock) -> &Self {
        // SAFETY: transparent wrappers.
        // INVARIANT: the caller guarantees `s_op`.
        unsafe { &*(sb as *const SuperBlock).cast::<Self>() }
    }
}

impl NewSuperBlock {
    /// # Safety
    /// `ptr` is a superblock `get_tree_nodev` passed to `fill_super`, for
    /// the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: transparent wrappers; `ptr` is live and new.
        unsafe { &*ptr.cast() }
    }

    /// Sets up a union superblock being filled: its operations, what
    /// `statfs` reports as `f_type`, how deep it stacks on other
    /// filesystems, whether it is read-only, and whether it keeps
    /// `S_NOSEC` (see `keeps_nosec`).
    pub(crate) fn init_union(
        &self,
        magic: ffi::c_ulong,
        stack_depth: i32,
        maxbytes: i64,
        read_only: bool,
        nosec: bool,
    ) -> &UnionSb {
        let sb = self.0.as_ptr();
        // SAFETY: the superblock is being filled under `s_umount`: nothing
        // else reads these fields yet.
        unsafe {
            (*sb).s_magic = magic;
            (*sb).s_op = &ops::SUPER_OPS.0;
            (*sb).s_xattr = super::xattr::HANDLERS.as_ptr();
            (*sb).s_stack_depth = stack_depth;
            (*sb).s_maxbytes = maxbytes;
            (*sb).s_time_gran = 1;
            (*sb).s_iflags |= bindings::SB_I_SKIP_SYNC as usize;
            // POSIX ACLs of the real objects count for the union's.
            (*sb).s_flags |= bindings::SB_POSIXACL;
            if read_only {
                (*sb).s_flags |= bindings::SB_RDONLY;
            }
            if nosec {
                (*sb).s_flags |= bindings::SB_NOSEC;
            }
        }
        // SAFETY: `s_op` was just set to `SUPER_OPS`.
        unsafe { UnionSb::from_super_block(&self.0) }
    }

    /// Makes `inode` the root directory.
    pub(crate) fn set_root(&self, inode: ARef<Inode>) -> Result {
        let inode = ARef::into_raw(inode).as_ptr().cast::<bindings::inode>();
        // SAFETY: `d_make_root` consumes the inode reference, also on
        // failure; the superblock is being filled.
        unsafe {
            let root = from_err_ptr(bindings::d_make_root(inode))?;
            if root.is_null() {
                return Err(ENOMEM);
            }
            (*self.0.as_ptr()).s_root = root;
        }
        Ok(())
    }
}

impl SuperBlock {
    /// # Safety
    /// `ptr` is a live `super_block` for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `SuperBlock` is a transparent wrapper; `ptr` is live.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The device number `stat` reports for objects of this superblock.
    pub(crate) fn dev(&self) -> bindings::dev_t {
        // SAFETY: `s_dev` is set when the superblock is created.
        unsafe { (*self.as_ptr()).s_dev }
    }

    /// How deep this superblock stacks on others (`s_stack_depth`).
    pub(crate) fn stack_depth(&self) -> i32 {
        // SAFETY: a `SuperBlock` reference is to a live superblock (see
        // `from_raw`); `s_stack_depth` is set before it is mounted.
        unsafe { (*self.as_ptr()).s_stack_depth }
    }

    /// The largest file size this superblock allows.
    pub(crate) fn max_bytes(&self) -> i64 {
        // SAFETY: a `SuperBlock` reference is to a live superblock (see
        // `from_raw`); `s_maxbytes` is set before it is mounted.
        unsafe { (*self.as_ptr()).s_maxbytes }
    }

    /// Whether the filesystem keeps `S_NOSEC` on its inodes up to date
    /// (`SB_NOSEC`): a write then skips the check for privileges to drop
    /// on inodes that have none.
    pub(crate) fn keeps_nosec(&self) -> bool {
        // SAFETY: as `max_bytes`; `SB_NOSEC` is set before it is mounted.
        unsafe { (*self.as_ptr()).s_flags & bindings::SB_NOSEC != 0 }
    }
}
