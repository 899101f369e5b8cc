// SPDX-License-Identifier: GPL-2.0

//! `struct seq_file` (linux/seq_file.h), as `show_options` writes to it.

use super::{bindings, Path};
use kernel::{str::CStr, types::Opaque};

/// A seq_file being written.
#[repr(transparent)]
pub(crate) struct SeqFile(Opaque<bindings::seq_file>);

impl SeqFile {
    /// # Safety
    /// `ptr` is a live seq_file for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::seq_file) -> &'a Self {
        // SAFETY: transparent wrapper over a live seq_file.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn puts(&self, s: &CStr) {
        // SAFETY: `self` is live; `s` is a C string.
        unsafe { bindings::seq_puts(self.0.get(), s.as_char_ptr()) };
    }

    /// Writes `path` as seen from the current root, octal-escaping `esc`
    /// and the characters a mount option line cannot hold.
    pub(crate) fn path(&self, path: &Path, esc: &CStr) {
        // SAFETY: `self` and `path` are live; `esc` is a C string.
        unsafe { bindings::seq_path(self.0.get(), path.as_ptr(), esc.as_char_ptr()) };
    }
}
