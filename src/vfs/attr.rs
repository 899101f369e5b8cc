// SPDX-License-Identifier: GPL-2.0

//! The attribute records the VFS hands a filesystem to fill or apply:
//! `struct kstat` (stat), `struct kstatfs` (statfs) and `struct iattr`
//! (setattr), each behind a wrapper that shows only the fields the union
//! touches.

use super::{bindings, DevT};
use kernel::ffi;

/// What `stat` reports (`struct kstat`), being filled.
#[repr(transparent)]
pub(crate) struct Kstat(pub(super) bindings::kstat);

impl Kstat {
    /// # Safety
    /// `ptr` is a live `kstat` that nothing else uses for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::kstat) -> &'a mut Self {
        // SAFETY: `Kstat` is a transparent `kstat`; the caller gives us
        // `ptr` alone for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    pub(crate) fn set_dev(&mut self, dev: DevT) {
        self.0.dev = dev;
    }

    pub(crate) fn set_ino(&mut self, ino: u64) {
        self.0.ino = ino;
    }

    pub(crate) fn set_nlink(&mut self, nlink: u32) {
        self.0.nlink = nlink;
    }
}

/// What `statfs` reports (`struct kstatfs`), being filled.
#[repr(transparent)]
pub(crate) struct Kstatfs(pub(super) bindings::kstatfs);

impl Kstatfs {
    /// # Safety
    /// `ptr` is a live `kstatfs` that nothing else uses for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::kstatfs) -> &'a mut Self {
        // SAFETY: `Kstatfs` is a transparent `kstatfs`; the caller gives us
        // `ptr` alone for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    /// Sets `f_type`, the filesystem's magic number.
    pub(crate) fn set_fs_type(&mut self, magic: ffi::c_ulong) {
        self.0.f_type = magic as _;
    }
}

/// The attribute changes of one setattr (`struct iattr`).
#[repr(transparent)]
pub(crate) struct Iattr(pub(super) bindings::iattr);

impl Iattr {
    /// # Safety
    /// `ptr` is a live `iattr` that nothing else uses for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::iattr) -> &'a mut Self {
        // SAFETY: `Iattr` is a transparent `iattr`; the caller gives us
        // `ptr` alone for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    /// A change that only asks for `valid` (`ATTR_*` bits carrying no
    /// value, such as `ATTR_KILL_SGID`).
    pub(crate) fn only(valid: u32) -> Self {
        Self(bindings::iattr {
            ia_valid: valid,
            ..Default::default()
        })
    }

    /// Which attributes change (`ATTR_*`).
    pub(crate) fn valid(&self) -> u32 {
        self.0.ia_valid
    }

    /// Drops `bits` from the attributes that change.
    pub(crate) fn clear_valid(&mut self, bits: u32) {
        self.0.ia_valid &= !bits;
    }
}
