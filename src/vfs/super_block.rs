// SPDX-License-Identifier: GPL-2.0

//! `struct super_block` (linux/fs.h).

use super::bindings;
use kernel::{error::from_err_ptr, prelude::*, types::Opaque};

/// A superblock being filled or mounted.
#[repr(transparent)]
pub(crate) struct SuperBlock(Opaque<bindings::super_block>);

impl SuperBlock {
    /// # Safety
    /// `ptr` is a live `super_block` for the returned lifetime, and the
    /// caller may change its fields (it is being filled, under `s_umount`).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `SuperBlock` is a transparent wrapper; `ptr` is live.
        unsafe { &*ptr.cast() }
    }

    /// Sets what `statfs` reports as `f_type` and marks the superblock
    /// read-only.
    pub(crate) fn init_read_only(&self, magic: ffi::c_ulong) {
        let sb = self.0.get();
        // SAFETY: the superblock is being filled: nothing else reads these
        // fields yet.
        unsafe {
            (*sb).s_magic = magic;
            (*sb).s_flags |= bindings::SB_RDONLY;
            (*sb).s_op = &SIMPLE_SUPER_OPS;
        }
    }

    /// Gives the superblock an empty root directory served by libfs.
    pub(crate) fn make_empty_root(&self) -> Result {
        let sb = self.0.get();
        // SAFETY: `sb` is live; `new_inode` returns a new inode or NULL.
        let inode = unsafe { bindings::new_inode(sb) };
        if inode.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `inode` is new and ours; `d_make_root` consumes the
        // reference (and puts it on failure); the libfs operation tables
        // are static.
        unsafe {
            (*inode).i_ino = 1;
            (*inode).i_mode = (bindings::S_IFDIR | 0o755) as bindings::umode_t;
            (*inode).i_op = core::ptr::addr_of!(bindings::simple_dir_inode_operations);
            (*inode).__bindgen_anon_3.i_fop = core::ptr::addr_of!(bindings::simple_dir_operations);
            bindings::simple_inode_init_ts(inode);
            bindings::set_nlink(inode, 2);
            let root = from_err_ptr(bindings::d_make_root(inode))?;
            if root.is_null() {
                return Err(ENOMEM);
            }
            (*sb).s_root = root;
        }
        Ok(())
    }
}

use kernel::ffi;

const SIMPLE_SUPER_OPS: bindings::super_operations = bindings::super_operations {
    statfs: Some(bindings::simple_statfs),
    drop_inode: Some(bindings::generic_delete_inode),
    // SAFETY: all-zero is a valid `super_operations`: every field is an
    // optional function pointer.
    ..unsafe { core::mem::zeroed() }
};
