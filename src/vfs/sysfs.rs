// SPDX-License-Identifier: GPL-2.0

//! Branch introspection in sysfs, as aufs's `/sys/fs/aufs/si_<id>/br<N>`
//! (linux/kobject.h, linux/sysfs.h): `/sys/fs/rsunion/si_<id>/br<N>` holds
//! branch N's path and `=rw` or `=ro`, top first. Read-only files whose
//! text is fixed at mount; the directory goes with the union's superblock.

use super::bindings;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{c_str, ffi, fmt, prelude::*, str::CString};

/// `/sys/fs/rsunion`, while the module is loaded. The mounts' directories
/// hang below it; the filesystem type is unregistered before it goes.
static ROOT: AtomicPtr<bindings::kobject> = AtomicPtr::new(ptr::null_mut());

/// Owns `/sys/fs/rsunion`.
///
/// # Invariants
/// `self.0` holds the reference `kobject_create_and_add` returned, and
/// `ROOT` points to it while `self` lives.
pub(crate) struct SysfsRoot(NonNull<bindings::kobject>);

// SAFETY: a kobject reference may be dropped from any thread.
unsafe impl Send for SysfsRoot {}
// SAFETY: `&SysfsRoot` gives no access to the kobject.
unsafe impl Sync for SysfsRoot {}

impl SysfsRoot {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `fs_kobj` is set up before any module loads and never
        // changes; the name is a C string.
        let kobj = unsafe {
            bindings::kobject_create_and_add(c_str!("rsunion").as_char_ptr(), bindings::fs_kobj)
        };
        let kobj = NonNull::new(kobj).ok_or(ENOMEM)?;
        ROOT.store(kobj.as_ptr(), Ordering::Release);
        // INVARIANT: the reference is ours and `ROOT` names it.
        Ok(Self(kobj))
    }
}

impl Drop for SysfsRoot {
    fn drop(&mut self) {
        ROOT.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: by the type invariant `self.0` holds a reference, dropped
        // once, here.
        unsafe { bindings::kobject_put(self.0.as_ptr()) };
    }
}

/// One `br<N>` file.
struct BranchFile {
    attr: bindings::attribute,
    /// `br<N>`: `attr.name` points into it.
    name: CString,
    text: KVec<u8>,
}

/// A mount's `si_<id>` directory. `kobj` comes first: `show` and
/// `release` get back from it to the whole.
#[repr(C)]
struct SiDir {
    kobj: bindings::kobject,
    files: KVec<BranchFile>,
    /// The group's NULL-terminated list of `files`' attributes.
    attrs: KVec<*mut bindings::attribute>,
    group: bindings::attribute_group,
}

/// Owns a mount's `si_<id>` directory, removed when this is dropped.
///
/// # Invariants
/// `self.0` is a `SiDir` leaked from a `KBox` whose `kobj` was initialised
/// with `SI_TYPE` and whose reference is held by `self`; `release` frees it.
pub(crate) struct BranchFiles(NonNull<SiDir>);

// SAFETY: the directory is only read by sysfs and freed by the kobject's
// release, from any thread.
unsafe impl Send for BranchFiles {}
// SAFETY: `&BranchFiles` gives no access to the directory.
unsafe impl Sync for BranchFiles {}

impl BranchFiles {
    /// Makes `/sys/fs/rsunion/si_<id>` with a file per entry of `texts`,
    /// top branch first.
    pub(crate) fn new(id: u64, texts: KVec<KVec<u8>>) -> Result<Self> {
        let parent = ROOT.load(Ordering::Acquire);
        if parent.is_null() {
            return Err(ENOENT);
        }
        let mut files = KVec::with_capacity(texts.len(), GFP_KERNEL)?;
        for (n, text) in texts.into_iter().enumerate() {
            files.push(
                BranchFile {
                    // SAFETY: all-zero is a valid `attribute`; set below.
                    attr: unsafe { core::mem::zeroed() },
                    name: CString::try_from_fmt(fmt!("br{n}"))?,
                    text,
                },
                GFP_KERNEL,
            )?;
        }
        let mut attrs = KVec::with_capacity(files.len() + 1, GFP_KERNEL)?;
        // `files` does not grow again: its elements stay where they are, and
        // so do the names and attributes sysfs is given pointers to.
        for f in files.iter_mut() {
            f.attr.name = f.name.as_char_ptr();
            // Root only: the paths may be another mount namespace's.
            f.attr.mode = 0o400;
            // What `sysfs_attr_init` does for attributes not in static
            // storage: lockdep needs a static key to name their class.
            #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
            {
                f.attr.key = BR_KEY.0.get();
            }
            attrs.push(ptr::addr_of_mut!(f.attr), GFP_KERNEL)?;
        }
        attrs.push(ptr::null_mut(), GFP_KERNEL)?;
        let dir = KBox::new(
            SiDir {
                // SAFETY: all-zero is what `kobject_init` expects to find.
                kobj: unsafe { core::mem::zeroed() },
                files,
                attrs,
                // SAFETY: all-zero is a valid `attribute_group`: no name
                // (files go in the kobject's own directory), no callbacks.
                group: unsafe { core::mem::zeroed() },
            },
            GFP_KERNEL,
        )?;
        let dir = KBox::into_raw(dir);
        // SAFETY: `dir` is the box just leaked, valid and not yet shared.
        unsafe { (*dir).group.attrs = (*dir).attrs.as_mut_ptr() };
        // `parent` is `ROOT`'s reference, alive while the module (and so
        // this mount) is; `SI_TYPE`'s release frees the box.
        // SAFETY: `dir` is valid, its `kobj` zeroed as `kobject_init` wants;
        // the format takes one u64.
        let added = unsafe {
            bindings::kobject_init_and_add(
                ptr::addr_of_mut!((*dir).kobj),
                &SI_TYPE.0,
                parent,
                c_str!("si_%llx").as_char_ptr(),
                id as ffi::c_ulonglong,
            )
        };
        // INVARIANT: from here the kobject's reference owns the box.
        // SAFETY: `dir` is valid and its kobject initialised.
        let files = Self(unsafe { NonNull::new_unchecked(dir) });
        kernel::error::to_result(added)?;
        // SAFETY: the kobject is in sysfs; the group and every attribute it
        // names live as long as the kobject (they are in its `SiDir`).
        kernel::error::to_result(unsafe {
            bindings::sysfs_create_group(ptr::addr_of_mut!((*dir).kobj), &(*dir).group)
        })?;
        Ok(files)
    }
}

impl Drop for BranchFiles {
    fn drop(&mut self) {
        let kobj = self.0.as_ptr().cast::<bindings::kobject>();
        // The directory goes first (kernfs waits for running `show`s), so
        // that a delayed release runs no sysfs code; `release` frees it all.
        // SAFETY: by the type invariant `self` holds the kobject's
        // reference, dropped once, here.
        unsafe {
            bindings::kobject_del(kobj);
            bindings::kobject_put(kobj);
        }
    }
}

/// `sysfs_ops::show` of a `br<N>` file: its text and a newline.
///
/// # Safety
/// Called by sysfs with a live `SiDir`'s kobject, one of its attributes,
/// and a PAGE_SIZE buffer.
unsafe extern "C" fn show(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *mut ffi::c_char,
) -> isize {
    // Only `files` is borrowed: the kobject itself changes under us.
    // SAFETY: a kobject of `SI_TYPE` is the first field of a live `SiDir`,
    // whose `files` are not written once the directory is in sysfs.
    let files = unsafe { &(*kobj.cast::<SiDir>()).files };
    let Some(file) = files.iter().find(|f| ptr::eq(&f.attr, attr.cast_const())) else {
        return EIO.to_errno() as isize;
    };
    let len = file.text.len().min(kernel::page::PAGE_SIZE - 2);
    // SAFETY: `buf` holds PAGE_SIZE bytes; `len + 1` fit.
    unsafe {
        ptr::copy_nonoverlapping(file.text.as_ptr(), buf.cast::<u8>(), len);
        *buf.add(len) = b'\n' as ffi::c_char;
    }
    (len + 1) as isize
}

/// `kobj_type::release`: the last reference to a `si_<id>` went.
///
/// # Safety
/// `kobj` is a `SiDir`'s kobject that no one references any more.
unsafe extern "C" fn release(kobj: *mut bindings::kobject) {
    // SAFETY: the `SiDir` was leaked from a `KBox` by `BranchFiles::new`
    // and has no other user: take it back.
    drop(unsafe { KBox::from_raw(kobj.cast::<SiDir>()) });
}

/// The lockdep class of every `br<N>` file's active reference.
struct AttrKey(kernel::types::Opaque<bindings::lock_class_key>);

// SAFETY: lockdep synchronises its own use of a key; rsunion never reads
// or writes it.
unsafe impl Sync for AttrKey {}

#[cfg_attr(not(CONFIG_DEBUG_LOCK_ALLOC), allow(dead_code))]
static BR_KEY: AttrKey = AttrKey(kernel::types::Opaque::uninit());

/// Statics that hold pointers, never written.
#[repr(transparent)]
struct Static<T>(T);

// SAFETY: never written; function pointers and pointers to statics only.
unsafe impl Sync for Static<bindings::sysfs_ops> {}
// SAFETY: never written; function pointers and pointers to statics only.
unsafe impl Sync for Static<bindings::kobj_type> {}

static SI_OPS: Static<bindings::sysfs_ops> = Static(bindings::sysfs_ops {
    show: Some(show),
    store: None,
});

static SI_TYPE: Static<bindings::kobj_type> = Static(bindings::kobj_type {
    release: Some(release),
    sysfs_ops: &SI_OPS.0,
    // SAFETY: all-zero is a valid rest of `kobj_type`: optional pointers.
    ..unsafe { core::mem::zeroed() }
});
