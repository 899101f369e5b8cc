// SPDX-License-Identifier: GPL-2.0

//! Extended attributes of real objects (linux/xattr.h).

use super::{bindings, errno, Dentry, FileAttr, PrivateMount};
use kernel::{c_str, error::to_result, ffi, prelude::*, str::CStr};

/// Reads a value of a size the kernel tells first: `read` called with an
/// empty buffer answers the size, then fills a buffer that big; `None`
/// when there is no value. A value that grew between the two calls
/// (`ERANGE`) is asked for again.
fn read_sized(
    mut read: impl FnMut(&mut [u8]) -> Result<Option<usize>>,
) -> Result<Option<KVec<u8>>> {
    loop {
        let Some(size) = read(&mut [])? else {
            return Ok(None);
        };
        let mut value = KVec::from_elem(0u8, size, GFP_KERNEL)?;
        if size == 0 {
            return Ok(Some(value));
        }
        match read(&mut value) {
            Ok(Some(n)) => {
                // SAFETY: `from_elem` initialised all `size` bytes, and
                // `n.min(size)` is not more.
                unsafe { value.set_len(n.min(size)) };
                return Ok(Some(value));
            }
            Ok(None) => return Ok(None),
            Err(e) if e == ERANGE => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The names `listxattr` returns for one object.
pub(crate) struct XattrList(KVec<u8>);

impl XattrList {
    /// Reads the list of `d`'s xattr names, as the current credentials.
    pub(crate) fn read(d: &Dentry) -> Result<Self> {
        let mut probed = false;
        let list = read_sized(|buf| {
            // A filesystem without xattrs has an empty list.
            let first = !core::mem::replace(&mut probed, true);
            match d.listxattr(buf) {
                Err(e) if first && e == errno::eopnotsupp() => Ok(Some(0)),
                r => r.map(Some),
            }
        })?;
        Ok(Self(list.unwrap_or_default()))
    }

    /// The names, each a C string.
    pub(crate) fn names(&self) -> impl Iterator<Item = &CStr> {
        self.0
            .split_inclusive(|&c| c == 0)
            .filter_map(|n| CStr::from_bytes_with_nul(n).ok())
            .filter(|n| !n.is_empty())
    }
}

impl Dentry {
    /// The value of xattr `name`, `None` when it has none.
    pub(crate) fn getxattr_alloc(
        &self,
        mnt: &PrivateMount,
        name: &CStr,
    ) -> Result<Option<KVec<u8>>> {
        read_sized(|buf| self.getxattr(mnt.idmap(), name, buf))
    }

    pub(crate) fn setxattr(&self, mnt: &PrivateMount, name: &CStr, value: &[u8]) -> Result {
        self.setxattr_flags(mnt, name, value, 0)
    }

    /// Copies POSIX ACL `name` (`system.posix_acl_*`) of this object to
    /// `to`: since 6.2 ACLs are not xattrs to `vfs_getxattr`. Nothing to do
    /// when there is none or the filesystem has none.
    pub(crate) fn copy_acl(
        &self,
        mnt: &PrivateMount,
        to: &Dentry,
        to_mnt: &PrivateMount,
        name: &CStr,
    ) -> Result {
        // SAFETY: `self` is live; `name` is a C string.
        let acl = unsafe {
            bindings::vfs_get_acl(mnt.idmap().as_ptr(), self.as_ptr(), name.as_char_ptr())
        };
        let acl = match kernel::error::from_err_ptr(acl) {
            Ok(acl) if acl.is_null() => return Ok(()),
            Ok(acl) => acl,
            Err(e) if e == errno::enodata() || e == errno::eopnotsupp() => return Ok(()),
            Err(e) => return Err(e),
        };
        // The lower filesystem may cache `acl`: set a copy, as overlayfs's
        // ovl_copy_acl does.
        // SAFETY: `acl` is a referenced ACL, released once here.
        let clone = unsafe {
            let clone = bindings::posix_acl_clone(acl, kernel::bindings::GFP_KERNEL);
            bindings::posix_acl_release(acl);
            clone
        };
        if clone.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `to` is live; `clone` is ours, released once here.
        unsafe {
            let set = bindings::vfs_set_acl(
                to_mnt.idmap().as_ptr(),
                to.as_ptr(),
                name.as_char_ptr(),
                clone,
            );
            bindings::posix_acl_release(clone);
            to_result(set)
        }
    }
}

impl Dentry {
    /// Removes POSIX ACL `name` (`system.posix_acl_*`) from this new
    /// object if it has one: what it took from the directory it was made
    /// in. A symlink has none, and only a directory a default one.
    pub(crate) fn drop_acl(&self, mnt: &PrivateMount, name: &CStr) -> Result {
        let kind = u32::from(self.inode().ok_or(ENOENT)?.mode()) & bindings::S_IFMT;
        let default = name.as_bytes() == ACL_DEFAULT.as_bytes();
        if kind == bindings::S_IFLNK || (default && kind != bindings::S_IFDIR) {
            return Ok(());
        }
        // Asked first: removing nothing still changes the ctime and
        // notifies watchers, and most work directories have no default ACL.
        // SAFETY: `self` is live; `name` is a C string.
        let acl = unsafe {
            bindings::vfs_get_acl(mnt.idmap().as_ptr(), self.as_ptr(), name.as_char_ptr())
        };
        match kernel::error::from_err_ptr(acl) {
            // SAFETY: `acl` is a referenced ACL, released once here (none
            // is `-ENODATA`, not NULL).
            Ok(acl) => unsafe { bindings::posix_acl_release(acl) },
            Err(e) if e == errno::enodata() || e == errno::eopnotsupp() => return Ok(()),
            Err(e) => return Err(e),
        }
        // SAFETY: `self` is live; `name` is a C string.
        to_result(unsafe {
            bindings::vfs_remove_acl(mnt.idmap().as_ptr(), self.as_ptr(), name.as_char_ptr())
        })
    }

    /// Removes both kinds of POSIX ACL from this new object (see
    /// [`Dentry::drop_acl`]).
    pub(crate) fn drop_acls(&self, mnt: &PrivateMount) -> Result {
        self.drop_acl(mnt, ACL_ACCESS)?;
        self.drop_acl(mnt, ACL_DEFAULT)
    }
}

const ACL_ACCESS: &CStr = c_str!("system.posix_acl_access");
const ACL_DEFAULT: &CStr = c_str!("system.posix_acl_default");

/// An xattr handler table entry the VFS reads from any thread.
#[repr(transparent)]
struct Handler(bindings::xattr_handler);

// SAFETY: immutable after initialisation; the pointers are to statics.
unsafe impl Sync for Handler {}

/// The NULL-terminated handler list of `sb->s_xattr`.
#[repr(transparent)]
pub(crate) struct Handlers([*const bindings::xattr_handler; 3]);

// SAFETY: never written; the pointers are to the immutable `static`
// handlers, or NULL.
unsafe impl Sync for Handlers {}

impl Handlers {
    pub(crate) fn as_ptr(&self) -> *const *const bindings::xattr_handler {
        self.0.as_ptr()
    }
}

/// The union's own names (`trusted.overlay.*`): refused.
static PRIVATE: Handler = Handler(bindings::xattr_handler {
    name: core::ptr::null(),
    prefix: c"trusted.overlay.".as_ptr().cast(),
    flags: 0,
    list: None,
    get: Some(private_get),
    set: Some(private_set),
});

/// Every other name (an empty prefix matches all): passed through.
static OTHER: Handler = Handler(bindings::xattr_handler {
    name: core::ptr::null(),
    prefix: c"".as_ptr().cast(),
    flags: 0,
    list: None,
    get: Some(other_get),
    set: Some(other_set),
});

pub(crate) static HANDLERS: Handlers = Handlers([&PRIVATE.0, &OTHER.0, core::ptr::null()]);

/// `trusted.overlay.NAME` through the union: an escaped name on the real
/// object (see `xattr::get_escaped`).
///
/// # Safety
/// VFS callback: as `other_get`; `name` is what follows the prefix.
unsafe extern "C" fn private_get(
    _h: *const bindings::xattr_handler,
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    name: *const ffi::c_char,
    buffer: *mut ffi::c_void,
    size: usize,
) -> ffi::c_int {
    // SAFETY: these are our superblocks' `s_xattr` handlers, so the VFS
    // passes a positive dentry of ours it holds, the name after the prefix
    // (a C string), and `buffer` writable for `size` bytes, for the call.
    let (d, name, buf) = unsafe { get_args(dentry, name, buffer, size) };
    kernel::error::from_result(|| crate::xattr::get_escaped(d, name, buf).map(|n| n as ffi::c_int))
}

/// # Safety
/// VFS callback: as `other_set`; `name` is what follows the prefix.
unsafe extern "C" fn private_set(
    _h: *const bindings::xattr_handler,
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    name: *const ffi::c_char,
    value: *const ffi::c_void,
    size: usize,
    flags: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: these are our superblocks' `s_xattr` handlers, so the VFS
    // passes a positive dentry of ours it holds, the name after the prefix
    // (a C string), and `value` readable for `size` bytes or NULL.
    let (d, name, value) = unsafe { set_args(dentry, name, value, size) };
    kernel::error::from_result(|| crate::xattr::set_escaped(d, name, value, flags).map(|()| 0))
}

/// The arguments of a `get` handler as Rust values.
///
/// # Safety
/// `dentry` is a positive dentry of ours; `name` is a C string; `buffer`
/// is writable for `size` bytes (or `size` is 0); all live for `'a`.
unsafe fn get_args<'a>(
    dentry: *mut bindings::dentry,
    name: *const ffi::c_char,
    buffer: *mut ffi::c_void,
    size: usize,
) -> (&'a Dentry, &'a CStr, &'a mut [u8]) {
    // SAFETY: the caller passes `dentry` live, `name` a C string and
    // `buffer` writable for `size` bytes, used by nothing else, all for
    // `'a`; `size` 0 makes no slice of a possibly NULL `buffer`.
    unsafe {
        let buf: &mut [u8] = if size == 0 {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(buffer.cast(), size)
        };
        (Dentry::from_raw(dentry), CStr::from_char_ptr(name), buf)
    }
}

/// The arguments of a `set` handler as Rust values; `None` removes.
///
/// # Safety
/// `dentry` is a positive dentry of ours; `name` is a C string; `value`
/// is readable for `size` bytes, or NULL; all live for `'a`.
unsafe fn set_args<'a>(
    dentry: *mut bindings::dentry,
    name: *const ffi::c_char,
    value: *const ffi::c_void,
    size: usize,
) -> (&'a Dentry, &'a CStr, Option<&'a [u8]>) {
    // SAFETY: the caller passes `dentry` live, `name` a C string and
    // `value` NULL (no slice is made) or readable for `size` bytes, all
    // for `'a`.
    unsafe {
        let value =
            (!value.is_null()).then(|| core::slice::from_raw_parts(value.cast::<u8>(), size));
        (Dentry::from_raw(dentry), CStr::from_char_ptr(name), value)
    }
}

/// # Safety
/// VFS callback: `dentry` is a positive dentry of ours; `name` is a C
/// string; `buffer` is writable for `size` bytes (or `size` is 0).
unsafe extern "C" fn other_get(
    _h: *const bindings::xattr_handler,
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    name: *const ffi::c_char,
    buffer: *mut ffi::c_void,
    size: usize,
) -> ffi::c_int {
    // SAFETY: this is our superblocks' `s_xattr` handler, so the VFS
    // passes a positive dentry of ours it holds, the name (a C string; the
    // empty prefix strips nothing), and `buffer` writable for `size` bytes.
    let (d, name, buf) = unsafe { get_args(dentry, name, buffer, size) };
    kernel::error::from_result(|| crate::xattr::get(d, name, buf).map(|n| n as ffi::c_int))
}

/// # Safety
/// VFS callback: as `other_get`; `value` is readable for `size` bytes, or
/// NULL to remove the name.
unsafe extern "C" fn other_set(
    _h: *const bindings::xattr_handler,
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    name: *const ffi::c_char,
    value: *const ffi::c_void,
    size: usize,
    flags: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: this is our superblocks' `s_xattr` handler, so the VFS
    // passes a positive dentry of ours it holds, the name (a C string), and
    // `value` readable for `size` bytes or NULL.
    let (d, name, value) = unsafe { set_args(dentry, name, value, size) };
    kernel::error::from_result(|| crate::xattr::set(d, name, value, flags).map(|()| 0))
}

/// `inode_operations.listxattr`.
///
/// # Safety
/// VFS callback: `dentry` is a positive dentry of ours; `list` is writable
/// for `size` bytes (or `size` is 0).
pub(crate) unsafe extern "C" fn listxattr(
    dentry: *mut bindings::dentry,
    list: *mut ffi::c_char,
    size: usize,
) -> isize {
    // SAFETY: `->listxattr` is only in our inode tables, so `dentry` is a
    // positive dentry of ours, held by the VFS; `list` is its buffer,
    // writable for `size` bytes and used by nothing else meanwhile.
    let (d, buf) = unsafe {
        let buf: &mut [u8] = if size == 0 {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(list, size)
        };
        (Dentry::from_raw(dentry), buf)
    };
    match crate::xattr::list(d, buf) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

impl Dentry {
    /// Lists this real object's xattr names into `buf` (or, when `buf` is
    /// empty, says how long the list is).
    pub(crate) fn listxattr(&self, buf: &mut [u8]) -> Result<usize> {
        let ptr = if buf.is_empty() {
            core::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        // SAFETY: `self` is live; `ptr` is writable for `buf.len()` bytes.
        let n = unsafe { bindings::vfs_listxattr(self.as_ptr(), ptr, buf.len()) };
        if n < 0 {
            return Err(Error::from_errno(n as i32));
        }
        Ok(n as usize)
    }

    /// Reads this object's inode flags attributes into `fa`, after the
    /// security check on the ioctl that reads them (`vfs_fileattr_get`).
    pub(crate) fn fileattr_get(&self, mnt: &PrivateMount, fa: &mut FileAttr) -> Result {
        // SAFETY: `self` is live and on `mnt`; `fa` is ours for the call.
        let r = unsafe {
            match bindings::rsunion_fileattr_security(
                mnt.as_ptr(),
                self.as_ptr(),
                fa.as_mut_ptr(),
                false,
            ) {
                0 => bindings::vfs_fileattr_get(self.as_ptr(), fa.as_mut_ptr()),
                e => e,
            }
        };
        // What the ioctl would answer for a filesystem without them.
        match to_result(r) {
            Err(e) if e == errno::enoioctlcmd() => Err(ENOTTY),
            r => r,
        }
    }

    /// Sets this object's inode flags attributes to `fa`, after the
    /// security check on the ioctl that sets them (`vfs_fileattr_set`).
    pub(crate) fn fileattr_set(&self, mnt: &PrivateMount, fa: &mut FileAttr) -> Result {
        // SAFETY: `self` is live and on `mnt`; `fa` is ours for the call.
        to_result(unsafe {
            match bindings::rsunion_fileattr_security(
                mnt.as_ptr(),
                self.as_ptr(),
                fa.as_mut_ptr(),
                true,
            ) {
                0 => {
                    bindings::vfs_fileattr_set(mnt.idmap().as_ptr(), self.as_ptr(), fa.as_mut_ptr())
                }
                e => e,
            }
        })
    }

    pub(crate) fn removexattr(&self, mnt: &PrivateMount, name: &CStr) -> Result {
        // SAFETY: `self` is live; `name` is a C string.
        to_result(unsafe {
            bindings::vfs_removexattr(mnt.idmap().as_ptr(), self.as_ptr(), name.as_char_ptr())
        })
    }

    /// Sets xattr `name` with `flags` (`XATTR_CREATE`, `XATTR_REPLACE`).
    pub(crate) fn setxattr_flags(
        &self,
        mnt: &PrivateMount,
        name: &CStr,
        value: &[u8],
        flags: i32,
    ) -> Result {
        // SAFETY: `self` is live; `value` is readable for its length.
        to_result(unsafe {
            bindings::vfs_setxattr(
                mnt.idmap().as_ptr(),
                self.as_ptr(),
                name.as_char_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags,
            )
        })
    }
}

/// `inode_operations.get_inode_acl`: the real object's ACL, for permission
/// checks on the union inode (also in RCU path walks).
///
/// # Safety
/// VFS callback: `inode` is one of ours.
pub(crate) unsafe extern "C" fn get_inode_acl(
    inode: *mut bindings::inode,
    acl_type: ffi::c_int,
    rcu: bool,
) -> *mut bindings::posix_acl {
    // SAFETY: `->get_inode_acl` is only in our inode tables, so
    // `alloc_union_inode` made `inode`; the VFS holds it, or in an RCU walk
    // RCU keeps it (`free_union_inode` runs after a grace period).
    let rs = unsafe { super::Inode::from_raw(inode).union() };
    let acl = crate::xattr::get_inode_acl(rs, rcu, |real| {
        // SAFETY: `real` is live for the call (in an RCU walk, RCU keeps
        // it so), and only the cached ACL is read there, without sleeping.
        unsafe {
            if rcu {
                bindings::get_cached_acl_rcu(real.as_ptr(), acl_type)
            } else {
                bindings::get_inode_acl(real.as_ptr(), acl_type)
            }
        }
    });
    acl.unwrap_or_else(|e| e.to_ptr())
}

/// `inode_operations.get_acl`: `getxattr` of `system.posix_acl_*`.
///
/// # Safety
/// VFS callback: `dentry` is a positive dentry of ours.
pub(crate) unsafe extern "C" fn get_acl(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl_type: ffi::c_int,
) -> *mut bindings::posix_acl {
    // SAFETY: the VFS holds `dentry` across `->get_acl`, which is only in
    // our inode tables.
    let d = unsafe { Dentry::from_raw(dentry) };
    let acl = crate::xattr::get_acl(d, |path| {
        // SAFETY: `path` holds references to its mount and dentry, and
        // pins the mount's idmap; the name is a static C string.
        unsafe {
            bindings::vfs_get_acl(
                bindings::mnt_idmap((*path.as_ptr()).mnt),
                path.dentry().as_ptr(),
                bindings::posix_acl_xattr_name(acl_type),
            )
        }
    });
    acl.unwrap_or_else(|e| e.to_ptr())
}

/// What a new object made in the work directory, to be moved into real
/// directory `parent`, must get to look made there: the mode and ACLs
/// `posix_acl_create` derives from `parent`'s default ACL and the caller's
/// umask, and a setgid directory's group.
pub(crate) struct Inherited {
    mode: bindings::umode_t,
    acl: *mut bindings::posix_acl,
    default_acl: *mut bindings::posix_acl,
}

impl Inherited {
    pub(crate) fn from_parent(parent: &super::Inode, mode: u32) -> Result<Self> {
        let mut this = Self {
            mode: mode as bindings::umode_t,
            acl: core::ptr::null_mut(),
            default_acl: core::ptr::null_mut(),
        };
        // SAFETY: `parent` is live; on success the ACLs are ours to release.
        to_result(unsafe {
            bindings::posix_acl_create(
                parent.as_ptr(),
                &mut this.mode,
                &mut this.default_acl,
                &mut this.acl,
            )
        })?;
        Ok(this)
    }

    /// The mode to make the object with.
    pub(crate) fn mode(&self) -> u32 {
        u32::from(self.mode)
    }

    /// Gives `d` (made with `mode()`) the mode, group and ACLs it would
    /// have had in `parent`: the work directory applied its own.
    pub(crate) fn apply(&self, d: &Dentry, mnt: &PrivateMount, parent: &super::Inode) -> Result {
        // SAFETY: `d` is positive and live; `parent` is live.
        to_result(unsafe {
            bindings::rsunion_set_new_owner_mode(
                mnt.idmap().as_ptr(),
                d.as_ptr(),
                parent.as_ptr(),
                self.mode,
            )
        })?;
        let acls = [(self.acl, ACL_ACCESS), (self.default_acl, ACL_DEFAULT)];
        for (acl, name) in acls {
            if acl.is_null() {
                // `parent` gives none of this kind: one the work directory
                // gave must go, as overlayfs's work directory gives none.
                d.drop_acl(mnt, name)?;
                continue;
            }
            // SAFETY: `d` is live; `acl` is a live ACL we hold.
            to_result(unsafe {
                bindings::vfs_set_acl(mnt.idmap().as_ptr(), d.as_ptr(), name.as_char_ptr(), acl)
            })?;
        }
        Ok(())
    }
}

impl Drop for Inherited {
    fn drop(&mut self) {
        // SAFETY: each is NULL or a reference `posix_acl_create` gave us.
        unsafe {
            bindings::posix_acl_release(self.acl);
            bindings::posix_acl_release(self.default_acl);
        }
    }
}

/// An access ACL, not a directory's default one (uapi/linux/posix_acl.h).
const ACL_TYPE_ACCESS: ffi::c_int = 0x8000;

/// `inode_operations.set_acl`: `setxattr`/`removexattr` of
/// `system.posix_acl_*`, on the upper copy.
///
/// # Safety
/// VFS callback: `dentry` is a positive dentry of ours; `acl` is NULL (to
/// remove) or live.
pub(crate) unsafe extern "C" fn set_acl(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl: *mut bindings::posix_acl,
    acl_type: ffi::c_int,
) -> ffi::c_int {
    // SAFETY: the VFS holds `dentry` across `->set_acl`, which is only in
    // our inode tables; `idmap` is live for the call.
    let (d, idmap) = unsafe { (Dentry::from_raw(dentry), super::MntIdmap::from_raw(idmap)) };
    let access = acl_type == ACL_TYPE_ACCESS;
    let set = crate::xattr::set_acl(d, idmap, access, |upper, mnt| {
        // SAFETY: `upper` and `mnt` are live; the name is a static C
        // string; `acl` is NULL (remove) or the VFS's live ACL.
        to_result(unsafe {
            let name = bindings::posix_acl_xattr_name(acl_type);
            if acl.is_null() {
                bindings::vfs_remove_acl(mnt.idmap().as_ptr(), upper.as_ptr(), name)
            } else {
                bindings::vfs_set_acl(mnt.idmap().as_ptr(), upper.as_ptr(), name, acl)
            }
        })
    });
    kernel::error::from_result(|| set.map(|()| 0))
}
