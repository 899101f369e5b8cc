// SPDX-License-Identifier: GPL-2.0

//! `struct dentry` (linux/dcache.h, linux/namei.h).

use super::{bindings, errno, Iattr, Inode, MntIdmap};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    ffi,
    prelude::*,
    str::{CStr, CString},
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// An object's access and modification times.
pub(crate) struct Times {
    atime: bindings::timespec64,
    mtime: bindings::timespec64,
}

/// A directory entry; `ARef<Dentry>` owns one reference (dget/dput).
#[repr(transparent)]
pub(crate) struct Dentry(Opaque<bindings::dentry>);

// SAFETY: `dget` and `dput` keep the object alive; the refcount is atomic.
unsafe impl AlwaysRefCounted for Dentry {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live dentry, so taking a reference is valid.
        unsafe { bindings::dget(self.as_ptr()) };
    }

    /// # Safety
    /// `obj` is a live dentry and the caller gives up one reference it owns.
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
        // SAFETY: the caller gives up one reference to the live dentry
        // `ptr`, which `ARef` takes over; `Dentry` is a transparent `dentry`.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// The parent directory (the dentry itself at a root).
    pub(crate) fn parent(&self) -> ARef<Dentry> {
        // SAFETY: `dget_parent` returns a referenced, live dentry.
        unsafe { Dentry::from_owned(NonNull::new_unchecked(bindings::dget_parent(self.as_ptr()))) }
    }

    /// The union inode, for a positive dentry of an rsunion mount; `None`
    /// for anything else.
    pub(crate) fn union_inode(&self) -> Option<&super::RsInode> {
        // SAFETY: `d_sb` of a live dentry is live; an inode of a
        // superblock with our operations is one of ours.
        unsafe {
            let ours = core::ptr::eq((*(*self.as_ptr()).d_sb).s_op, &super::ops::SUPER_OPS.0);
            ours.then(|| self.inode()).flatten().map(|i| i.union())
        }
    }

    /// A symlink's target.
    pub(crate) fn link_target(&self) -> Result<CString> {
        let mut done = bindings::delayed_call::default();
        // SAFETY: `self` is live; the string lives until `done` runs.
        let target =
            from_err_ptr(unsafe { bindings::vfs_get_link(self.as_ptr(), &mut done) }.cast_mut());
        let copy = target.and_then(|t| {
            // SAFETY: `vfs_get_link` returned a C string.
            let t = unsafe { CStr::from_char_ptr(t) };
            CString::try_from_fmt(kernel::fmt!("{}", t))
        });
        // SAFETY: `done` was set up by `vfs_get_link` (or is empty).
        unsafe { bindings::do_delayed_call(&mut done) };
        copy
    }

    /// Gives this real object `src`'s owner, times, and (but for
    /// symlinks) mode, and for a regular file its size if `with_size`.
    pub(crate) fn set_attrs_like(
        &self,
        src: &Inode,
        mnt: &super::PrivateMount,
        with_size: bool,
    ) -> Result {
        let src = src.as_ptr();
        let mut attr = bindings::iattr::default();
        // SAFETY: `src` is live.
        unsafe {
            attr.ia_valid = bindings::ATTR_UID
                | bindings::ATTR_GID
                | bindings::ATTR_ATIME
                | bindings::ATTR_MTIME
                | bindings::ATTR_ATIME_SET
                | bindings::ATTR_MTIME_SET;
            attr.__bindgen_anon_1.ia_vfsuid.val = (*src).i_uid.val;
            attr.__bindgen_anon_2.ia_vfsgid.val = (*src).i_gid.val;
            attr.ia_atime = bindings::inode_get_atime(src);
            attr.ia_mtime = bindings::inode_get_mtime(src);
            let mode = u32::from((*src).i_mode);
            if mode & bindings::S_IFMT != bindings::S_IFLNK {
                attr.ia_valid |= bindings::ATTR_MODE;
                attr.ia_mode = (*src).i_mode;
            }
            if with_size && mode & bindings::S_IFMT == bindings::S_IFREG {
                attr.ia_valid |= bindings::ATTR_SIZE;
                attr.ia_size = bindings::i_size_read(src);
            }
        }
        self.notify_change(mnt, &mut Iattr(attr))
    }

    /// The object's access and modification times.
    pub(crate) fn times(&self) -> Result<Times> {
        let inode = self.inode().ok_or(ENOENT)?.as_ptr();
        // SAFETY: `inode` is live.
        unsafe {
            Ok(Times {
                atime: bindings::inode_get_atime(inode),
                mtime: bindings::inode_get_mtime(inode),
            })
        }
    }

    /// Sets the object's access and modification times.
    pub(crate) fn set_times(&self, mnt: &super::PrivateMount, times: &Times) -> Result {
        let mut attr = Iattr(bindings::iattr {
            ia_valid: bindings::ATTR_ATIME
                | bindings::ATTR_MTIME
                | bindings::ATTR_ATIME_SET
                | bindings::ATTR_MTIME_SET,
            ia_atime: times.atime,
            ia_mtime: times.mtime,
            ..Default::default()
        });
        self.notify_change(mnt, &mut attr)
    }

    /// Makes this negative union dentry stand for `inode`.
    pub(crate) fn instantiate(&self, inode: ARef<Inode>) {
        // SAFETY: `d_instantiate` takes over the inode reference.
        unsafe { bindings::d_instantiate(self.as_ptr(), ARef::into_raw(inode).as_ptr().cast()) };
    }

    /// Checks that the caller may change `attr` on this (union) object.
    pub(crate) fn setattr_prepare(&self, idmap: &MntIdmap, attr: &mut Iattr) -> Result {
        // `setattr_prepare` reads the inode: a negative dentry has none.
        self.inode().ok_or(ENOENT)?;
        // SAFETY: `self` is live and positive (checked above); `idmap` is
        // live for the borrow; `attr` is borrowed mutably, so ours alone.
        kernel::error::to_result(unsafe {
            bindings::setattr_prepare(idmap.as_ptr(), self.as_ptr(), &mut attr.0)
        })
    }

    /// Changes attributes of this real object, with its inode locked.
    /// A size change holds write access to the inode meanwhile.
    pub(crate) fn notify_change(&self, mnt: &super::PrivateMount, attr: &mut Iattr) -> Result {
        let inode = self.inode().ok_or(ENOENT)?.as_ptr();
        let attr = &mut attr.0;
        let truncating = attr.ia_valid & bindings::ATTR_SIZE != 0;
        // SAFETY: `inode` is live; `notify_change` runs with it locked;
        // write access is taken and given back around it.
        unsafe {
            if truncating {
                kernel::error::to_result(bindings::get_write_access(inode))?;
            }
            bindings::inode_lock(inode);
            let ret = bindings::notify_change(
                mnt.idmap().as_ptr(),
                self.as_ptr(),
                attr,
                core::ptr::null_mut(),
            );
            bindings::inode_unlock(inode);
            if truncating {
                bindings::put_write_access(inode);
            }
            kernel::error::to_result(ret)
        }
    }

    /// The inode, or `None` for a negative dentry.
    pub(crate) fn inode(&self) -> Option<&Inode> {
        // `d_inode()` read in place: the wrapper call would cost more
        // than the read, on every path walk step.
        // SAFETY: `self` is live; `d_inode` is read once, as READ_ONCE
        // would, and a referenced positive dentry keeps its inode.
        let inode =
            unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).d_inode)) };
        // SAFETY: non-NULL `d_inode` is live as long as `self`.
        (!inode.is_null()).then(|| unsafe { Inode::from_raw(inode) })
    }

    /// Whether `self` names the object `other` names: hard links are
    /// different dentries of one inode, as overlayfs's `ovl_matches_upper`
    /// knows.
    pub(crate) fn names_same_object(&self, other: &Dentry) -> bool {
        match (self.inode(), other.inode()) {
            (Some(a), Some(b)) => a.as_ptr() == b.as_ptr(),
            _ => false,
        }
    }

    pub(crate) fn is_negative(&self) -> bool {
        // SAFETY: `self` is live.
        unsafe { bindings::d_is_negative(self.as_ptr()) }
    }

    /// Hashed: what a lookup in its parent finds.
    pub(crate) fn is_hashed(&self) -> bool {
        // SAFETY: `self` is live.
        unsafe { bindings::d_unhashed(self.as_ptr()) == 0 }
    }

    /// Unhashes the dentry: the next lookup of its name builds it anew.
    pub(crate) fn drop_from_cache(&self) {
        // SAFETY: `self` is live; `d_drop` takes the locks it needs.
        unsafe { bindings::d_drop(self.as_ptr()) }
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
            core::slice::from_raw_parts(
                qstr.name,
                qstr.__bindgen_anon_1.__bindgen_anon_1.len as usize,
            )
        }
    }

    /// A copy of the entry's name, taken safely while it may be renamed.
    pub(crate) fn name_snapshot(&self) -> Result<KVec<u8>> {
        let mut snap = bindings::name_snapshot::default();
        // SAFETY: `self` is live; the snapshot holds the name (a reference
        // to an external one) until it is released below.
        unsafe { bindings::take_dentry_name_snapshot(&mut snap, self.as_ptr()) };
        // SAFETY: a snapshot's name is a C string while it is held.
        let name = unsafe { CStr::from_char_ptr(snap.name.name.cast()) };
        let mut copy = KVec::new();
        let copied = copy.extend_from_slice(name.as_bytes(), GFP_KERNEL);
        // SAFETY: taken above, released once.
        unsafe { bindings::release_dentry_name_snapshot(&mut snap) };
        copied?;
        Ok(copy)
    }

    /// Does this directory's listing name exactly what lookups in it find,
    /// and does every change of its names move its `i_version`? (Known
    /// only of some filesystems: see `rsunion_names_are_plain`.)
    pub(crate) fn names_are_plain(&self) -> bool {
        // SAFETY: `self` is a live dentry; `d_flags`' op bits are set when
        // it is allocated and do not change after.
        unsafe { bindings::rsunion_names_are_plain(self.as_ptr()) }
    }

    /// Looks `name` up in this directory, taking its lock: the result may be
    /// negative.
    pub(crate) fn lookup_unlocked(&self, idmap: &MntIdmap, name: &[u8]) -> Result<ARef<Dentry>> {
        // SAFETY: `lookup_one_unlocked` takes the directory's lock itself.
        unsafe { self.lookup_with(bindings::lookup_one_unlocked, idmap, name) }
    }

    /// Looks `name` up in this directory with `lookup`, reached through a
    /// mount with `idmap`.
    ///
    /// # Safety
    /// `lookup` is `lookup_one_unlocked`, or `lookup_one` with this
    /// directory locked by the caller.
    pub(super) unsafe fn lookup_with(
        &self,
        lookup: unsafe extern "C" fn(
            *mut bindings::mnt_idmap,
            *const ffi::c_char,
            *mut bindings::dentry,
            ffi::c_int,
        ) -> *mut bindings::dentry,
        idmap: &MntIdmap,
        name: &[u8],
    ) -> Result<ARef<Dentry>> {
        let len = i32::try_from(name.len()).map_err(|_| errno::enametoolong())?;
        // SAFETY: `self` is a live directory dentry, locked if `lookup`
        // needs it (the caller's contract); `name` is `len` bytes; `idmap`
        // is live for the borrow.
        let d = from_err_ptr(unsafe { lookup(idmap.as_ptr(), name.as_ptr(), self.as_ptr(), len) })?;
        // SAFETY: a successful lookup returns a referenced dentry, which
        // `from_owned` takes over.
        NonNull::new(d)
            .map(|d| unsafe { Dentry::from_owned(d) })
            .ok_or(ENOENT)
    }

    /// Reads extended attribute `name` into `buf`; `Ok(None)` when absent.
    pub(crate) fn getxattr(
        &self,
        idmap: &MntIdmap,
        name: &kernel::str::CStr,
        buf: &mut [u8],
    ) -> Result<Option<usize>> {
        // An empty buffer asks for the size: it must be NULL, or the
        // filesystem answers ERANGE.
        let ptr = if buf.is_empty() {
            core::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        // SAFETY: `self` is live; `ptr` is NULL or writable for `buf.len()`.
        let ret = unsafe {
            bindings::vfs_getxattr(
                idmap.as_ptr(),
                self.as_ptr(),
                name.as_char_ptr(),
                ptr,
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

/// A random key for hashing names into a table: names hashed under a key
/// userspace never sees cannot be chosen to collide. The hash is
/// HalfSipHash, the kernel's for tables that hostile input fills (the
/// dcache's `full_name_hash` is not meant to resist chosen names).
pub(crate) struct NameHashKey(bindings::hsiphash_key_t);

impl NameHashKey {
    pub(crate) fn random() -> Self {
        let mut key = bindings::hsiphash_key_t::default();
        // SAFETY: `get_random_bytes` writes `size_of_val(&key)` bytes to
        // `key`, which is that large and made of plain integers.
        unsafe {
            bindings::get_random_bytes(
                core::ptr::addr_of_mut!(key).cast(),
                core::mem::size_of_val(&key),
            )
        };
        Self(key)
    }

    /// The hash of `name` under this key.
    pub(crate) fn hash(&self, name: &[u8]) -> u32 {
        // SAFETY: `hsiphash` reads the `name.len()` bytes of `name` and the
        // key, both live for the call.
        unsafe { bindings::hsiphash(name.as_ptr().cast(), name.len(), &self.0) }
    }
}
