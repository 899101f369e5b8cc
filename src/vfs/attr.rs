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

/// The inode flags a union inode takes from its real one (overlayfs's
/// `OVL_COPY_I_FLAGS_MASK`): what the VFS itself enforces on it.
pub(crate) const COPIED_I_FLAGS: u32 =
    bindings::S_SYNC | bindings::S_NOATIME | bindings::S_APPEND | bindings::S_IMMUTABLE;

/// Of those, the protection flags: kept in the upper object's
/// `overlay.protattr` xattr, never on the object itself, whose directory
/// would refuse the union its own work (overlayfs's
/// `OVL_PROT_I_FLAGS_MASK`).
pub(crate) const PROTECTION_I_FLAGS: u32 = bindings::S_APPEND | bindings::S_IMMUTABLE;

/// The `chattr` flags a copy-up carries to the upper object itself
/// (overlayfs's `OVL_COPY_FS_FLAGS_MASK`).
const COPIED_FS_FLAGS: u32 = bindings::FS_SYNC_FL | bindings::FS_NOATIME_FL;
/// The same, as FS_IOC_FSGETXATTR's flags (`OVL_COPY_FSX_FLAGS_MASK`).
const COPIED_FS_XFLAGS: u32 = bindings::FS_XFLAG_SYNC | bindings::FS_XFLAG_NOATIME;

/// Inode flags attributes `chattr` sets (`struct fileattr`), in both the
/// FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR forms.
#[repr(transparent)]
pub(crate) struct FileAttr(pub(super) bindings::fileattr);

impl FileAttr {
    /// # Safety
    /// `ptr` is a live `fileattr` that nothing else uses for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fileattr) -> &'a mut Self {
        // SAFETY: `FileAttr` is a transparent `fileattr`; the caller gives
        // us `ptr` alone for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    /// A request to read the FS_IOC_GETFLAGS form.
    pub(crate) fn flags_only() -> Self {
        let mut fa = bindings::fileattr::default();
        fa.set_flags_valid(true);
        Self(fa)
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::fileattr {
        &mut self.0
    }

    /// The protection flags these attributes set, as inode flags.
    pub(crate) fn protection(&self) -> u32 {
        let mut flags = 0;
        if self.0.flags & bindings::FS_APPEND_FL != 0 {
            flags |= bindings::S_APPEND;
        }
        if self.0.flags & bindings::FS_IMMUTABLE_FL != 0 {
            flags |= bindings::S_IMMUTABLE;
        }
        flags
    }

    /// Adds protection inode flags `flags` to these attributes.
    pub(crate) fn add_protection(&mut self, flags: u32) {
        if flags & bindings::S_APPEND != 0 {
            self.0.flags |= bindings::FS_APPEND_FL;
            self.0.fsx_xflags |= bindings::FS_XFLAG_APPEND;
        }
        if flags & bindings::S_IMMUTABLE != 0 {
            self.0.flags |= bindings::FS_IMMUTABLE_FL;
            self.0.fsx_xflags |= bindings::FS_XFLAG_IMMUTABLE;
        }
    }

    /// Takes the protection flags out of these attributes.
    pub(crate) fn clear_protection(&mut self) {
        self.0.flags &= !(bindings::FS_APPEND_FL | bindings::FS_IMMUTABLE_FL);
        self.0.fsx_xflags &= !(bindings::FS_XFLAG_APPEND | bindings::FS_XFLAG_IMMUTABLE);
    }

    /// Whether these attributes set flags a copy-up carries to the upper
    /// object itself (overlayfs's `OVL_COPY_FS_FLAGS_MASK`).
    pub(crate) fn has_copied_flags(&self) -> bool {
        self.0.flags & COPIED_FS_FLAGS != 0
    }

    /// These attributes with `from`'s synchronous and no-atime flags.
    pub(crate) fn take_copied_flags(&mut self, from: &FileAttr) {
        self.0.flags = (self.0.flags & !COPIED_FS_FLAGS) | (from.0.flags & COPIED_FS_FLAGS);
        self.0.fsx_xflags =
            (self.0.fsx_xflags & !COPIED_FS_XFLAGS) | (from.0.fsx_xflags & COPIED_FS_XFLAGS);
    }
}

/// The extents a FIEMAP ioctl asks for (`struct fiemap_extent_info`),
/// filled by the filesystem that maps them.
///
/// # Invariants
/// Wraps the info of an FS_IOC_FIEMAP in progress, whose extents go to
/// that ioctl's user buffer.
#[repr(transparent)]
pub(crate) struct FiemapInfo(bindings::fiemap_extent_info);

impl FiemapInfo {
    /// # Safety
    /// `ptr` is the ioctl's, live and used by nothing else for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fiemap_extent_info) -> &'a mut Self {
        // SAFETY: transparent wrapper; the caller gives us `ptr` alone.
        unsafe { &mut *ptr.cast() }
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::fiemap_extent_info {
        &mut self.0
    }
}
