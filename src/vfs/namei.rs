// SPDX-License-Identifier: GPL-2.0

//! Changing a real directory (fs/namei.c's exported operations): lock
//! guards that follow the VFS lock order, and the `vfs_*` namespace
//! operations on a locked directory.

use super::{bindings, errno, Dentry, DevT, MntIdmap, PrivateMount};
use kernel::{
    error::{from_err_ptr, to_result},
    prelude::*,
    str::CStr,
    types::ARef,
};

/// Write access to a mount while the guard lives (mnt_want_write).
pub(crate) struct MntWrite<'a>(&'a PrivateMount);

impl<'a> MntWrite<'a> {
    pub(crate) fn get(mnt: &'a PrivateMount) -> Result<Self> {
        // SAFETY: `mnt` is a live mount.
        to_result(unsafe { bindings::mnt_want_write(mnt.as_ptr()) })?;
        Ok(Self(mnt))
    }
}

impl Drop for MntWrite<'_> {
    fn drop(&mut self) {
        // SAFETY: `get` took write access on this mount.
        unsafe { bindings::mnt_drop_write(self.0.as_ptr()) };
    }
}

/// A real directory locked for changes in it (`inode_lock_nested`,
/// `I_MUTEX_PARENT`); the operations are those of [`DirOps`].
pub(crate) struct LockedDir<'a>(DirOps<'a>);

impl<'a> LockedDir<'a> {
    pub(crate) fn lock(dir: &'a Dentry, mnt: &'a PrivateMount) -> Result<Self> {
        Self::lock_as(dir, mnt, bindings::inode_i_mutex_lock_class_I_MUTEX_PARENT)
    }

    /// Locks a directory whose parent this task may hold locked already (a
    /// directory just made in it), as lockdep's nesting rules want.
    pub(crate) fn lock_child(dir: &'a Dentry, mnt: &'a PrivateMount) -> Result<Self> {
        Self::lock_as(dir, mnt, bindings::inode_i_mutex_lock_class_I_MUTEX_CHILD)
    }

    fn lock_as(dir: &'a Dentry, mnt: &'a PrivateMount, subclass: u32) -> Result<Self> {
        let inode = dir.inode().ok_or(ENOENT)?;
        // SAFETY: `inode` is a live directory inode.
        unsafe { bindings::inode_lock_nested(inode.as_ptr(), subclass) };
        Ok(Self(DirOps {
            dir,
            idmap: mnt.idmap(),
        }))
    }
}

impl<'a> core::ops::Deref for LockedDir<'a> {
    type Target = DirOps<'a>;

    fn deref(&self) -> &DirOps<'a> {
        &self.0
    }
}

impl Drop for LockedDir<'_> {
    fn drop(&mut self) {
        // SAFETY: `lock` locked this inode.
        unsafe { bindings::inode_unlock(self.0.dir_inode()) };
    }
}

/// The namespace operations on a real directory that a guard here
/// ([`LockedDir`], [`RenameLock`]) holds locked, with the idmap of its
/// layer's mount.
pub(crate) struct DirOps<'a> {
    dir: &'a Dentry,
    idmap: &'a MntIdmap,
}

impl<'a> DirOps<'a> {
    fn dir_inode(&self) -> *mut bindings::inode {
        // SAFETY: a locked directory dentry stays positive.
        unsafe { bindings::d_inode(self.dir.as_ptr()) }
    }

    /// The entry `name` in this directory, positive or negative.
    pub(crate) fn lookup(&self, name: &[u8]) -> Result<ARef<Dentry>> {
        // SAFETY: the guard holds the directory locked, as `lookup_one`
        // requires.
        unsafe { self.dir.lookup_with(bindings::lookup_one, self.idmap, name) }
    }

    pub(crate) fn create(&self, d: &Dentry, mode: u32) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its
        // child (checked); `vfs_create` refuses (EEXIST) a positive one.
        to_result(unsafe {
            bindings::vfs_create(
                self.idmap.as_ptr(),
                self.dir_inode(),
                d.as_ptr(),
                mode as _,
                true,
            )
        })
    }

    pub(crate) fn mkdir(&self, d: &Dentry, mode: u32) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its child
        // (checked); `vfs_mkdir` refuses (EEXIST)
        // a positive one.
        to_result(unsafe {
            bindings::vfs_mkdir(self.idmap.as_ptr(), self.dir_inode(), d.as_ptr(), mode as _)
        })
    }

    pub(crate) fn mknod(&self, d: &Dentry, mode: u32, dev: DevT) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its child
        // (checked); `vfs_mknod` refuses (EEXIST)
        // a positive one.
        to_result(unsafe {
            bindings::vfs_mknod(
                self.idmap.as_ptr(),
                self.dir_inode(),
                d.as_ptr(),
                mode as _,
                dev,
            )
        })
    }

    pub(crate) fn symlink(&self, d: &Dentry, target: &CStr) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its child
        // (checked); `vfs_symlink` refuses
        // (EEXIST) a positive one; `target` is a C string.
        to_result(unsafe {
            bindings::vfs_symlink(
                self.idmap.as_ptr(),
                self.dir_inode(),
                d.as_ptr(),
                target.as_char_ptr(),
            )
        })
    }

    /// Makes `d` an overlayfs-format whiteout (char device 0/0).
    pub(crate) fn whiteout(&self, d: &Dentry) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its child
        // (checked); `vfs_whiteout` refuses
        // (EEXIST) a positive one.
        to_result(unsafe {
            bindings::vfs_whiteout(self.idmap.as_ptr(), self.dir_inode(), d.as_ptr())
        })
    }

    /// Hard-links `old` (anywhere on this mount) as `d` here.
    pub(crate) fn link(&self, old: &Dentry, d: &Dentry) -> Result {
        self.holds(d)?;
        // SAFETY: `d` is a child of this locked directory (checked); `old`
        // is a live dentry; `vfs_link` refuses a negative `old`, a positive
        // `d`, and another mount's objects (EXDEV).
        to_result(unsafe {
            bindings::vfs_link(
                old.as_ptr(),
                self.idmap.as_ptr(),
                self.dir_inode(),
                d.as_ptr(),
                core::ptr::null_mut(),
            )
        })
    }

    /// Whether `d` is an entry of this directory: deleting anything else
    /// through it would trip `may_delete`'s BUG_ON, so it is refused here.
    fn holds(&self, d: &Dentry) -> Result {
        // SAFETY: `d` is live; its `d_parent` cannot change while this
        // directory, its parent if it is one of ours, is locked.
        let parent = unsafe { (*d.as_ptr()).d_parent };
        if core::ptr::eq(parent, self.dir.as_ptr()) {
            Ok(())
        } else {
            Err(errno::estale())
        }
    }

    /// Removes entry `d`: `rmdir` for a directory, else `unlink`.
    pub(crate) fn remove(&self, d: &Dentry) -> Result {
        if d.is_dir() {
            self.rmdir(d)
        } else {
            self.unlink(d)
        }
    }

    pub(crate) fn unlink(&self, d: &Dentry) -> Result {
        self.holds(d)?;
        // SAFETY: `d` is a child of this locked directory (`holds`);
        // `vfs_unlink` refuses a negative one.
        to_result(unsafe {
            bindings::vfs_unlink(
                self.idmap.as_ptr(),
                self.dir_inode(),
                d.as_ptr(),
                core::ptr::null_mut(),
            )
        })
    }

    pub(crate) fn rmdir(&self, d: &Dentry) -> Result {
        self.holds(d)?;
        // SAFETY: the guard holds this directory locked, and `d` is its
        // child (`holds`); `vfs_rmdir` refuses a negative one.
        to_result(unsafe { bindings::vfs_rmdir(self.idmap.as_ptr(), self.dir_inode(), d.as_ptr()) })
    }
}

/// Two real directories of one mount locked for a rename (`lock_rename`,
/// which orders the locks by ancestry).
pub(crate) struct RenameLock<'a> {
    old_dir: DirOps<'a>,
    new_dir: DirOps<'a>,
    trap: *mut bindings::dentry,
    idmap: &'a MntIdmap,
}

impl<'a> RenameLock<'a> {
    pub(crate) fn lock(
        old_dir: &'a Dentry,
        new_dir: &'a Dentry,
        mnt: &'a PrivateMount,
    ) -> Result<Self> {
        // SAFETY: both are live directories.
        let trap =
            from_err_ptr(unsafe { bindings::lock_rename(old_dir.as_ptr(), new_dir.as_ptr()) })?;
        let idmap = mnt.idmap();
        Ok(Self {
            old_dir: DirOps {
                dir: old_dir,
                idmap,
            },
            new_dir: DirOps {
                dir: new_dir,
                idmap,
            },
            trap,
            idmap,
        })
    }

    /// The source directory, locked.
    pub(crate) fn old_dir(&self) -> &DirOps<'a> {
        &self.old_dir
    }

    /// The target directory, locked.
    pub(crate) fn new_dir(&self) -> &DirOps<'a> {
        &self.new_dir
    }

    /// Renames `old` (in the old directory) to `new` (in the new one).
    /// Refuses to move a directory into itself: `lock_rename`'s trap.
    pub(crate) fn rename(&self, old: &Dentry, new: &Dentry, flags: u32) -> Result {
        if old.as_ptr() == self.trap || new.as_ptr() == self.trap {
            return Err(EINVAL);
        }
        let mut rd = bindings::renamedata {
            old_mnt_idmap: self.idmap.as_ptr(),
            old_dir: self.old_dir.dir_inode(),
            old_dentry: old.as_ptr(),
            new_mnt_idmap: self.idmap.as_ptr(),
            new_dir: self.new_dir.dir_inode(),
            new_dentry: new.as_ptr(),
            delegated_inode: core::ptr::null_mut(),
            flags,
        };
        // SAFETY: both parents are locked by `lock_rename`; the dentries
        // are their children.
        to_result(unsafe { bindings::vfs_rename(&mut rd) })
    }
}

impl Drop for RenameLock<'_> {
    fn drop(&mut self) {
        // SAFETY: `lock` locked these two directories.
        unsafe { bindings::unlock_rename(self.old_dir.dir.as_ptr(), self.new_dir.dir.as_ptr()) };
    }
}
