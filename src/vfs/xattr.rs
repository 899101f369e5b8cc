// SPDX-License-Identifier: GPL-2.0

//! Extended attributes of real objects (linux/xattr.h).

use super::{bindings, errno, Dentry, PrivateMount};
use kernel::{error::to_result, prelude::*, str::CStr};

/// The names `listxattr` returns for one object.
pub(crate) struct XattrList(KVec<u8>);

impl XattrList {
    /// Reads the list of `d`'s xattr names, as the current credentials.
    pub(crate) fn read(d: &Dentry) -> Result<Self> {
        loop {
            // SAFETY: `d` is live; a NULL buffer asks for the size.
            let size = unsafe { bindings::vfs_listxattr(d.as_ptr(), core::ptr::null_mut(), 0) };
            let size = match size {
                n if n >= 0 => n as usize,
                n if Error::from_errno(n as i32) == errno::eopnotsupp() => 0,
                n => return Err(Error::from_errno(n as i32)),
            };
            let mut buf = KVec::from_elem(0u8, size, GFP_KERNEL)?;
            if size == 0 {
                return Ok(Self(buf));
            }
            // SAFETY: `buf` is writable for `size` bytes.
            let got = unsafe { bindings::vfs_listxattr(d.as_ptr(), buf.as_mut_ptr().cast(), size) };
            match got {
                n if n >= 0 => {
                    // SAFETY: the kernel wrote `n <= size` bytes.
                    unsafe { buf.set_len(n as usize) };
                    return Ok(Self(buf));
                }
                // The list grew between the two calls: ask again.
                n if Error::from_errno(n as i32) == ERANGE => continue,
                n => return Err(Error::from_errno(n as i32)),
            }
        }
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
    pub(crate) fn getxattr_alloc(&self, mnt: &PrivateMount, name: &CStr) -> Result<Option<KVec<u8>>> {
        loop {
            let Some(size) = self.getxattr(mnt.idmap(), name, &mut [])? else {
                return Ok(None);
            };
            let mut value = KVec::from_elem(0u8, size, GFP_KERNEL)?;
            match self.getxattr(mnt.idmap(), name, &mut value) {
                Ok(Some(n)) => {
                    // SAFETY: `n` bytes of `value` were written, `n <= size`.
                    unsafe { value.set_len(n.min(size)) };
                    return Ok(Some(value));
                }
                Ok(None) => return Ok(None),
                Err(e) if e == ERANGE => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn setxattr(&self, mnt: &PrivateMount, name: &CStr, value: &[u8]) -> Result {
        // SAFETY: `self` is live; `value` is readable for its length.
        to_result(unsafe {
            bindings::vfs_setxattr(
                mnt.idmap(),
                self.as_ptr(),
                name.as_char_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        })
    }
}
