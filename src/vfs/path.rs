// SPDX-License-Identifier: GPL-2.0

//! `struct path` and private mounts (linux/path.h, linux/namei.h,
//! linux/mount.h).

use super::{bindings, Dentry, Kstat, Kstatfs};
use core::ptr::NonNull;
use kernel::{error::from_err_ptr, error::to_result, ffi, prelude::*, str::CStr, types::Opaque};

/// How a mount maps ids between its users and its filesystem (`struct
/// mnt_idmap`); borrowed from the mount, which pins it.
#[repr(transparent)]
pub(crate) struct MntIdmap(Opaque<bindings::mnt_idmap>);

impl MntIdmap {
    /// # Safety
    /// `ptr` is a live idmap for `'a` (one a live mount holds, or one the
    /// VFS passes to a callback for the call).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::mnt_idmap) -> &'a Self {
        // SAFETY: `MntIdmap` is a transparent `mnt_idmap`, live for `'a`
        // per the caller.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::mnt_idmap {
        self.0.get()
    }
}

/// A mount and a dentry on it, each with a reference (path_get/path_put).
pub(crate) struct Path(bindings::path);

// SAFETY: a `path` is two refcounted kernel objects usable from any thread.
unsafe impl Send for Path {}
// SAFETY: `&Path` only reads the two pointers.
unsafe impl Sync for Path {}

impl Path {
    /// Resolves `name` as the current task sees it (its cwd and root),
    /// following symlinks.
    pub(crate) fn lookup(name: &CStr) -> Result<Self> {
        let mut path = bindings::path::default();
        // SAFETY: `name` is a C string; on success `path` holds references.
        to_result(unsafe {
            bindings::kern_path(name.as_char_ptr(), bindings::LOOKUP_FOLLOW, &mut path)
        })?;
        Ok(Self(path))
    }

    /// Records an access as the mount's options and the inode's times say
    /// (`touch_atime`).
    pub(crate) fn touch_atime(&self) {
        // SAFETY: `self` holds references to its mount and dentry.
        unsafe { bindings::touch_atime(&self.0) }
    }

    /// `O_NOATIME` where the current task may open the object so (its
    /// owner, or `CAP_FOWNER`, as open(2) checks), else 0. Real files are
    /// opened so where they can: the union records accesses on its own
    /// inode, by its own atime options (overlayfs's `ovl_path_open`).
    pub(crate) fn noatime_flag(&self) -> u32 {
        // SAFETY: `self` holds references to its mount, which pins the
        // idmap, and to its dentry, positive for any path opened.
        let may = unsafe {
            let inode = bindings::d_inode(self.0.dentry);
            !inode.is_null()
                && bindings::inode_owner_or_capable(bindings::mnt_idmap(self.0.mnt), inode)
        };
        if may {
            bindings::O_NOATIME
        } else {
            0
        }
    }

    /// A path on `mnt` for `dentry`, taking a reference to both.
    pub(crate) fn new(mnt: &PrivateMount, dentry: &Dentry) -> Self {
        let path = bindings::path {
            mnt: mnt.0.as_ptr(),
            dentry: dentry.as_ptr(),
        };
        // SAFETY: both are live; `path_get` takes a reference on each.
        unsafe { bindings::path_get(&path) };
        Self(path)
    }

    pub(crate) fn as_ptr(&self) -> *const bindings::path {
        &self.0
    }

    /// The path's name as the current task sees it (`d_path`).
    pub(crate) fn name(&self) -> Result<KVec<u8>> {
        // PATH_MAX, which is a page.
        let size = kernel::page::PAGE_SIZE;
        let mut buf = KVec::from_elem(0u8, size, GFP_KERNEL)?;
        // SAFETY: `self` is live; `buf` holds `size` writable bytes.
        let name = from_err_ptr(unsafe {
            bindings::d_path(&self.0, buf.as_mut_ptr().cast(), size as ffi::c_int)
        })?;
        // `d_path` writes the name, NUL-terminated, at the end of `buf`.
        let start = (name as usize).wrapping_sub(buf.as_ptr() as usize);
        let mut out = KVec::new();
        out.extend_from_slice(buf.get(start..size - 1).ok_or(EIO)?, GFP_KERNEL)?;
        Ok(out)
    }

    pub(crate) fn dentry(&self) -> &Dentry {
        // SAFETY: `self` holds a reference to the dentry.
        unsafe { Dentry::from_raw(self.0.dentry) }
    }

    /// `statfs` of the filesystem this path is on.
    pub(crate) fn statfs(&self, buf: &mut Kstatfs) -> Result {
        // SAFETY: `self` holds references to its mount and dentry; `buf`
        // is a `kstatfs` borrowed mutably, so writable and ours alone.
        to_result(unsafe { bindings::vfs_statfs(&self.0, &mut buf.0) })
    }

    /// May the current credentials access the object at this path with
    /// `mask` (`MAY_*`)?
    pub(crate) fn permission(&self, mask: i32) -> Result {
        let inode = self.dentry().inode().ok_or(ENOENT)?;
        // SAFETY: `self` holds a reference to its mount, which pins its
        // idmap for as long as `self` is borrowed.
        let idmap = unsafe { MntIdmap::from_raw(bindings::mnt_idmap(self.0.mnt)) };
        inode.permission(idmap, mask)
    }

    /// The mount's superblock, to tell whether two paths share a filesystem.
    pub(crate) fn super_block(&self) -> &super::SuperBlock {
        // SAFETY: `self` holds a reference to the mount, and a mount keeps
        // its superblock alive: it outlives the returned borrow of `self`.
        unsafe { super::SuperBlock::from_raw((*self.0.mnt).mnt_sb) }
    }

    /// Is the mount read-only (the mount, or its filesystem)?
    pub(crate) fn is_read_only(&self) -> bool {
        // SAFETY: `self` holds a reference to the mount.
        unsafe { bindings::__mnt_is_readonly(self.0.mnt) }
    }

    /// The `statfs` type of the filesystem the path is on (`s_magic`).
    pub(crate) fn fs_magic(&self) -> ffi::c_ulong {
        // SAFETY: `self` holds a reference to the mount, which pins its
        // superblock.
        unsafe { (*(*self.0.mnt).mnt_sb).s_magic }
    }

    /// Are both paths on one mount (not merely one filesystem)?
    pub(crate) fn same_mount(&self, other: &Path) -> bool {
        self.0.mnt == other.0.mnt
    }

    /// Is `self` at or below `other` (same mount, dentry descendant)?
    pub(crate) fn is_within(&self, other: &Path) -> bool {
        // SAFETY: both paths hold references to their dentries.
        self.0.mnt == other.0.mnt && unsafe { bindings::is_subdir(self.0.dentry, other.0.dentry) }
    }

    /// A private clone of this path's mount, rooted at its dentry: later
    /// changes to the caller's mount tree do not move a layer.
    pub(crate) fn clone_private_mount(&self) -> Result<PrivateMount> {
        // SAFETY: `self` is a live path.
        let mnt = from_err_ptr(unsafe { bindings::clone_private_mount(&self.0) })?;
        NonNull::new(mnt).map(PrivateMount).ok_or(ENOMEM)
    }
}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to the mount and the dentry.
        unsafe { bindings::path_put(&self.0) };
    }
}

/// A mount made by `clone_private_mount`, unmounted on drop.
#[repr(transparent)]
pub(crate) struct PrivateMount(NonNull<bindings::vfsmount>);

// SAFETY: a vfsmount is a refcounted kernel object usable from any thread.
unsafe impl Send for PrivateMount {}
// SAFETY: `&PrivateMount` only reads immutable fields.
unsafe impl Sync for PrivateMount {}

impl PrivateMount {
    pub(crate) fn as_ptr(&self) -> *mut bindings::vfsmount {
        self.0.as_ptr()
    }

    /// Changes the mount's flags (`MNT_*`), before anyone uses it.
    pub(crate) fn set_flags(&mut self, set: u32, clear: u32) {
        // SAFETY: the mount was just cloned and is ours alone (`&mut`).
        unsafe {
            let flags = &mut (*self.0.as_ptr()).mnt_flags;
            *flags = (*flags | set as i32) & !(clear as i32);
        }
    }

    /// The mount's root dentry (the layer's directory).
    pub(crate) fn root(&self) -> &Dentry {
        // SAFETY: a mount holds a reference to its root while it lives.
        unsafe { Dentry::from_raw((*self.0.as_ptr()).mnt_root) }
    }

    /// `stat` of `dentry` on this mount. A stacked getattr called by the
    /// VFS without the security check (`AT_GETATTR_NOSEC`) passes that on.
    /// No `Path` is made: the union's `stat`, the hottest call there is,
    /// takes no references, as overlayfs's `ovl_path_real` takes none.
    pub(crate) fn getattr(
        &self,
        dentry: &Dentry,
        stat: &mut Kstat,
        request_mask: u32,
        flags: u32,
    ) -> Result {
        let path = bindings::path {
            mnt: self.0.as_ptr(),
            dentry: dentry.as_ptr(),
        };
        let stat = &mut stat.0;
        // SAFETY: `self` owns the mount and the caller holds `dentry` for
        // the call: both outlive it; `stat` is borrowed mutably, so
        // writable and ours alone.
        to_result(unsafe {
            if flags & bindings::AT_GETATTR_NOSEC != 0 {
                bindings::vfs_getattr_nosec(&path, stat, request_mask, flags)
            } else {
                bindings::vfs_getattr(&path, stat, request_mask, flags)
            }
        })
    }

    /// The mount's idmap, pinned by the mount.
    pub(crate) fn idmap(&self) -> &MntIdmap {
        // The field, not the `mnt_idmap()` wrapper call: every permission
        // check reads it. A private clone's idmap is set before the clone
        // is returned and never changes.
        // SAFETY: `self` owns the mount, which holds its idmap until it is
        // unmounted on drop, after the returned borrow of `self` ends.
        unsafe { MntIdmap::from_raw((*self.0.as_ptr()).mnt_idmap) }
    }

    /// Writes back and waits for everything of the mount's filesystem.
    pub(crate) fn sync_filesystem(&self) -> Result {
        // SAFETY: the mount is live and pins its superblock.
        kernel::error::to_result(unsafe {
            bindings::rsunion_sync_filesystem((*self.0.as_ptr()).mnt_sb)
        })
    }
}

/// Unmounts every mount of `mounts` after one RCU grace period for all
/// (`kern_unmount_array`, as overlayfs unmounts its layers): dropping them
/// one by one waits a grace period each, seconds for a union of 500
/// layers.
pub(crate) fn unmount_all(mut mounts: KVec<PrivateMount>) {
    let Ok(count) = u32::try_from(mounts.len()) else {
        return;
    };
    // `set_len(0)` forgets the mounts, so that no `Drop` unmounts them
    // again.
    // SAFETY: `PrivateMount` is a transparent `NonNull<vfsmount>`: the
    // vector is `count` mounts `clone_private_mount` gave us to unmount.
    unsafe {
        bindings::kern_unmount_array(mounts.as_mut_ptr().cast(), count);
        mounts.set_len(0);
    }
}

impl Drop for PrivateMount {
    fn drop(&mut self) {
        // SAFETY: `clone_private_mount` gave us this mount to unmount once.
        unsafe { bindings::kern_unmount(self.0.as_ptr()) };
    }
}
