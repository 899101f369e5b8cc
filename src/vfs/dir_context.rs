// SPDX-License-Identifier: GPL-2.0

//! `struct dir_context` (linux/fs.h): reading a real directory's entries
//! into Rust, and emitting the union's entries to getdents.

use super::{bindings, File, RealFile};
use kernel::{error::to_result, ffi, prelude::*, types::Opaque};

/// One entry of a real directory.
pub(crate) struct RawEntry<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) ino: u64,
    /// `DT_*`
    pub(crate) d_type: u32,
    /// The directory position of this entry.
    pub(crate) pos: i64,
}

/// Reads every entry of `dir`, a directory just opened by
/// [`RealFile::open_dir`], into `take`; stops early, with its error, when
/// `take` fails.
pub(crate) fn read_real_dir(
    dir: &RealFile,
    take: &mut dyn FnMut(RawEntry<'_>) -> Result,
) -> Result {
    read_real_dir_on(dir, &mut |e| take(e).map(|()| true))
}

/// Reads the entries of open directory `dir` from its position on, into
/// `take`, until `take` says no (`dir` is then left at that entry) or
/// fails.
pub(crate) fn read_real_dir_on(
    dir: &RealFile,
    take: &mut dyn FnMut(RawEntry<'_>) -> Result<bool>,
) -> Result {
    let mut reader = Reader {
        ctx: bindings::dir_context {
            actor: Some(actor),
            pos: 0,
        },
        take,
        result: Ok(()),
    };
    // SAFETY: `dir` is an open directory; `reader.ctx` is the first field
    // of a `#[repr(C)]` struct the actor can recover from it.
    to_result(unsafe { bindings::iterate_dir(dir.as_ptr(), &mut reader.ctx) })?;
    reader.result
}

#[repr(C)]
struct Reader<'a> {
    ctx: bindings::dir_context,
    take: &'a mut dyn FnMut(RawEntry<'_>) -> Result<bool>,
    result: Result,
}

/// # Safety
/// Called by `iterate_dir` with the `ctx` of a live `Reader` and a name of
/// `len` bytes.
unsafe extern "C" fn actor(
    ctx: *mut bindings::dir_context,
    name: *const ffi::c_char,
    len: ffi::c_int,
    offset: bindings::loff_t,
    ino: u64,
    d_type: ffi::c_uint,
) -> bool {
    // SAFETY: `ctx` is the first field of a `Reader` (see `read_real_dir_on`).
    let reader = unsafe { &mut *ctx.cast::<Reader<'_>>() };
    // SAFETY: `name` points to `len` bytes for the duration of the call.
    let name = unsafe { core::slice::from_raw_parts(name, len as usize) };
    let entry = RawEntry {
        name,
        ino,
        d_type,
        pos: offset,
    };
    match (reader.take)(entry) {
        Ok(more) => more,
        Err(e) => {
            reader.result = Err(e);
            false
        }
    }
}

/// getdents' cursor over a union directory.
#[repr(transparent)]
pub(crate) struct DirContext(Opaque<bindings::dir_context>);

impl DirContext {
    /// # Safety
    /// `ptr` is a live `dir_context` for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::dir_context) -> &'a Self {
        // SAFETY: transparent wrapper over a live context.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: `self` is live and ours for the call.
        unsafe { (*self.0.get()).pos }
    }

    pub(crate) fn set_pos(&self, pos: i64) {
        // SAFETY: `self` is live, and the getdents call that lent it to us
        // uses it only through us meanwhile.
        unsafe { (*self.0.get()).pos = pos };
    }

    /// Emits `.` and `..` if `pos` is before them; false when the buffer
    /// is full.
    pub(crate) fn emit_dots(&self, file: &File) -> bool {
        // SAFETY: `file` is the directory being read with this context.
        unsafe { bindings::dir_emit_dots(file.as_ptr(), self.0.get()) }
    }

    /// Emits one entry; false when the buffer is full.
    pub(crate) fn emit(&self, name: &[u8], ino: u64, d_type: u32) -> bool {
        // SAFETY: `name` is `len` bytes; `self` is live.
        unsafe {
            bindings::dir_emit(
                self.0.get(),
                name.as_ptr(),
                name.len() as ffi::c_int,
                ino,
                d_type,
            )
        }
    }
}
