// SPDX-License-Identifier: GPL-2.0

//! `struct file_system_type` and the `fs_context_operations` behind it.

use super::{bindings, FsContext, FsParameter, SuperBlock};
use core::{marker::PhantomData, pin::Pin};
use kernel::ffi;
use kernel::{
    error::{from_result, to_result},
    prelude::*,
    str::CStr,
    types::{ForeignOwnable, Opaque},
};

/// A filesystem type as the VFS sees it: a name, the parameters one mount
/// attempt gathers, and how a superblock is filled from them.
pub(crate) trait FileSystem {
    /// The name `mount -t` and `/proc/filesystems` use.
    const NAME: &'static CStr;

    /// What the options of one mount attempt parse into; it lives in
    /// `fc->fs_private` from `init_fs_context` to `free`.
    type Params: Default + 'static;

    /// Takes one option (`fsconfig` or one `key=value` of `mount -o`).
    fn parse_param(fc: &FsContext, params: &mut Self::Params, param: &FsParameter) -> Result;

    /// Sets up a new superblock from the parsed parameters.
    fn fill_super(sb: &SuperBlock, fc: &FsContext, params: &mut Self::Params) -> Result;
}

/// A registered filesystem type; dropping it unregisters the type.
pub(crate) struct Registration {
    fs_type: Pin<KBox<Opaque<bindings::file_system_type>>>,
}

// SAFETY: after registration the VFS reads `file_system_type` under its own
// locks; Rust never touches it again until `Drop`, which runs once.
unsafe impl Send for Registration {}
// SAFETY: `Registration` has no methods taking `&self`.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers `T` with the VFS, owned by `module` so that the module
    /// cannot be unloaded while a superblock of the type exists.
    pub(crate) fn new<T: FileSystem>(module: &'static ThisModule) -> Result<Self> {
        let fs_type = KBox::pin(
            Opaque::new(bindings::file_system_type {
                name: T::NAME.as_char_ptr(),
                init_fs_context: Some(Context::<T>::init_fs_context),
                kill_sb: Some(bindings::kill_anon_super),
                owner: module.as_ptr().cast(),
                ..Default::default()
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `fs_type` is pinned in a box that lives until `Drop`
        // unregisters it, and its `name` is a `'static` C string.
        to_result(unsafe { bindings::register_filesystem(fs_type.get()) })?;
        Ok(Self { fs_type })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: `new` registered this very `file_system_type`.
        unsafe { bindings::unregister_filesystem(self.fs_type.get()) };
    }
}

/// The C entry points of the fs_context API for `T`.
struct Context<T>(PhantomData<T>);

impl<T: FileSystem> Context<T> {
    const OPS: bindings::fs_context_operations = bindings::fs_context_operations {
        free: Some(Self::free),
        dup: None,
        parse_param: Some(Self::parse_param),
        parse_monolithic: None,
        get_tree: Some(Self::get_tree),
        reconfigure: None,
    };

    /// # Safety
    /// Called by the VFS with a live, new `fc` of this type.
    unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> ffi::c_int {
        from_result(|| {
            let params = KBox::new(T::Params::default(), GFP_KERNEL)?;
            // SAFETY: the VFS hands a live `fc` that nothing else uses yet;
            // `free` takes `fs_private` back.
            unsafe {
                (*fc).fs_private = params.into_foreign() as *mut ffi::c_void;
                (*fc).ops = &Self::OPS;
            }
            Ok(0)
        })
    }

    /// # Safety
    /// `fc` is live and was set up by `init_fs_context`.
    unsafe extern "C" fn free(fc: *mut bindings::fs_context) {
        // SAFETY: `fs_private` came from `into_foreign` in
        // `init_fs_context` and `free` is called once.
        unsafe {
            let private = (*fc).fs_private;
            if !private.is_null() {
                drop(KBox::<T::Params>::from_foreign(private));
            }
        }
    }

    /// # Safety
    /// `fc` is live and was set up by `init_fs_context`; `param` is live.
    unsafe extern "C" fn parse_param(
        fc: *mut bindings::fs_context,
        param: *mut bindings::fs_parameter,
    ) -> ffi::c_int {
        // SAFETY: per this function's contract.
        let (fc, param, params) = unsafe {
            (
                FsContext::from_raw(fc),
                FsParameter::from_raw(param),
                Self::params(fc),
            )
        };
        from_result(|| T::parse_param(fc, params, param).map(|()| 0))
    }

    /// # Safety
    /// `fc` is live and was set up by `init_fs_context`.
    unsafe extern "C" fn get_tree(fc: *mut bindings::fs_context) -> ffi::c_int {
        // SAFETY: `fc` is live; `fill_super` matches what it expects.
        unsafe { bindings::get_tree_nodev(fc, Some(Self::fill_super)) }
    }

    /// # Safety
    /// Called by `get_tree_nodev` with a new superblock and our `fc`.
    unsafe extern "C" fn fill_super(
        sb: *mut bindings::super_block,
        fc: *mut bindings::fs_context,
    ) -> ffi::c_int {
        // SAFETY: per this function's contract.
        let (sb, fc_ref, params) =
            unsafe { (SuperBlock::from_raw(sb), FsContext::from_raw(fc), Self::params(fc)) };
        from_result(|| T::fill_super(sb, fc_ref, params).map(|()| 0))
    }

    /// # Safety
    /// `fc` was set up by `init_fs_context` and is not yet freed; the VFS
    /// serialises the callbacks of one `fc`, so the borrow is unique.
    unsafe fn params<'a>(fc: *mut bindings::fs_context) -> &'a mut T::Params {
        // SAFETY: `fs_private` holds the `KBox<T::Params>` from
        // `init_fs_context` until `free`.
        unsafe { &mut *(*fc).fs_private.cast::<T::Params>() }
    }
}
