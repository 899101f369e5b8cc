// SPDX-License-Identifier: GPL-2.0

//! A value learned once and then read without locks.

use core::{
    marker::PhantomData,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// A boxed value set at most once, then read without locks for as long
/// as its owner lives. Concurrent setters race; the first one wins.
///
/// # Invariants
///
/// `ptr` is NULL or came from `KBox::into_raw` and is owned by `self`. It
/// changes only from NULL to a value (by [`OnceBox::set`]) and back (by
/// [`OnceBox::clear`], which takes `&mut self`), so a value borrowed
/// through `&self` stays live for the borrow.
pub(crate) struct OnceBox<T> {
    ptr: AtomicPtr<T>,
    _owns: PhantomData<*const T>,
}

// SAFETY: the value is reached from any thread that has `&self`, and may
// be dropped on any thread that owns `self`.
unsafe impl<T: Send + Sync> Sync for OnceBox<T> {}
// SAFETY: as above: owning `self` owns the value.
unsafe impl<T: Send> Send for OnceBox<T> {}

impl<T> OnceBox<T> {
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// The value, once set.
    pub(crate) fn get(&self) -> Option<&T> {
        let value = self.ptr.load(Ordering::Acquire);
        // SAFETY: per the invariants, a non-NULL `ptr` is a box `self`
        // owns, freed only through `&mut self`; `Acquire` pairs with the
        // `Release` of `set`, which published it initialised.
        unsafe { value.as_ref() }
    }

    /// Sets the value unless another setter came first; returns the value
    /// that is set now, `value` or the other one (`value` is then dropped).
    pub(crate) fn set(&self, value: KBox<T>) -> &T {
        let new = KBox::into_raw(value);
        match self
            .ptr
            .compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire)
        {
            // INVARIANT: `ptr` went from NULL to a box `self` now owns.
            // SAFETY: as `get`: owned by `self`, live while it is borrowed.
            Ok(_) => unsafe { &*new },
            Err(current) => {
                // SAFETY: `new` came from `into_raw` above and was never
                // published: it is still ours alone.
                drop(unsafe { KBox::from_raw(new) });
                // SAFETY: `current` is non-NULL (the exchange from NULL
                // failed), so, as in `get`, a box `self` owns.
                unsafe { &*current }
            }
        }
    }

    /// Drops the value, if any.
    pub(crate) fn clear(&mut self) {
        let value = core::mem::replace(self.ptr.get_mut(), ptr::null_mut());
        if !value.is_null() {
            // INVARIANT: `ptr` is NULL again; the box is freed here, once.
            // SAFETY: a non-NULL `ptr` is a box `self` owned, and `&mut
            // self` means no borrow of it is left.
            drop(unsafe { KBox::from_raw(value) });
        }
    }
}

impl<T> Drop for OnceBox<T> {
    fn drop(&mut self) {
        self.clear();
    }
}
