// SPDX-License-Identifier: GPL-2.0

//! `struct dentry` (linux/dcache.h, linux/namei.h).

use super::{bindings, errno, Inode};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// A directory entry; `ARef<Dentry>` owns one reference (dget/dput).
#[repr(transparent)]
pub(crate) struct Dentry(Opaque<bindings::dentry>);

// SAFETY: `dget` and `dput` keep the object alive; the refcount is atomic.
unsafe impl AlwaysRefCounted for Dentry {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live dentry, so taking a reference is valid.
        unsafe { bindings::dget(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a reference it owns.
        unsafe { bindings::dput(obj.as_ptr().cast()) };
    }
}

// SAFETY: dentries are refcounted kernel objects usable from any thread.
unsafe impl Send for Dentry {}
// SAFETY: `&Dentry` methods use the dcache's own locking.
unsafe impl Sync for Dentry {}

impl Dentry {
    /// # Safety
    /// `ptr` is a live dentry for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Self {
        // SAFETY: transparent wrapper over a live dentry.
        unsafe { &*ptr.cast() }
    }

    /// Takes ownership of a reference the caller holds.
    ///
    /// # Safety
    /// `ptr` is a live dentry and the caller gives up one reference to it.
    pub(crate) unsafe fn from_owned(ptr: NonNull<bindings::dentry>) -> ARef<Self> {
        // SAFETY: per this function's contract.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// The inode, or `None` for a negative dentry.
    pub(crate) fn inode(&self) -> Option<&Inode> {
        // SAFETY: a referenced positive dentry keeps its inode.
        let inode = unsafe { bindings::d_inode(self.as_ptr()) };
        // SAFETY: non-NULL `d_inode` is live as long as `self`.
        (!inode.is_null()).then(|| unsafe { Inode::from_raw(inode) })
    }

    pub(crate) fn is_negative(&self) -> bool {
        // SAFETY: `self` is live.
        unsafe { bindings::d_is_negative(self.as_ptr()) }
    }

    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: `self` is live.
        unsafe { bindings::d_is_dir(self.as_ptr()) }
    }

    /// An overlayfs-format whiteout: a char device 0/0.
    pub(crate) fn is_whiteout(&self) -> bool {
        self.inode().is_some_and(|i| i.is_whiteout())
    }

    /// The entry's name. Stable while the caller holds the parent's lock or
    /// the dentry cannot be renamed (layers are not renamed under us).
    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: `d_name` of a live dentry points to `len` bytes.
        unsafe {
            let qstr = &(*self.as_ptr()).d_name;
            core::slice::from_raw_parts(qstr.name, qstr.__bindgen_anon_1.__bindgen_anon_1.len as usize)
        }
    }

    /// Looks `name` up in this directory, taking its lock: the result may be
    /// negative.
    pub(crate) fn lookup_unlocked(
        &self,
        idmap: *mut bindings::mnt_idmap,
        name: &[u8],
    ) -> Result<ARef<Dentry>> {
        let len = i32::try_from(name.len()).map_err(|_| errno::enametoolong())?;
        // SAFETY: `self` is a live directory dentry; `name` is `len` bytes;
        // `idmap` is its mount's idmap.
        let d = from_err_ptr(unsafe {
            bindings::lookup_one_unlocked(idmap, name.as_ptr(), self.as_ptr(), len)
        })?;
        // SAFETY: a successful lookup returns a referenced dentry.
        NonNull::new(d).map(|d| unsafe { Dentry::from_owned(d) }).ok_or(ENOENT)
    }

    /// Reads extended attribute `name` into `buf`; `Ok(None)` when absent.
    pub(crate) fn getxattr(
        &self,
        idmap: *mut bindings::mnt_idmap,
        name: &kernel::str::CStr,
        buf: &mut [u8],
    ) -> Result<Option<usize>> {
        // SAFETY: `self` is live; `buf` is writable for its length.
        let ret = unsafe {
            bindings::vfs_getxattr(
                idmap,
                self.as_ptr(),
                name.as_char_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if ret >= 0 {
            return Ok(Some(ret as usize));
        }
        match Error::from_errno(ret as i32) {
            e if e == errno::enodata() || e == errno::eopnotsupp() => Ok(None),
            e => Err(e),
        }
    }
}
