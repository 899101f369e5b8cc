// SPDX-License-Identifier: GPL-2.0

//! The union's operation tables and their C entry points. Each entry point
//! turns the VFS's raw pointers into wrappers and calls the union logic of
//! the file named after the concern (namei, inode, file, readdir, super).

use super::{
    bindings, inode, Cred, Dentry, DirContext, FiemapInfo, File, FileAttr, Iattr, Inode, InodeOps,
    Kstat, Kstatfs, MntIdmap, RealFile, SeqFile, TmpfileOpen,
};
use crate::dir::NewObject;
use crate::entry::{RsInode, UnionFs};
use crate::readdir::DirCache;
use kernel::{
    error::{from_result, to_result, Error},
    ffi,
    prelude::*,
    types::{ARef, ForeignOwnable},
};

/// # Safety
/// `inode` is an inode of one of our superblocks, live for `'a`.
unsafe fn rs<'a>(inode: *mut bindings::inode) -> &'a RsInode {
    // SAFETY: `inode` is live for `'a`; our superblocks get `SUPER_OPS`
    // before their first inode, so `alloc_union_inode` made it inside an
    // `RsInode`, as `union` requires.
    unsafe { Inode::from_raw(inode).union() }
}

fn err_ptr<T>(e: Error) -> *mut T {
    e.to_ptr()
}

// ---- super_operations ----

/// An operations table the VFS reads through a pointer: a `static`, so
/// that it has one address (`Dentry::union_inode` recognises our dentries
/// by `s_op`, which a `const`'s copies would not guarantee).
#[repr(transparent)]
pub(crate) struct Table<T>(pub(crate) T);

// SAFETY: the tables are never written; they hold function pointers and
// NULLs only, which any thread may read.
unsafe impl Sync for Table<bindings::super_operations> {}
// SAFETY: never written; function pointers and NULLs only.
unsafe impl Sync for Table<bindings::inode_operations> {}
// SAFETY: never written; function pointers and NULLs only.
unsafe impl Sync for Table<bindings::file_operations> {}

pub(crate) static SUPER_OPS: Table<bindings::super_operations> =
    Table(bindings::super_operations {
        alloc_inode: Some(inode::alloc_union_inode),
        destroy_inode: Some(inode::destroy_union_inode),
        free_inode: Some(inode::free_union_inode),
        drop_inode: Some(bindings::generic_delete_inode),
        statfs: Some(statfs),
        show_options: Some(show_options),
        sync_fs: Some(sync_fs),
        // SAFETY: all-zero is a valid `super_operations`: optional pointers.
        ..unsafe { core::mem::zeroed() }
    });

/// # Safety
/// VFS callback: `dentry` is on one of our superblocks, `buf` writable.
unsafe extern "C" fn statfs(
    dentry: *mut bindings::dentry,
    buf: *mut bindings::kstatfs,
) -> ffi::c_int {
    // SAFETY: the VFS holds `dentry` for the call, and its `d_sb` is a
    // mounted, so filled, superblock of ours; `buf` is the caller's
    // `kstatfs`, ours alone to fill.
    let (fs, buf) = unsafe { (union_fs((*dentry).d_sb), Kstatfs::from_raw(buf)) };
    from_result(|| crate::super_block::statfs(fs, buf).map(|()| 0))
}

/// # Safety
/// VFS callback: `sb` is one of our filled superblocks.
unsafe extern "C" fn sync_fs(sb: *mut bindings::super_block, wait: ffi::c_int) -> ffi::c_int {
    // SAFETY: the VFS syncs only a superblock that has a root, which
    // `fill_super` sets after `s_fs_info`; `kill_sb` frees that after the
    // last sync, in `kill_anon_super`.
    let fs = unsafe { union_fs(sb) };
    from_result(|| crate::super_block::sync_fs(fs, wait != 0).map(|()| 0))
}

/// # Safety
/// VFS callback: `m` is live, `root` is on one of our superblocks.
unsafe extern "C" fn show_options(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> ffi::c_int {
    // SAFETY: `root` is the root of a mounted union, pinned by its mount
    // for the call, so its superblock is ours and filled; `m` is the
    // VFS's seq_file, live for the call.
    let (fs, m) = unsafe { (union_fs((*root).d_sb), SeqFile::from_raw(m)) };
    from_result(|| crate::super_block::show_options(fs, m).map(|()| 0))
}

/// # Safety
/// `sb` is one of ours, filled (its `s_fs_info` is a `UnionFs`).
pub(crate) unsafe fn union_fs<'a>(sb: *mut bindings::super_block) -> &'a UnionFs {
    // SAFETY: `fill_super` set `s_fs_info` before any inode existed and
    // `kill_sb` frees it after the last one is gone.
    unsafe { &*(*sb).s_fs_info.cast::<UnionFs>() }
}

// ---- inode_operations ----

/// `fileattr` for directories and regular files, as overlayfs: `chattr` of
/// a device or fifo through the union goes to the device.
const fn inode_ops(lookup: bool, get_link: bool, fileattr: bool) -> bindings::inode_operations {
    bindings::inode_operations {
        lookup: if lookup { Some(lookup_op) } else { None },
        create: if lookup { Some(create_op) } else { None },
        mkdir: if lookup { Some(mkdir_op) } else { None },
        mknod: if lookup { Some(mknod_op) } else { None },
        symlink: if lookup { Some(symlink_op) } else { None },
        link: if lookup { Some(link_op) } else { None },
        unlink: if lookup { Some(unlink_op) } else { None },
        rmdir: if lookup { Some(rmdir_op) } else { None },
        rename: if lookup { Some(rename_op) } else { None },
        get_link: if get_link { Some(get_link_op) } else { None },
        permission: Some(permission),
        getattr: Some(getattr),
        setattr: Some(setattr),
        update_time: Some(update_time),
        listxattr: Some(super::xattr::listxattr),
        get_inode_acl: Some(super::xattr::get_inode_acl),
        get_acl: Some(super::xattr::get_acl),
        set_acl: Some(super::xattr::set_acl),
        fileattr_get: if fileattr { Some(fileattr_get) } else { None },
        fileattr_set: if fileattr { Some(fileattr_set) } else { None },
        // SAFETY: all-zero is a valid `inode_operations`.
        ..unsafe { core::mem::zeroed() }
    }
}

static DIR_IOPS: Table<bindings::inode_operations> = Table(bindings::inode_operations {
    tmpfile: Some(tmpfile_op),
    ..inode_ops(true, false, true)
});
static FILE_IOPS: Table<bindings::inode_operations> = Table(bindings::inode_operations {
    fiemap: Some(fiemap),
    ..inode_ops(false, false, true)
});
static LINK_IOPS: Table<bindings::inode_operations> = Table(inode_ops(false, true, false));
static SPECIAL_IOPS: Table<bindings::inode_operations> = Table(inode_ops(false, false, false));

/// The tables for a union inode of `mode`'s type.
pub(crate) fn ops_for_mode(mode: bindings::umode_t) -> InodeOps {
    match u32::from(mode) & bindings::S_IFMT {
        bindings::S_IFDIR => InodeOps {
            iop: &DIR_IOPS.0,
            fop: &DIR_FOPS.0,
        },
        bindings::S_IFREG => InodeOps {
            iop: &FILE_IOPS.0,
            fop: &FILE_FOPS.0,
        },
        bindings::S_IFLNK => InodeOps {
            iop: &LINK_IOPS.0,
            fop: core::ptr::null(),
        },
        // Devices, fifos and sockets: init_special_inode sets the fops.
        _ => InodeOps {
            iop: &SPECIAL_IOPS.0,
            fop: core::ptr::null(),
        },
    }
}

/// # Safety
/// VFS callback: `dir` is one of our directories, `dentry` a new dentry in
/// it, both locked as `->lookup` requires.
unsafe extern "C" fn lookup_op(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: ffi::c_uint,
) -> *mut bindings::dentry {
    // SAFETY: `->lookup` is only in `DIR_IOPS`, so `dir` is one of our
    // inodes, pinned by the parent dentry the VFS holds; the VFS holds a
    // reference to the new `dentry` across the call.
    let (dir, d) = unsafe { (rs(dir), Dentry::from_raw(dentry)) };
    match crate::namei::lookup(dir, d.name()) {
        Ok(inode) => {
            let inode = inode.map_or(core::ptr::null_mut(), |i| ARef::into_raw(i).as_ptr().cast());
            // SAFETY: `d_splice_alias` consumes the inode reference, also
            // on failure.
            unsafe { bindings::d_splice_alias(inode, dentry) }
        }
        Err(e) => err_ptr(e),
    }
}

// Namespace operations. The VFS calls each with the union directory
// locked, a union dentry of it, and the caller's rights already checked.

/// # Safety
/// VFS callback: `dentry` is a negative dentry in our locked directory.
unsafe extern "C" fn create_op(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    _excl: bool,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the new name, across
    // `->create`.
    let d = unsafe { Dentry::from_raw(dentry) };
    from_result(|| crate::dir::create(d, NewObject::File(u32::from(mode))).map(|()| 0))
}

/// # Safety
/// As `create_op`.
unsafe extern "C" fn mkdir_op(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the new name, across
    // `->mkdir`.
    let d = unsafe { Dentry::from_raw(dentry) };
    from_result(|| crate::dir::create(d, NewObject::Dir(u32::from(mode))).map(|()| 0))
}

/// # Safety
/// VFS callback (`vfs_tmpfile`): `file` is being opened at an unnamed
/// negative dentry in our directory `dir`.
unsafe extern "C" fn tmpfile_op(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    file: *mut bindings::file,
    mode: bindings::umode_t,
) -> ffi::c_int {
    // SAFETY: this is our `->tmpfile`, called with `file` by `vfs_tmpfile`.
    let file = unsafe { TmpfileOpen::from_raw(file) };
    from_result(|| crate::dir::tmpfile(file, u32::from(mode)).map(|()| 0))
}

/// # Safety
/// As `create_op`.
unsafe extern "C" fn mknod_op(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    dev: bindings::dev_t,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the new name, across
    // `->mknod`.
    let d = unsafe { Dentry::from_raw(dentry) };
    from_result(|| crate::dir::create(d, NewObject::Node(u32::from(mode), dev)).map(|()| 0))
}

/// # Safety
/// As `create_op`; `target` is a C string.
unsafe extern "C" fn symlink_op(
    _idmap: *mut bindings::mnt_idmap,
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const ffi::c_char,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the new name, across
    // `->symlink`; `target` is its NUL-terminated kernel copy of the
    // user's string (`getname`), freed only after the call.
    let (d, target) = unsafe {
        (
            Dentry::from_raw(dentry),
            kernel::str::CStr::from_char_ptr(target),
        )
    };
    from_result(|| crate::dir::create(d, NewObject::Symlink(target)).map(|()| 0))
}

/// # Safety
/// As `create_op`; `old` is a positive dentry of ours.
unsafe extern "C" fn link_op(
    old: *mut bindings::dentry,
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> ffi::c_int {
    // SAFETY: the VFS holds references to `old`, the existing object, and
    // `dentry`, the new name, across `->link`.
    let (old, d) = unsafe { (Dentry::from_raw(old), Dentry::from_raw(dentry)) };
    from_result(|| crate::dir::create(d, NewObject::Link(old)).map(|()| 0))
}

/// # Safety
/// VFS callback: `dentry` is a positive dentry in our locked directory.
unsafe extern "C" fn unlink_op(
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the victim, across
    // `->unlink`.
    let d = unsafe { Dentry::from_raw(dentry) };
    from_result(|| crate::dir::remove(d, false).map(|()| 0))
}

/// # Safety
/// As `unlink_op`, for a directory.
unsafe extern "C" fn rmdir_op(
    _dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry`, the victim, across
    // `->rmdir`.
    let d = unsafe { Dentry::from_raw(dentry) };
    from_result(|| crate::dir::remove(d, true).map(|()| 0))
}

/// # Safety
/// VFS callback: both directories of ours are locked (lock_rename).
unsafe extern "C" fn rename_op(
    _idmap: *mut bindings::mnt_idmap,
    _old_dir: *mut bindings::inode,
    old: *mut bindings::dentry,
    _new_dir: *mut bindings::inode,
    new: *mut bindings::dentry,
    flags: ffi::c_uint,
) -> ffi::c_int {
    // SAFETY: the VFS holds references to `old` and `new` across
    // `->rename`.
    let (old, new) = unsafe { (Dentry::from_raw(old), Dentry::from_raw(new)) };
    from_result(|| crate::dir::rename(old, new, flags).map(|()| 0))
}

/// # Safety
/// VFS callback: `inode` is one of ours.
unsafe extern "C" fn permission(
    idmap: *mut bindings::mnt_idmap,
    inode: *mut bindings::inode,
    mask: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: `->permission` is only in our tables, so `inode` is ours,
    // held by the VFS or kept by RCU (`free_union_inode` waits a grace
    // period); `idmap` is the walked mount's, which the walk keeps.
    let (rs, idmap) = unsafe { (rs(inode), MntIdmap::from_raw(idmap)) };
    from_result(|| crate::inode::permission(rs, idmap, mask).map(|()| 0))
}

/// # Safety
/// VFS callback: `path` is on one of our mounts, `stat` writable.
unsafe extern "C" fn getattr(
    _idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    flags: ffi::c_uint,
) -> ffi::c_int {
    // SAFETY: the VFS holds `path` for the call; its dentry is positive
    // and its inode, which led here to our `->getattr`, is one of ours;
    // `stat` is the caller's, ours alone to fill.
    let (rs, stat) = unsafe { (rs(bindings::d_inode((*path).dentry)), Kstat::from_raw(stat)) };
    from_result(|| crate::inode::getattr(rs, stat, request_mask, flags).map(|()| 0))
}

/// # Safety
/// VFS callback: `inode` is one of our regular files, `info` the ioctl's.
unsafe extern "C" fn fiemap(
    inode: *mut bindings::inode,
    info: *mut bindings::fiemap_extent_info,
    start: u64,
    len: u64,
) -> ffi::c_int {
    // SAFETY: `->fiemap` is only in `FILE_IOPS`, so `inode` is one of our
    // regular files, held by the ioctl's open file; `info` is the ioctl's,
    // which nothing else uses meanwhile.
    let (rs, info) = unsafe { (rs(inode), FiemapInfo::from_raw(info)) };
    from_result(|| crate::inode::fiemap(rs, info, start, len).map(|()| 0))
}

/// # Safety
/// VFS callback: `inode` is one of ours.
unsafe extern "C" fn update_time(inode: *mut bindings::inode, flags: ffi::c_int) -> ffi::c_int {
    // SAFETY: `->update_time` is only in our tables, so `inode` is ours,
    // held by the caller of `touch_atime` through its path.
    crate::inode::update_time(unsafe { rs(inode) }, flags as u32);
    0
}

/// # Safety
/// VFS callback: `dentry` is a positive dentry of ours, `attr` live.
unsafe extern "C" fn setattr(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> ffi::c_int {
    // SAFETY: the VFS holds a reference to `dentry` across `->setattr`;
    // `attr` is the caller's `iattr`, which nothing else uses meanwhile;
    // `idmap` is that of the mount the caller holds for the call.
    let (d, attr, idmap) = unsafe {
        (
            Dentry::from_raw(dentry),
            Iattr::from_raw(attr),
            MntIdmap::from_raw(idmap),
        )
    };
    from_result(|| crate::inode::setattr(d, idmap, attr).map(|()| 0))
}

/// # Safety
/// VFS callback: `dentry` is one of our directories or regular files,
/// `fa` the caller's.
unsafe extern "C" fn fileattr_get(
    dentry: *mut bindings::dentry,
    fa: *mut bindings::fileattr,
) -> ffi::c_int {
    // SAFETY: the VFS holds `dentry` across the call; `fa` is the ioctl's,
    // which nothing else uses meanwhile.
    let (d, fa) = unsafe { (Dentry::from_raw(dentry), FileAttr::from_raw(fa)) };
    from_result(|| crate::inode::fileattr_get(d, fa).map(|()| 0))
}

/// # Safety
/// VFS callback, as `fileattr_get`, with the union inode locked.
unsafe extern "C" fn fileattr_set(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    fa: *mut bindings::fileattr,
) -> ffi::c_int {
    // SAFETY: as in `fileattr_get`.
    let (d, fa) = unsafe { (Dentry::from_raw(dentry), FileAttr::from_raw(fa)) };
    from_result(|| crate::inode::fileattr_set(d, fa).map(|()| 0))
}

/// # Safety
/// VFS callback: `inode` is one of our symlinks; `done` is live.
unsafe extern "C" fn get_link_op(
    dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    done: *mut bindings::delayed_call,
) -> *const ffi::c_char {
    // RCU walk: reading the real link may sleep.
    if dentry.is_null() {
        return err_ptr(ECHILD);
    }
    // SAFETY: not an RCU walk (`dentry` is non-NULL), so the VFS holds
    // `dentry` and with it `inode`, ours (`->get_link` is in `LINK_IOPS`).
    let rs = unsafe { rs(inode) };
    let link = crate::inode::get_link(rs, |real| {
        // SAFETY: `real` is a live symlink pinned by the union inode;
        // `done` is the VFS's, and the string lives until it runs.
        unsafe { bindings::vfs_get_link(real.as_ptr(), done) }
    });
    link.unwrap_or_else(|e| err_ptr::<ffi::c_char>(e).cast_const())
}

// ---- file_operations: regular files ----

static FILE_FOPS: Table<bindings::file_operations> = Table(bindings::file_operations {
    open: Some(file_open),
    release: Some(file_release),
    read_iter: Some(file_read_iter),
    splice_read: Some(file_splice_read),
    mmap: Some(file_mmap),
    llseek: Some(file_llseek),
    fsync: Some(file_fsync),
    write_iter: Some(file_write_iter),
    splice_write: Some(file_splice_write),
    fallocate: Some(file_fallocate),
    flush: Some(file_flush),
    fadvise: Some(file_fadvise),
    // SAFETY: all-zero is a valid `file_operations`.
    ..unsafe { core::mem::zeroed() }
});

/// # Safety
/// VFS callback: `file` is being opened on our regular `inode`.
unsafe extern "C" fn file_open(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> ffi::c_int {
    // SAFETY: `->open` of `FILE_FOPS` runs on our regular inodes only; the
    // VFS holds `inode` and the `file` it is setting up across the call.
    let (rs, f) = unsafe { (rs(inode), File::from_raw(file)) };
    from_result(|| {
        let real = crate::file::open(rs, f)?;
        // SAFETY: `file` is ours until `release`, which takes this back.
        unsafe {
            if (*real.as_ptr()).f_mode & bindings::FMODE_CAN_ODIRECT != 0 {
                (*file).f_mode |= bindings::FMODE_CAN_ODIRECT;
            }
            (*file).private_data = real.into_raw().cast();
        }
        Ok(0)
    })
}

/// # Safety
/// VFS callback: last reference to a file `file_open` set up.
unsafe extern "C" fn file_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> ffi::c_int {
    // SAFETY: `private_data` holds the real file `file_open` stored.
    drop(unsafe { RealFile::from_raw((*file).private_data.cast()) });
    0
}

/// The real file one I/O call on one of our open regular files goes to.
struct RealFor {
    /// The real file opened with the union file.
    opened: *mut bindings::file,
    /// The upper file, opened for this call, when the object was copied up
    /// after the union file was opened (see `file::reopen_if_copied_up`).
    fresh: Option<RealFile>,
}

impl RealFor {
    fn real(&self) -> *mut bindings::file {
        self.fresh.as_ref().map_or(self.opened, RealFile::as_ptr)
    }
}

/// The real file of one I/O call, and the context the backing-file
/// helpers need.
struct Backing {
    real: RealFor,
    ctx: bindings::backing_file_ctx,
}

impl Backing {
    fn real(&self) -> *mut bindings::file {
        self.real.real()
    }
}

/// `file_inode()` read in place: on the read path the wrapper call costs
/// more than the read.
///
/// # Safety
/// `file` is live.
unsafe fn file_inode(file: *mut bindings::file) -> *mut bindings::inode {
    // SAFETY: `file` is live; `f_inode` is set at open and never changes.
    unsafe { (*file).f_inode }
}

/// Inlined: every read and write starts here.
///
/// # Safety
/// `file` was set up by `file_open` and is live for the call.
#[inline(always)]
unsafe fn real_for(file: *mut bindings::file) -> Result<RealFor> {
    // SAFETY: `file` is live and, set up by `file_open`, holds in
    // `private_data` the reference to the real file it opened until
    // `file_release`; `file` pins its inode, one of ours.
    let (opened, rs, union_file) = unsafe {
        let opened: *mut bindings::file = (*file).private_data.cast();
        (opened, rs(file_inode(file)), File::from_raw(file))
    };
    // SAFETY: `file`'s `private_data` holds a reference to `opened` until
    // `file_release`, and an open file pins its inode.
    let opened_inode = unsafe { Inode::from_raw(file_inode(opened)) };
    let fresh = crate::file::reopen_if_copied_up(rs, union_file, opened_inode)?;
    let real = RealFor { opened, fresh };
    // SAFETY: both files are live: `file` per the contract, the real one
    // held by `file` or by `real`.
    unsafe {
        if ((*file).f_flags ^ (*real.real()).f_flags) & SETFL_FLAGS != 0 {
            follow_setfl(real.real(), (*file).f_flags)?;
        }
    }
    Ok(real)
}

/// The flags fcntl(F_SETFL) changes on an open file (overlayfs's
/// `OVL_SETFL_MASK`; `O_NDELAY` is `O_NONBLOCK`).
const SETFL_FLAGS: u32 = bindings::O_APPEND | bindings::O_NONBLOCK | bindings::O_DIRECT;

/// F_SETFL changed the union file's flags since `real` was opened: the
/// real file takes them, after the checks F_SETFL made on the union file
/// are made on it (overlayfs's `ovl_change_flags`). Else an O_DIRECT set
/// so would reach reads, which pass the union's kiocb flags on, but not
/// writes, which the backing-file helpers build from the real file's.
///
/// # Safety
/// `real` is a live real file.
#[cold]
unsafe fn follow_setfl(real: *mut bindings::file, flags: u32) -> Result {
    let flags = flags & SETFL_FLAGS;
    // SAFETY: `real` is live, and pins its inode and operations.
    unsafe {
        let inode = file_inode(real);
        if (flags ^ (*real).f_flags) & bindings::O_APPEND != 0
            && (*inode).i_flags & bindings::S_APPEND != 0
        {
            return Err(EPERM);
        }
        if flags & bindings::O_DIRECT != 0 && (*real).f_mode & bindings::FMODE_CAN_ODIRECT == 0 {
            return Err(EINVAL);
        }
        if let Some(check) = (*(*real).f_op).check_flags {
            to_result(check(flags as ffi::c_int))?;
        }
        bindings::rsunion_set_file_flags(real, SETFL_FLAGS, flags);
    }
    Ok(())
}

/// Runs `f`, as the mounter, on the real file an I/O call on our regular
/// file `file` goes to.
///
/// # Safety
/// `file` was set up by `file_open` and is live for the call.
unsafe fn as_mounter_on_real<R>(
    file: *mut bindings::file,
    f: impl FnOnce(*mut bindings::file) -> R,
) -> Result<R> {
    // SAFETY: per the contract, as `real_for` requires; `file` pins its
    // inode, one of ours.
    let (real, rs) = unsafe { (real_for(file)?, rs(file_inode(file))) };
    Ok(rs.fs().creds.with(|| f(real.real())))
}

/// # Safety
/// `file` was set up by `file_open` and is live for the call.
unsafe fn backing(file: *mut bindings::file) -> Result<Backing> {
    // SAFETY: per the contract, as `real_for` requires; `file` pins its
    // inode, one of ours.
    let (real, rs) = unsafe { (real_for(file)?, rs(file_inode(file))) };
    let ctx = bindings::backing_file_ctx {
        cred: rs.fs().creds.as_ptr(),
        user_file: file,
        accessed: Some(file_accessed),
        end_write: None,
    };
    Ok(Backing { real, ctx })
}

/// `backing_file_ctx.accessed`, and after a synchronous read: see
/// `file::accessed`.
///
/// # Safety
/// `file` is one of our regular files, live for the call.
#[inline]
unsafe extern "C" fn file_accessed(file: *mut bindings::file) {
    // SAFETY: per the contract; an open file pins its inode, one of ours.
    unsafe { crate::file::accessed(rs(file_inode(file)), File::from_raw(file)) }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_read_iter(
    iocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: `iocb`, `iter` live for the call; `ki_filp` is our file from
    // `file_open`, pinning its inode (ours) and, in `private_data` until
    // `file_release`, the real file it opened, which pins its own inode.
    unsafe {
        // Nothing read, nothing to record (overlayfs's `ovl_read_iter`).
        // `count` is what `iov_iter_count()` reads, for every kind of
        // iterator; read in place, as the wrapper call costs as much again.
        if (*iter).__bindgen_anon_1.__bindgen_anon_1.as_ref().count == 0 {
            return 0;
        }
        let file = (*iocb).ki_filp;
        let opened: *mut bindings::file = (*file).private_data.cast();
        let rs = rs(file_inode(file));
        // Most reads are synchronous (`is_sync_kiocb()`), of the real file
        // opened with the union file, still the top one, with the union
        // file's flags: those take this path, inlined whole. The calls it
        // replaced were a fifth of what a 4 KiB read of an upper copy
        // costs more than one of the copy itself. Any other read takes
        // `read_other`.
        let opened_real = opened_real(rs, Inode::from_raw(file_inode(opened)));
        if matches!(opened_real, OpenedReal::Stale)
            || (*iocb).ki_complete.is_some()
            || ((*file).f_flags ^ (*opened).f_flags) & SETFL_FLAGS != 0
        {
            return read_other(iocb, iter);
        }
        match read_sync(opened, iocb, iter, &rs.fs().creds) {
            Ok(read) => {
                match opened_real {
                    // The union inode is found again from `file`: kept
                    // across the read, it took a register more to save.
                    OpenedReal::Upper(upper) => {
                        let rs = self::rs(file_inode(file));
                        crate::file::accessed_upper(rs, File::from_raw(file), upper)
                    }
                    _ => file_accessed(file),
                }
                read
            }
            Err(e) => e.to_errno() as isize,
        }
    }
}

/// Where the real file a union file opened stands now.
enum OpenedReal<'a> {
    /// It is the object's upper copy, this inode: copy-up never replaces
    /// it, so the access a read records goes to it.
    Upper(&'a Inode),
    /// The object has no upper copy: the lower file is its only real one.
    LowerOnly,
    /// The object was copied up after the file was opened.
    Stale,
}

/// Where `opened`, the inode of the real file opened for union inode
/// `rs`, stands.
#[inline(always)]
fn opened_real<'a>(rs: &'a RsInode, opened: &Inode) -> OpenedReal<'a> {
    match rs.upper().map(Dentry::inode) {
        None => OpenedReal::LowerOnly,
        Some(Some(upper)) if core::ptr::eq(upper, opened) => OpenedReal::Upper(upper),
        Some(_) => OpenedReal::Stale,
    }
}

/// A synchronous read's result: a read the real file refused (its
/// result) is an access still; one refused before it (the error) is none,
/// as in `backing_file_read_iter`.
///
/// # Safety
/// `file` is one of our regular files, live for the call.
#[inline(always)]
unsafe fn finish_sync_read(file: *mut bindings::file, read: Result<isize>) -> isize {
    match read {
        Ok(read) => {
            // SAFETY: per the contract.
            unsafe { file_accessed(file) };
            read
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// The reads `file_read_iter` does not inline: asynchronous ones, and
/// those of a file opened before its object was copied up, or whose
/// flags fcntl(F_SETFL) changed since.
///
/// # Safety
/// As `file_read_iter`.
#[cold]
#[inline(never)]
unsafe fn read_other(iocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
    // SAFETY: per the contract, as `file_read_iter`'s.
    unsafe {
        let file = (*iocb).ki_filp;
        if (*iocb).ki_complete.is_none() {
            return match real_for(file) {
                Ok(real) => {
                    let creds = &rs(file_inode(file)).fs().creds;
                    finish_sync_read(file, read_sync(real.real(), iocb, iter, creds))
                }
                Err(e) => e.to_errno() as isize,
            };
        }
        let mut b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno() as isize,
        };
        bindings::backing_file_read_iter(b.real(), iter, iocb, (*iocb).ki_flags, &mut b.ctx)
    }
}

/// A synchronous read of union `iocb` from `real`, as the mounter: what
/// `backing_file_read_iter` does, the same checks and hooks on the real
/// file, in one C call (`rsunion_read_real`) on the VFS's kiocb, lent to
/// the real file: a kiocb built anew (`vfs_iter_read`) recomputed the I/O
/// priority and the flags the VFS already had, and cost half of what a
/// 4 KiB read through the union costs more than one of the real file. The
/// kiocb keeps `IOCB_NOWAIT` unchecked: union files never have
/// `FMODE_NOWAIT`, so the VFS sets it on none of them.
///
/// # Safety
/// `iocb` and `iter` are the VFS's, live for the call, `iocb` synchronous;
/// `real` is the live real file opened for its union file.
#[inline(always)]
unsafe fn read_sync(
    real: *mut bindings::file,
    iocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
    creds: &Cred,
) -> Result<isize> {
    // SAFETY: per the contract, all three are live for the call; `creds`
    // is borrowed for it, so the task never wears freed credentials.
    unsafe {
        if (*iocb).ki_flags & bindings::IOCB_DIRECT as i32 != 0
            && (*real).f_mode & bindings::FMODE_CAN_ODIRECT == 0
        {
            return Err(EINVAL);
        }
        Ok(bindings::rsunion_read_real(
            real,
            iocb,
            iter,
            creds.as_ptr(),
        ))
    }
}

/// `backing_file_ctx.end_write`: see `file::end_write`.
///
/// # Safety
/// Called by the backing-file helpers with one of our files.
unsafe extern "C" fn file_end_write(
    file: *mut bindings::file,
    _pos: bindings::loff_t,
    _ret: isize,
) {
    // SAFETY: the helpers pass back `ctx.user_file` (or the original
    // iocb's file), which `backing` set to our regular file, held until
    // they return; an open file pins its inode, one of ours.
    crate::file::end_write(unsafe { rs(bindings::file_inode(file)) });
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_write_iter(
    iocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: `iocb`, `iter` live for the call; `ki_filp` (our `write_iter`)
    // is our file from `file_open`, held by the VFS, pinning its inode.
    unsafe {
        let file = (*iocb).ki_filp;
        let mut b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno() as isize,
        };
        b.ctx.end_write = Some(file_end_write);
        crate::file::write(rs(bindings::file_inode(file)), || {
            bindings::backing_file_write_iter(b.real(), iter, iocb, (*iocb).ki_flags, &mut b.ctx)
        })
    }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_splice_write(
    pipe: *mut bindings::pipe_inode_info,
    out: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    len: usize,
    flags: ffi::c_uint,
) -> isize {
    // SAFETY: `out` has our `splice_write`, so it is our regular file set
    // up by `file_open`, held by the VFS and pinning its inode; `pipe` and
    // `ppos` are the VFS's, live for the call.
    unsafe {
        let mut b = match backing(out) {
            Ok(b) => b,
            Err(e) => return e.to_errno() as isize,
        };
        b.ctx.end_write = Some(file_end_write);
        crate::file::write(rs(bindings::file_inode(out)), || {
            bindings::backing_file_splice_write(pipe, b.real(), ppos, len, flags, &mut b.ctx)
        })
    }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_fallocate(
    file: *mut bindings::file,
    mode: ffi::c_int,
    offset: bindings::loff_t,
    len: bindings::loff_t,
) -> ffi::c_long {
    // SAFETY: `file` has our `fallocate`, so it is our regular file set up
    // by `file_open`, held by the VFS and pinning its inode, one of ours.
    let (b, rs, f) = unsafe {
        (
            backing(file),
            rs(bindings::file_inode(file)),
            File::from_raw(file),
        )
    };
    let allocated = b.and_then(|b| {
        crate::file::fallocate(rs, f, || {
            // SAFETY: `b.real()` is live while `b` is (it pins a fresh
            // file, and `file` pins the opened one).
            to_result(unsafe { bindings::vfs_fallocate(b.real(), mode, offset, len) })
        })
    });
    from_result(|| allocated.map(|()| 0)) as ffi::c_long
}

/// posix_fadvise(2) advises the real file, whose page cache and readahead
/// the reads use: on the union file, which caches nothing, it would change
/// nothing (overlayfs's `ovl_fadvise`).
///
/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_fadvise(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    len: bindings::loff_t,
    advice: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: `file` has our `fadvise`, so it is our regular file set up
    // by `file_open` and held by the VFS; the helper holds the real file
    // while the closure runs.
    let advised = unsafe {
        as_mounter_on_real(file, |real| {
            bindings::vfs_fadvise(real, offset, len, advice)
        })
    };
    advised.unwrap_or_else(|e| e.to_errno())
}

/// close(2) reaches the real file's `flush` (NFS writes back there).
///
/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_flush(file: *mut bindings::file, id: bindings::fl_owner_t) -> ffi::c_int {
    // SAFETY: `file` has our `flush`, so it is our regular file set up by
    // `file_open` and held by the VFS; `real` lives as long as `b`, and an
    // open file's `f_op` is non-NULL.
    unsafe {
        let b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno(),
        };
        let real = b.real();
        let Some(flush) = (*(*real).f_op).flush else {
            return 0;
        };
        crate::file::flush(rs(bindings::file_inode(file)), || flush(real, id))
    }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_splice_read(
    file: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: ffi::c_uint,
) -> isize {
    // SAFETY: `file` has our `splice_read`, so it is our regular file set
    // up by `file_open` and held by the VFS; `ppos` and `pipe` are the
    // VFS's, live for the call.
    unsafe {
        let mut b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno() as isize,
        };
        bindings::backing_file_splice_read(b.real(), ppos, pipe, len, flags, &mut b.ctx)
    }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_mmap(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> ffi::c_int {
    // SAFETY: `file` is `vma->vm_file`, whose `mmap` is ours, so our
    // regular file set up by `file_open` and held by the VFS; `vma` is the
    // VFS's, live for the call.
    unsafe {
        let mut b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno(),
        };
        bindings::backing_file_mmap(b.real(), vma, &mut b.ctx)
    }
}

/// Seeks run on the real file, which alone knows SEEK_DATA/SEEK_HOLE and
/// its own size limits; the union file's position stays the master copy.
///
/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_llseek(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: ffi::c_int,
) -> bindings::loff_t {
    // SAFETY: `file` has our `llseek`, so it is our regular file set up by
    // `file_open` and held by the VFS; its position is this call's alone
    // (`fdget_pos`), and the real file is private to it or to this call.
    unsafe {
        let b = match backing(file) {
            Ok(b) => b,
            Err(e) => return e.to_errno() as bindings::loff_t,
        };
        let real = b.real();
        crate::file::llseek(rs(bindings::file_inode(file)), || {
            (*real).f_pos = (*file).f_pos;
            let ret = bindings::vfs_llseek(real, offset, whence);
            (*file).f_pos = (*real).f_pos;
            ret
        })
    }
}

/// # Safety
/// VFS callback on one of our open regular files.
unsafe extern "C" fn file_fsync(
    file: *mut bindings::file,
    start: bindings::loff_t,
    end: bindings::loff_t,
    datasync: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: `file` has our `fsync` (`FILE_FOPS`), so it is our regular
    // file set up by `file_open`, held by the VFS and pinning its inode.
    let (rs, b) = unsafe { (rs(bindings::file_inode(file)), backing(file)) };
    from_result(|| {
        let b = b?;
        // SAFETY: `b.real()` is live while `b` is (it pins a fresh file,
        // and `file` pins the opened one).
        let real = unsafe { RealFile::borrow(b.real()) };
        crate::file::fsync(rs, &real, start, end, datasync != 0).map(|()| 0)
    })
}

/// # Safety
/// VFS callback on one of our open directories.
unsafe extern "C" fn dir_fsync(
    file: *mut bindings::file,
    start: bindings::loff_t,
    end: bindings::loff_t,
    datasync: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: `DIR_FOPS` is set only on our directories; the VFS holds
    // `file`, which pins its inode, for the call.
    let rs = unsafe { rs(bindings::file_inode(file)) };
    from_result(|| crate::file::fsync_dir(rs, start, end, datasync != 0).map(|()| 0))
}

// ---- file_operations: directories ----

static DIR_FOPS: Table<bindings::file_operations> = Table(bindings::file_operations {
    open: Some(dir_open),
    release: Some(dir_release),
    read: Some(bindings::generic_read_dir),
    iterate_shared: Some(dir_iterate),
    llseek: Some(dir_llseek),
    fsync: Some(dir_fsync),
    // SAFETY: all-zero is a valid `file_operations`.
    ..unsafe { core::mem::zeroed() }
});

/// # Safety
/// VFS callback: `file` is being opened on our directory `inode`.
unsafe extern "C" fn dir_open(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> ffi::c_int {
    from_result(|| {
        let cache = KBox::new(DirCache::default(), GFP_KERNEL)?;
        // SAFETY: `file` is ours until `release`, which takes this back.
        unsafe { (*file).private_data = cache.into_foreign() as *mut ffi::c_void };
        Ok(0)
    })
}

/// # Safety
/// VFS callback: last reference to a file `dir_open` set up.
unsafe extern "C" fn dir_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> ffi::c_int {
    // SAFETY: `private_data` holds the box `dir_open` stored; `file` is one
    // of our files.
    let (mut cache, rs) = unsafe {
        (
            KBox::<DirCache>::from_foreign((*file).private_data),
            File::from_raw(file).union_inode(),
        )
    };
    crate::readdir::release(rs, &mut cache);
    0
}

/// # Safety
/// `file` was set up by `dir_open`; getdents and llseek on one file are
/// serialised by its `f_pos_lock`, so the borrow is unique.
unsafe fn dir_cache<'a>(file: *mut bindings::file) -> &'a mut DirCache {
    // SAFETY: `dir_open` stored a `KBox<DirCache>` in `private_data`,
    // freed only by `dir_release`; the caller's `f_pos_lock` makes this
    // borrow the only one.
    unsafe { &mut *(*file).private_data.cast::<DirCache>() }
}

/// # Safety
/// VFS callback: getdents on one of our directories.
unsafe extern "C" fn dir_iterate(
    file: *mut bindings::file,
    ctx: *mut bindings::dir_context,
) -> ffi::c_int {
    // SAFETY: `file` has our `iterate_shared`, so it is our directory set
    // up by `dir_open` and held by the VFS; getdents holds its
    // `f_pos_lock`, as `dir_cache` needs; `ctx` is live for the call.
    let (f, cache, ctx) = unsafe {
        (
            File::from_raw(file),
            dir_cache(file),
            DirContext::from_raw(ctx),
        )
    };
    // SAFETY: `f` has `DIR_FOPS`, set only on our superblock's inodes.
    let rs = unsafe { f.union_inode() };
    from_result(|| crate::readdir::iterate(rs, f, cache, ctx).map(|()| 0))
}

/// # Safety
/// VFS callback: lseek on one of our directories.
unsafe extern "C" fn dir_llseek(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: ffi::c_int,
) -> bindings::loff_t {
    // SAFETY: `file` has our `llseek`, so it is our directory set up by
    // `dir_open` and held by the VFS; lseek holds its `f_pos_lock`, so
    // `f_pos` and the cache are this call's alone.
    let (pos, cache, rs) = unsafe {
        (
            &mut (*file).f_pos,
            dir_cache(file),
            File::from_raw(file).union_inode(),
        )
    };
    match crate::readdir::llseek(rs, cache, pos, offset, whence as u32) {
        Ok(pos) => pos,
        Err(e) => e.to_errno() as bindings::loff_t,
    }
}
