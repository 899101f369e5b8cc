// SPDX-License-Identifier: GPL-2.0

//! `struct fs_context` and `struct fs_parameter` (linux/fs_context.h).

use super::bindings;
use core::fmt;
use kernel::{
    prelude::*,
    str::{CStr, CString},
    types::Opaque,
};

/// One mount attempt's context.
#[repr(transparent)]
pub(crate) struct FsContext(Opaque<bindings::fs_context>);

impl FsContext {
    /// # Safety
    /// `ptr` is a live `fs_context` for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a Self {
        // SAFETY: `FsContext` is a transparent wrapper; `ptr` is live.
        unsafe { &*ptr.cast() }
    }

    /// A remount, not a new mount.
    pub(crate) fn is_reconfigure(&self) -> bool {
        // SAFETY: `self` wraps a live `fs_context`.
        unsafe {
            (*self.0.get()).purpose() == bindings::fs_context_purpose_FS_CONTEXT_FOR_RECONFIGURE
        }
    }

    /// Set up by mount(2) rather than fsopen()/fsconfig().
    pub(crate) fn is_old_api(&self) -> bool {
        // SAFETY: `self` wraps a live `fs_context`.
        unsafe { (*self.0.get()).oldapi() }
    }

    /// Whether the superblock is to be read-only.
    pub(crate) fn wants_read_only(&self) -> bool {
        // SAFETY: `self` wraps a live `fs_context`.
        unsafe { (*self.0.get()).sb_flags & bindings::SB_RDONLY as u32 != 0 }
    }

    /// Refuses the mount: logs `args` (see [`Self::log_err`]) and returns
    /// `EINVAL`.
    pub(crate) fn invalf(&self, args: fmt::Arguments<'_>) -> Error {
        self.log_err(args);
        EINVAL
    }

    /// Logs why a mount is refused: in dmesg with the module prefix and,
    /// for fsopen() callers, in the context's log too.
    pub(crate) fn log_err(&self, args: fmt::Arguments<'_>) {
        pr_err!("{}\n", args);
        // SAFETY: `self` wraps a live `fs_context`; `log` is its own field.
        let log = unsafe { (*self.0.get()).log };
        if !log.log.is_null() {
            if let Ok(msg) = CString::try_from_fmt(args) {
                // SAFETY: `log.log` is the live log buffer of this context;
                // the format consumes exactly one C string argument.
                unsafe {
                    bindings::logfc(
                        log.log,
                        log.prefix,
                        b'e',
                        c"%s".as_ptr().cast(),
                        msg.as_char_ptr(),
                    )
                };
            }
        }
    }
}

/// One option being set on an `FsContext`.
#[repr(transparent)]
pub(crate) struct FsParameter(Opaque<bindings::fs_parameter>);

impl FsParameter {
    /// # Safety
    /// `ptr` is a live `fs_parameter` for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fs_parameter) -> &'a Self {
        // SAFETY: `FsParameter` is a transparent wrapper; `ptr` is live.
        unsafe { &*ptr.cast() }
    }

    /// The option's value when it was given as a string (`key=value`);
    /// `None` for a bare `key` or a value of another kind.
    pub(crate) fn string(&self) -> Option<&CStr> {
        // SAFETY: `string` is valid when `type_` says so, for the
        // parameter's lifetime.
        unsafe {
            let p = &*self.0.get();
            (p.type_() == bindings::fs_value_type_fs_value_is_string
                && !p.__bindgen_anon_1.string.is_null())
            .then(|| CStr::from_char_ptr(p.__bindgen_anon_1.string))
        }
    }

    /// The option's name.
    pub(crate) fn key(&self) -> &CStr {
        // SAFETY: the VFS never passes a parameter without a key
        // (`vfs_parse_fs_param` refuses those), and it is a C string.
        unsafe { CStr::from_char_ptr((*self.0.get()).key) }
    }
}
