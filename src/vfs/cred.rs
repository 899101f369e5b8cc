// SPDX-License-Identifier: GPL-2.0

//! `struct cred` (linux/cred.h): the mounter's credentials, and a scope
//! that wears them for the length of a layer operation.

use super::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// A counted reference to a set of credentials.
pub(crate) struct Cred(NonNull<bindings::cred>);

// SAFETY: credentials are immutable once prepared and refcounted atomically.
unsafe impl Send for Cred {}
// SAFETY: credentials are not changed once shared (`prepare_mounter` and
// `for_owner` change their fresh copy first), and `&Cred` only reads them
// or takes atomic references.
unsafe impl Sync for Cred {}

impl Cred {
    /// A copy of the current task's credentials: taken at mount time, they
    /// are the mounter's, used for every operation on a layer.
    pub(crate) fn prepare() -> Result<Self> {
        // SAFETY: `prepare_creds` has no preconditions; NULL means ENOMEM.
        let cred = unsafe { bindings::prepare_creds() };
        NonNull::new(cred).map(Self).ok_or(ENOMEM)
    }

    /// The mounter's credentials, taken at mount time, for every layer
    /// operation: the current task's, less `CAP_SYS_RESOURCE`, so that a
    /// caller writing through the union stays within quotas and leaves the
    /// root-reserved blocks alone, as overlayfs does.
    pub(crate) fn prepare_mounter() -> Result<Self> {
        let cred = Self::prepare()?;
        // SAFETY: a new copy from `prepare_creds` is ours to change until
        // it is used.
        unsafe { bindings::rsunion_drop_sys_resource(cred.0.as_ptr()) };
        Ok(cred)
    }

    /// The current task's filesystem uid and gid: who owns what it
    /// creates.
    pub(crate) fn current_fs_owner() -> Owner {
        // SAFETY: the current task's credentials are live while it runs.
        unsafe {
            let cred = bindings::rsunion_current_cred();
            Owner {
                uid: (*cred).fsuid,
                gid: (*cred).fsgid,
            }
        }
    }

    /// These credentials acting for `owner`: a copy with the filesystem
    /// uid and gid of the caller, so that what they create belongs to the
    /// caller, with the filesystem's own rules (a setgid directory's group)
    /// applied as for the caller.
    pub(crate) fn for_owner(&self, owner: Owner) -> Result<Self> {
        let copy = self.with(Self::prepare)?;
        // SAFETY: a new copy from `prepare_creds` is ours to change until
        // it is used.
        unsafe {
            (*copy.0.as_ptr()).fsuid = owner.uid;
            (*copy.0.as_ptr()).fsgid = owner.gid;
        }
        Ok(copy)
    }

    /// Runs `f` as these credentials and gives the task its own back when
    /// `f` returns. An override is a scope, not a guard: safe code cannot
    /// forget it or undo overrides out of order, and one nested in `f` is
    /// undone before this one.
    ///
    /// The override takes no reference of its own (overlayfs's since 6.13,
    /// the kernel's since 6.14): `&self`, borrowed for the whole scope,
    /// keeps the credentials alive, and reads, which override for every
    /// call, skip two atomic operations.
    pub(crate) fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: `self` holds a reference, and is borrowed until the
        // revert below, so the task never wears freed credentials.
        let old = unsafe { bindings::rsunion_override_creds(self.0.as_ptr()) };
        let result = f();
        // Every override made inside `f` was undone before it returned:
        // kernel code's by its own revert, ours by a nested `with`.
        // SAFETY: `old` is what the override replaced on this task, which
        // wears exactly what this call put on.
        unsafe { bindings::rsunion_revert_creds(old) };
        result
    }

    pub(crate) fn as_ptr(&self) -> *const bindings::cred {
        self.0.as_ptr()
    }
}

impl Drop for Cred {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference, given back here once.
        unsafe { bindings::put_cred(self.0.as_ptr()) };
    }
}

/// Whether the current task may see `trusted.*` xattr names.
pub(crate) fn may_list_trusted() -> bool {
    // SAFETY: no preconditions; it reads the current task's credentials.
    unsafe { bindings::rsunion_may_list_trusted() }
}

/// A uid and gid pair, as the kernel keeps them.
#[derive(Clone, Copy)]
pub(crate) struct Owner {
    uid: bindings::kuid_t,
    gid: bindings::kgid_t,
}
