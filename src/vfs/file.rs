// SPDX-License-Identifier: GPL-2.0

//! `struct file` (linux/fs.h, linux/file.h) and the backing-file API
//! (linux/backing-file.h) through which a union file passes its I/O
//! straight to the real file.

use super::RsInode;
use super::{bindings, Cred, Inode, Path};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    prelude::*,
    types::{ARef, Opaque},
};

/// An open file.
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

impl File {
    /// # Safety
    /// `ptr` is a live file for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a Self {
        // SAFETY: transparent wrapper over a live file.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.get()
    }

    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: `f_flags` of a live file is readable.
        unsafe { (*self.as_ptr()).f_flags }
    }

    /// The dentry the file was opened at (for ours, a union dentry).
    pub(crate) fn dentry(&self) -> &super::Dentry {
        // SAFETY: a live file pins its path.
        unsafe { super::Dentry::from_raw((*self.as_ptr()).f_path.dentry) }
    }

    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: a live file pins its inode.
        unsafe { Inode::from_raw(bindings::file_inode(self.as_ptr())) }
    }

    /// Records an access as the file's mount options and its inode's times
    /// say (`touch_atime`).
    pub(crate) fn touch_atime(&self) {
        // SAFETY: a live file pins its path.
        unsafe { bindings::touch_atime(&(*self.as_ptr()).f_path) }
    }

    /// Drops the setuid and setgid bits (and file capabilities) a write by
    /// the current task must clear (`file_remove_privs`). `locked` is this
    /// file's inode, locked as `notify_change` requires.
    pub(crate) fn remove_privs(&self, locked: &super::InodeLock<'_>) -> Result {
        if !core::ptr::eq(locked.inode(), self.inode()) {
            return Err(EINVAL);
        }
        // SAFETY: `self` is a live file whose inode `locked` holds locked.
        kernel::error::to_result(unsafe { bindings::file_remove_privs(self.as_ptr()) })
    }

    /// The union inode of one of our files.
    ///
    /// # Safety
    /// `self` is a file of an rsunion superblock.
    pub(crate) unsafe fn union_inode(&self) -> &RsInode {
        // SAFETY: `self` is a file of our superblock, so its inode, pinned
        // by the open file for as long as `&self`, was made by
        // `alloc_union_inode`.
        unsafe { self.inode().union() }
    }
}

/// A real file opened on behalf of a union file; `fput` on drop.
pub(crate) struct RealFile(NonNull<bindings::file>);

// SAFETY: files are refcounted kernel objects usable from any thread.
unsafe impl Send for RealFile {}
// SAFETY: `&RealFile` is only used to pass the file to VFS calls.
unsafe impl Sync for RealFile {}

impl RealFile {
    /// Opens `real` for `user_file` as `cred`: the real file records the
    /// user's path, so /proc and audit show the union path.
    pub(crate) fn open_backing(
        user_file: &File,
        flags: u32,
        real: &Path,
        cred: &Cred,
    ) -> Result<Self> {
        // SAFETY: all pointers are live for the call.
        let f = from_err_ptr(unsafe {
            bindings::backing_file_open(
                user_file.as_ptr(),
                flags as i32,
                real.as_ptr(),
                cred.as_ptr(),
            )
        })?;
        NonNull::new(f).map(Self).ok_or(ENOMEM)
    }

    /// Opens `real` with `flags`, as `cred`.
    pub(crate) fn open(real: &Path, flags: u32, cred: &Cred) -> Result<Self> {
        // SAFETY: `real` is a live path and `cred` live credentials.
        let f = from_err_ptr(unsafe {
            bindings::dentry_open(real.as_ptr(), flags as i32, cred.as_ptr())
        })?;
        NonNull::new(f).map(Self).ok_or(ENOMEM)
    }

    /// Makes an unnamed regular file (`O_TMPFILE`) in directory `dir`, open
    /// for writing, as `cred`; it can be linked in later (`I_LINKABLE`)
    /// unless `exclusive` (`O_EXCL`). `EOPNOTSUPP` where the filesystem
    /// makes none.
    pub(crate) fn tmpfile(dir: &Path, mode: u32, exclusive: bool, cred: &Cred) -> Result<Self> {
        let excl = if exclusive { bindings::O_EXCL } else { 0 };
        let flags = bindings::O_WRONLY | bindings::O_LARGEFILE | excl;
        // SAFETY: `dir` is a live path, which pins its mount and so the
        // mount's idmap; `cred` is live credentials.
        let f = from_err_ptr(unsafe {
            bindings::kernel_tmpfile_open(
                bindings::mnt_idmap((*dir.as_ptr()).mnt),
                dir.as_ptr(),
                mode as bindings::umode_t,
                flags as i32,
                cred.as_ptr(),
            )
        })?;
        NonNull::new(f).map(Self).ok_or(ENOMEM)
    }

    /// Opens directory `real` for reading its entries, as `cred`; the
    /// read records no access where `cred` may say so (see
    /// [`Path::noatime_flag`]).
    pub(crate) fn open_dir(real: &Path, cred: &Cred) -> Result<Self> {
        let flags = bindings::O_RDONLY | bindings::O_DIRECTORY | bindings::O_LARGEFILE;
        Self::open(real, flags | cred.with(|| real.noatime_flag()), cred)
    }

    /// The file position.
    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: `self` is an open file; its owner serialises position
        // changes (a directory's by the union file's `f_pos_lock`).
        unsafe { (*self.as_ptr()).f_pos }
    }

    /// Seeks (`SEEK_DATA`, `SEEK_HOLE`, ...) and returns the position.
    pub(crate) fn llseek(&self, offset: i64, whence: u32) -> Result<i64> {
        // SAFETY: `self` is an open file.
        let pos = unsafe { bindings::vfs_llseek(self.as_ptr(), offset, whence as i32) };
        if pos < 0 {
            return Err(Error::from_errno(pos as i32));
        }
        Ok(pos)
    }

    /// Shares `len` bytes of `src` from offset 0 (reflink); `false` when
    /// the filesystems cannot.
    pub(crate) fn clone_range(&self, src: &RealFile, len: i64) -> Result<bool> {
        // SAFETY: both files are open.
        let cloned =
            unsafe { bindings::vfs_clone_file_range(src.as_ptr(), 0, self.as_ptr(), 0, len, 0) };
        Ok(cloned == len)
    }

    /// Copies `len` bytes at `pos` to the same offset of `dst`, through
    /// the page cache (splice), between any two filesystems, as overlayfs's
    /// copy-up does: `vfs_copy_file_range` would add its checks and
    /// notifications to every chunk, for nothing a copy-up needs.
    pub(crate) fn copy_range_to(&self, dst: &RealFile, pos: i64, len: usize) -> Result {
        let end = i64::try_from(len)
            .ok()
            .and_then(|l| pos.checked_add(l))
            .ok_or(EIO)?;
        let (mut in_pos, mut out_pos) = (pos, pos);
        while in_pos < end {
            // The range was checked for overflow above and by the caller's
            // `verify_area`, as `do_splice_direct` wants.
            // SAFETY: both files are open, `dst` for writing, and
            // `do_splice_direct` takes write access to `dst` itself.
            let n = unsafe {
                bindings::do_splice_direct(
                    self.as_ptr(),
                    &mut in_pos,
                    dst.as_ptr(),
                    &mut out_pos,
                    (end - in_pos) as usize,
                    bindings::SPLICE_F_MOVE,
                )
            };
            if n < 0 {
                return Err(Error::from_errno(n as i32));
            }
            if n == 0 || in_pos != out_pos {
                return Err(EIO);
            }
        }
        Ok(())
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }

    /// May `len` bytes at `pos` be read (`write`: written) through this
    /// file: in range, and allowed by security modules (`rw_verify_area`)?
    pub(crate) fn verify_area(&self, write: bool, pos: i64, len: i64) -> Result {
        let len = usize::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `self` is an open file; `pos` is a readable offset.
        kernel::error::to_result(unsafe {
            bindings::rw_verify_area(i32::from(write), self.as_ptr(), &pos, len)
        })
    }

    /// The real dentry the file is open at.
    pub(crate) fn dentry(&self) -> &super::Dentry {
        // SAFETY: `self` is an open file, which pins its path.
        unsafe { super::Dentry::from_raw((*self.as_ptr()).f_path.dentry) }
    }

    /// Writes the range's dirty data (and metadata unless `datasync`).
    pub(crate) fn fsync(&self, start: i64, end: i64, datasync: bool) -> Result {
        // SAFETY: `self` is an open file.
        kernel::error::to_result(unsafe {
            bindings::vfs_fsync_range(self.as_ptr(), start, end, datasync as i32)
        })
    }

    /// Hands the reference to C (`file->private_data`).
    pub(crate) fn into_raw(self) -> *mut bindings::file {
        core::mem::ManuallyDrop::new(self).0.as_ptr()
    }

    /// A view of a real file whose reference someone else holds.
    ///
    /// # Safety
    /// `ptr` is a live, non-NULL real file for as long as the view is used.
    pub(crate) unsafe fn borrow(ptr: *mut bindings::file) -> core::mem::ManuallyDrop<Self> {
        // SAFETY: `ptr` is non-NULL and live while the view is used, its
        // reference held elsewhere; `ManuallyDrop` never puts the reference
        // it does not own.
        core::mem::ManuallyDrop::new(Self(unsafe { NonNull::new_unchecked(ptr) }))
    }

    /// # Safety
    /// `ptr` came from `into_raw` and is not used again.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::file) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }
}

impl Drop for RealFile {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}

/// A union file being opened by `O_TMPFILE` (`->tmpfile`), at an unnamed
/// negative dentry of a union directory: it can only be finished, once,
/// with a union inode.
///
/// # Invariants
/// `self.0` is inside our `->tmpfile`, not yet instantiated nor opened.
pub(crate) struct TmpfileOpen<'a>(&'a File);

impl<'a> TmpfileOpen<'a> {
    /// # Safety
    /// `file` is the file `vfs_tmpfile` passes to our `->tmpfile`, for the
    /// duration of that call.
    pub(crate) unsafe fn from_raw(file: *mut bindings::file) -> Self {
        // SAFETY: per the contract, `file` is live for the call.
        // INVARIANT: and inside our `->tmpfile`, not yet finished.
        Self(unsafe { File::from_raw(file) })
    }

    /// The union directory the unnamed file is made in.
    pub(crate) fn parent(&self) -> ARef<super::Dentry> {
        self.0.dentry().parent()
    }

    pub(crate) fn flags(&self) -> u32 {
        self.0.flags()
    }

    /// Makes the unnamed dentry stand for `inode`, a union inode of this
    /// superblock (`d_mark_tmpfile`, `d_instantiate`), and opens the file
    /// on it through our `->open` (`finish_open`).
    pub(crate) fn finish(self, inode: ARef<Inode>) -> Result {
        let dentry = self.0.dentry();
        // SAFETY: both are live; `d_sb` and `i_sb` never change.
        if unsafe { (*dentry.as_ptr()).d_sb != (*inode.as_ptr()).i_sb } {
            return Err(EIO);
        }
        let inode = ARef::into_raw(inode).as_ptr().cast::<bindings::inode>();
        // SAFETY: (invariant) an unnamed negative dentry `vfs_tmpfile` holds
        // and a file not yet open; consumed `self` runs this once; our own
        // inode (checked above), whose reference `d_instantiate` takes.
        let opened = unsafe {
            bindings::d_mark_tmpfile(self.0.as_ptr(), inode);
            bindings::d_instantiate(dentry.as_ptr(), inode);
            bindings::finish_open(self.0.as_ptr(), dentry.as_ptr(), None)
        };
        kernel::error::to_result(opened)
    }
}
