// SPDX-License-Identifier: GPL-2.0

//! The data model of a union, in one place (fs/overlayfs/ovl_entry.h's
//! concern): the layers of a mount, and the real objects behind a union
//! inode. Every other file reads these; only [`crate::vfs`] builds them.

use crate::vfs::{Cred, Dentry, Inode, Path, PrivateMount};
use core::{cell::UnsafeCell, sync::atomic::AtomicPtr};
use kernel::{prelude::*, sync::Mutex, types::ARef};

/// The most lower layers one union may stack, as overlayfs.
pub(crate) const MAX_LOWER_LAYERS: usize = 500;

/// Which option syntax a mount used, so `/proc/mounts` speaks it back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Syntax {
    /// `lowerdir=…,upperdir=…,workdir=…`
    Overlay,
    /// `br=`/`dirs=` `path[=rw|=ro]:…`
    Aufs,
}

/// How the union writes whiteouts and opaque markers (it reads both).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum WhiteoutFormat {
    /// A char device 0/0; `trusted.overlay.opaque=y`.
    Overlay,
    /// A `.wh.NAME` file; a `.wh..wh..opq` file.
    Aufs,
}

/// One layer of a union.
pub(crate) struct Layer {
    /// A private clone of the layer's mount, rooted at the layer.
    pub(crate) mnt: PrivateMount,
    /// The directory as the mounter named it, for `/proc/mounts`.
    pub(crate) path: Path,
    /// The upper layer: the one writes go to.
    pub(crate) writable: bool,
}

/// A mounted union (`sb->s_fs_info`).
pub(crate) struct UnionFs {
    /// Top first: the upper layer when there is one, then the lowers.
    pub(crate) layers: KVec<Layer>,
    /// Where copy-ups and whiteouts are prepared: on the upper's filesystem.
    pub(crate) work: Option<Path>,
    /// The mounter's credentials: every layer operation runs with them.
    pub(crate) creds: Cred,
    pub(crate) syntax: Syntax,
    pub(crate) whiteout: WhiteoutFormat,
    /// Every layer is on one filesystem: real inode numbers are unique
    /// across layers, so union objects can report them with the union's
    /// st_dev (see `inode::getattr`).
    pub(crate) samefs: bool,
}

/// Where a change to the union goes: the upper layer, and the work
/// directory, on the upper layer's mount, where changes are prepared.
#[derive(Clone, Copy)]
pub(crate) struct Upper<'a> {
    pub(crate) layer: &'a Layer,
    pub(crate) work: &'a Path,
}

impl UnionFs {
    pub(crate) fn upper(&self) -> Option<&Layer> {
        self.layers.first().filter(|l| l.writable)
    }

    /// The upper layer, for a change: `EROFS` in a union without one.
    pub(crate) fn writable(&self) -> Result<&Layer> {
        self.upper().ok_or(EROFS)
    }

    /// The upper layer and the work directory, for a change prepared in
    /// the work directory: `EROFS` in a union without them.
    pub(crate) fn upper_work(&self) -> Result<Upper<'_>> {
        Ok(Upper {
            layer: self.writable()?,
            work: self.work.as_ref().ok_or(EROFS)?,
        })
    }

    /// The layer a real object is on, by its index: `EIO` for an index no
    /// layer has (a bug).
    pub(crate) fn layer(&self, index: usize) -> Result<&Layer> {
        self.layers.get(index).ok_or(EIO)
    }
}

/// A real object behind a union object, and the index of its layer.
pub(crate) struct RealDentry {
    pub(crate) layer: usize,
    pub(crate) dentry: ARef<Dentry>,
}

/// A borrowed [`RealDentry`]: what the union logic reads.
#[derive(Clone, Copy)]
pub(crate) struct Real<'a> {
    pub(crate) layer: usize,
    pub(crate) dentry: &'a Dentry,
}

impl RealDentry {
    pub(crate) fn borrow(&self) -> Real<'_> {
        Real {
            layer: self.layer,
            dentry: &self.dentry,
        }
    }
}

/// The union's inode: the VFS inode and the real objects it stands for.
///
/// # Invariants
///
/// `lowers` and `real_key` are written only while the inode is new (locked
/// `I_NEW`, or not yet visible to anyone) and when it is destroyed, when no
/// other reference exists; in between they are only read. `upper` is set
/// at most once, from NULL, and holds a reference until the inode is
/// destroyed.
#[pin_data]
#[repr(C)]
pub(crate) struct RsInode {
    pub(crate) vfs_inode: Inode,
    /// The object in the upper layer (layer 0), once there is one: found
    /// by lookup, or made by copy-up. Read without locks, as overlayfs
    /// reads `__upperdentry`.
    pub(crate) upper: AtomicPtr<Dentry>,
    /// The objects in lower layers, topmost first: several for a merged
    /// directory, at most one for anything else.
    pub(crate) lowers: UnsafeCell<KVec<RealDentry>>,
    /// For non-directories, the real inode this one is hashed on.
    pub(crate) real_key: UnsafeCell<usize>,
    /// Serialises copy-ups of this object: whoever comes second finds the
    /// copy made; copy-ups of different objects go on side by side.
    #[pin]
    pub(crate) copy_up_lock: Mutex<()>,
    /// A directory's merged listing, shared by the open files reading it.
    #[pin]
    pub(crate) listing: Mutex<crate::readdir::SharedListing>,
}

// SAFETY: per the invariants, the cells are only written while no other
// thread can see the inode, and `upper` is atomic.
unsafe impl Sync for RsInode {}
// SAFETY: the contents are kernel-refcounted objects.
unsafe impl Send for RsInode {}

impl RsInode {
    /// The objects in lower layers, topmost first.
    pub(crate) fn lowers(&self) -> &[RealDentry] {
        // SAFETY: per the invariants, nothing writes `lowers` while the
        // inode is reachable through a shared reference.
        unsafe { &*self.lowers.get() }
    }

    /// Every real object behind this inode, topmost first.
    pub(crate) fn reals(&self) -> impl Iterator<Item = Real<'_>> {
        let upper = self.upper().map(|dentry| Real { layer: 0, dentry });
        Iterator::chain(
            upper.into_iter(),
            self.lowers().iter().map(RealDentry::borrow),
        )
    }

    /// The topmost real object.
    pub(crate) fn top(&self) -> Option<Real<'_>> {
        self.reals().next()
    }

    /// A directory whose contents come from more than one layer.
    pub(crate) fn is_merged(&self) -> bool {
        self.reals().nth(1).is_some()
    }
}
