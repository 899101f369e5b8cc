// SPDX-License-Identifier: GPL-2.0

//! `struct file_system_type` and the `fs_context_operations` behind it.

use super::{bindings, FsContext, FsParameter, NewSuperBlock};
use core::{
    marker::PhantomData,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::{from_result, to_result},
    ffi,
    prelude::*,
    str::CStr,
    types::{ForeignOwnable, Opaque},
};

/// A filesystem type as the VFS sees it: a name, the parameters one mount
/// attempt gathers, the per-superblock data built from them, and how a
/// superblock is filled.
pub(crate) trait FileSystem {
    /// The name `mount -t` and `/proc/filesystems` use.
    const NAME: &'static CStr;

    /// What the options of one mount attempt parse into; it lives in
    /// `fc->fs_private` from `init_fs_context` to `free`.
    type Params: Default + 'static;

    /// The per-superblock data (`sb->s_fs_info`), freed after the
    /// superblock is shut down.
    type Data: 'static;

    /// Takes one option (`fsconfig` or one `key=value` of `mount -o`).
    fn parse_param(fc: &FsContext, params: &mut Self::Params, param: &FsParameter) -> Result;

    /// Checks the parameters as a whole and builds the superblock's data.
    fn new_data(fc: &FsContext, params: &mut Self::Params) -> Result<Pin<KBox<Self::Data>>>;

    /// Sets up a new superblock whose data is already in place.
    fn fill_super(sb: &NewSuperBlock, data: &Self::Data) -> Result;

    /// Remount: may the mounted filesystem become read-only (`read_only`)
    /// or writable? Options cannot change (see `Context::parse_param`).
    fn reconfigure(fc: &FsContext, data: &Self::Data, read_only: bool) -> Result;
}

/// Where a filesystem type lives while registered: a `static`, because
/// `file_system_type` holds the lock class keys of its superblocks and
/// inodes, and lockdep accepts only keys in static memory. Its mount
/// contexts' operations live beside it, so that they too have one address.
///
/// # Invariants
/// `fs_type` and `fc_ops` are written only by the `Registration::new` that
/// set `registered`, before `register_filesystem` publishes them.
#[repr(C)]
pub(crate) struct FsTypeStorage {
    fs_type: Opaque<bindings::file_system_type>,
    fc_ops: Opaque<bindings::fs_context_operations>,
    registered: AtomicBool,
}

// SAFETY: by the type invariant, written once before anyone else can read
// it; after that only the VFS reads it, under its own locks.
unsafe impl Sync for FsTypeStorage {}

impl FsTypeStorage {
    pub(crate) const fn new() -> Self {
        Self {
            fs_type: Opaque::uninit(),
            fc_ops: Opaque::uninit(),
            registered: AtomicBool::new(false),
        }
    }
}

/// A registered filesystem type; dropping it unregisters the type.
pub(crate) struct Registration {
    fs_type: &'static FsTypeStorage,
}

impl Registration {
    /// Registers `T` with the VFS in `storage`, owned by `module` so that
    /// the module cannot be unloaded while a superblock of the type exists.
    /// A `storage` already registered is refused (`EBUSY`).
    pub(crate) fn new<T: FileSystem>(
        module: &'static ThisModule,
        storage: &'static FsTypeStorage,
    ) -> Result<Self> {
        if storage
            .registered
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        let fs_type = storage.fs_type.get();
        // `register_filesystem` publishes the type; its `name` is a
        // `'static` C string.
        // SAFETY: this call set `registered` (type invariant): nothing reads
        // `storage` while it is written.
        let registered = unsafe {
            storage.fc_ops.get().write(Context::<T>::OPS);
            fs_type.write(bindings::file_system_type {
                name: T::NAME.as_char_ptr(),
                init_fs_context: Some(Context::<T>::init_fs_context),
                parameters: core::ptr::null(),
                kill_sb: Some(Context::<T>::kill_sb),
                owner: module.as_ptr().cast(),
                ..Default::default()
            });
            to_result(bindings::register_filesystem(fs_type))
        };
        if let Err(e) = registered {
            storage.registered.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(Self { fs_type: storage })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: `new` registered this very `file_system_type`. Inodes
        // are freed by RCU callbacks that run module code: wait for them
        // before the module's text goes away.
        unsafe {
            bindings::unregister_filesystem(self.fs_type.fs_type.get());
            bindings::rcu_barrier();
        }
        self.fs_type.registered.store(false, Ordering::Release);
    }
}

/// The C entry points of the fs_context API for `T`.
struct Context<T>(PhantomData<T>);

impl<T: FileSystem> Context<T> {
    /// What `Registration::new` writes into the type's static storage: the
    /// table mount contexts get is that one, at one address.
    const OPS: bindings::fs_context_operations = bindings::fs_context_operations {
        free: Some(Self::free),
        dup: None,
        parse_param: Some(Self::parse_param),
        parse_monolithic: Some(Self::parse_monolithic),
        get_tree: Some(Self::get_tree),
        reconfigure: Some(Self::reconfigure),
    };

    /// The operations stored beside `fc`'s filesystem type.
    ///
    /// # Safety
    /// `fc` is live and of a type `Registration::new` registered.
    unsafe fn ops_of(fc: *mut bindings::fs_context) -> *const bindings::fs_context_operations {
        // SAFETY: the type is the `fs_type` field of a `FsTypeStorage`
        // (`#[repr(C)]`), whose `fc_ops` `Registration::new` filled.
        unsafe {
            let storage = (*fc)
                .fs_type
                .cast::<u8>()
                .sub(core::mem::offset_of!(FsTypeStorage, fs_type))
                .cast::<FsTypeStorage>();
            (*storage).fc_ops.get().cast_const()
        }
    }

    /// # Safety
    /// Called by the VFS with a live, new `fc` of this type.
    unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> ffi::c_int {
        from_result(|| {
            let params = KBox::new(T::Params::default(), GFP_KERNEL)?;
            // SAFETY: the VFS hands a live `fc` that nothing else uses yet;
            // `free` takes `fs_private` back.
            unsafe {
                (*fc).fs_private = params.into_foreign() as *mut ffi::c_void;
                (*fc).ops = Self::ops_of(fc);
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
        // SAFETY: `fc` and `param` are live for the call; `fc` was set up
        // by `init_fs_context`, and the VFS runs its callbacks one at a
        // time, as `params` requires.
        let (fc, param, params) = unsafe {
            (
                FsContext::from_raw(fc),
                FsParameter::from_raw(param),
                Self::params(fc),
            )
        };
        if fc.is_reconfigure() {
            // As overlayfs: mount(2)'s remount has always ignored the
            // options; the new API says plainly that they cannot change.
            if fc.is_old_api() {
                return 0;
            }
            return fc
                .invalf(format_args!("no option can change on remount"))
                .to_errno();
        }
        from_result(|| T::parse_param(fc, params, param).map(|()| 0))
    }

    /// # Safety
    /// `fc` is a live reconfiguration context of a mounted filesystem of
    /// this type.
    unsafe extern "C" fn reconfigure(fc: *mut bindings::fs_context) -> ffi::c_int {
        // SAFETY: a reconfiguration context holds the mounted root in
        // `fc->root`; its superblock's `s_fs_info` is the data `fill_super`
        // stored, which `kill_sb` frees only once the mount is gone.
        let (fc, data) = unsafe {
            let data = (*(*(*fc).root).d_sb).s_fs_info;
            (FsContext::from_raw(fc), <Pin<KBox<T::Data>>>::borrow(data))
        };
        from_result(|| T::reconfigure(fc, &data, fc.wants_read_only()).map(|()| 0))
    }

    /// mount(2)'s option string: split at unescaped commas only, so that
    /// `\,` can stand in a path.
    ///
    /// # Safety
    /// `fc` is live; `data` is the NUL-terminated option string or NULL.
    unsafe extern "C" fn parse_monolithic(
        fc: *mut bindings::fs_context,
        data: *mut ffi::c_void,
    ) -> ffi::c_int {
        // SAFETY: `fc` is live and `data` NULL or the NUL-terminated,
        // writable option string, which is what `next_option` needs.
        unsafe { bindings::vfs_parse_monolithic_sep(fc, data, Some(next_option)) }
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
        // SAFETY: `get_tree_nodev` passes a new superblock, live for the
        // call, and our `fc`, set up by `init_fs_context`, whose callbacks
        // the VFS runs one at a time, as `params` requires.
        let (new_sb, fc_ref, params) = unsafe {
            (
                NewSuperBlock::from_raw(sb),
                FsContext::from_raw(fc),
                Self::params(fc),
            )
        };
        from_result(|| {
            let data = T::new_data(fc_ref, params)?;
            let data_ptr = data.into_foreign();
            // SAFETY: the superblock is being filled; `kill_sb` frees the
            // data, also when filling fails from here on.
            unsafe { (*sb).s_fs_info = data_ptr as *mut ffi::c_void };
            // SAFETY: `data_ptr` stays valid until `kill_sb`.
            let data = unsafe { <Pin<KBox<T::Data>>>::borrow(data_ptr) };
            T::fill_super(new_sb, &data).map(|()| 0)
        })
    }

    /// # Safety
    /// Called by the VFS once, when the superblock goes away.
    unsafe extern "C" fn kill_sb(sb: *mut bindings::super_block) {
        // SAFETY: `sb` is ours; after `kill_anon_super` has evicted every
        // inode nothing reads `s_fs_info` any more.
        unsafe {
            let data = (*sb).s_fs_info;
            bindings::kill_anon_super(sb);
            if !data.is_null() {
                drop(<Pin<KBox<T::Data>>>::from_foreign(data));
            }
        }
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

/// Cuts the next option off `*s` at the first comma not escaped by `\`.
///
/// # Safety
/// `*s` is NULL or a NUL-terminated, writable string.
unsafe extern "C" fn next_option(s: *mut *mut ffi::c_char) -> *mut ffi::c_char {
    // SAFETY: the caller passes `*s` NULL or a writable, NUL-terminated
    // string; every access stays at or before its terminating NUL.
    unsafe {
        let begin = *s;
        if begin.is_null() {
            return begin;
        }
        let mut p = begin;
        while *p != 0 {
            if *p == b'\\' {
                p = p.add(1);
                if *p == 0 {
                    break;
                }
            } else if *p == b',' {
                *p = 0;
                *s = p.add(1);
                return begin;
            }
            p = p.add(1);
        }
        *s = core::ptr::null_mut();
        begin
    }
}
