// SPDX-License-Identifier: GPL-2.0

//! What several concerns share and none owns (fs/overlayfs/util.c's
//! concern): the names the union writes on real objects (whiteouts,
//! markers, private xattrs) and the paths of real objects. It imports
//! only the data model and [`crate::vfs`], so every concern can use it
//! without a cycle.

use crate::entry::{Real, RealDentry, RsInode, UnionFs};
use crate::vfs::Path;
use core::cmp::Ordering;
use core::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use kernel::{c_str, prelude::*, str::CStr, types::ARef};

/// The prefix of aufs/OCI whiteouts and markers.
pub(crate) const WH_PREFIX: &[u8] = b".wh.";
/// The longest name a directory entry can have (uapi/linux/limits.h).
pub(crate) const NAME_MAX: usize = 255;
/// The aufs/OCI opaque-directory marker.
pub(crate) const WH_OPAQUE: &[u8] = b".wh..wh..opq";

/// `.wh.` names are format, not content: never visible in the union.
pub(crate) fn is_wh_name(name: &[u8]) -> bool {
    name.starts_with(WH_PREFIX)
}

/// `.wh.NAME`, the aufs/OCI whiteout of NAME; `None` when NAME is too
/// long to carry the prefix: no such whiteout can exist.
pub(crate) fn wh_name(name: &[u8]) -> Result<Option<KVec<u8>>> {
    if WH_PREFIX.len() + name.len() > NAME_MAX {
        return Ok(None);
    }
    let mut wh = KVec::with_capacity(WH_PREFIX.len() + name.len(), GFP_KERNEL)?;
    wh.extend_from_slice(WH_PREFIX, GFP_KERNEL)?;
    wh.extend_from_slice(name, GFP_KERNEL)?;
    Ok(Some(wh))
}

/// Private xattrs: the union's own bookkeeping, never copied or shown.
pub(crate) const PRIVATE_XATTR_PREFIX: &[u8] = b"trusted.overlay.";

/// What `trusted.overlay.NAME`, set through the union, is stored as on the
/// real object: `trusted.overlay.overlay.NAME`, so that overlayfs (or
/// rsunion) stacked on the union keeps its own xattrs (overlayfs 6.7+
/// escapes the same way).
pub(crate) const ESCAPE: &[u8] = b"overlay.";

pub(crate) fn is_escaped(name: &[u8]) -> bool {
    name.strip_prefix(PRIVATE_XATTR_PREFIX)
        .is_some_and(|rest| rest.starts_with(ESCAPE))
}

/// The union's own bookkeeping on real objects: never shown, copied or
/// changed through the union.
pub(crate) fn is_private(name: &[u8]) -> bool {
    name.starts_with(PRIVATE_XATTR_PREFIX) && !is_escaped(name)
}

/// The private xattr on an upper copy that holds the inode number of the
/// lower object it was copied from, in one-filesystem unions.
pub(crate) const ORIGIN_INO_XATTR: &CStr = c_str!("trusted.overlay.rsunion.ino");

/// The topmost real object of `inode` as a path on its layer's mount.
pub(crate) fn top_path(inode: &RsInode) -> Result<Path> {
    real_path(inode, inode.top().ok_or(EIO)?)
}

pub(crate) fn real_path(inode: &RsInode, real: Real<'_>) -> Result<Path> {
    let layer = inode.fs().layer(real.layer)?;
    Ok(Path::new(&layer.mnt, real.dentry))
}

/// The roots of every layer: the union's root directory merges them all.
pub(crate) fn layer_roots(fs: &UnionFs) -> Result<KVec<RealDentry>> {
    let mut stack = KVec::with_capacity(fs.layers.len(), GFP_KERNEL)?;
    for (layer, l) in fs.layers.iter().enumerate() {
        let dentry: ARef<_> = l.mnt.root().into();
        stack.push(RealDentry { layer, dentry }, GFP_KERNEL)?;
    }
    Ok(stack)
}

/// Heapsort: in place, no recursion and a small stack frame, where
/// `sort_unstable` would overflow a kernel stack on a 100k-entry directory
/// (merged listings, learned lower names). Every index is below
/// `end <= v.len()`.
pub(crate) fn heap_sort<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && cmp(&v[child], &v[child + 1]) == Ordering::Less {
            child += 1;
        }
        if cmp(&v[root], &v[child]) != Ordering::Less {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    for start in (0..v.len() / 2).rev() {
        sift_down(v, start, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// Says `what` the first time only, `warned` recording that it was said:
/// for what depends on a layer's nature, the same every time it is met
/// (overlayfs's pr_warn_once).
pub(crate) fn warn_once(warned: &AtomicBool, what: &str) {
    if !warned.swap(true, AtomicOrdering::Relaxed) {
        pr_warn!("{what}\n");
    }
}
