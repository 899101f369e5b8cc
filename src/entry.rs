// SPDX-License-Identifier: GPL-2.0

//! The data model of a union, in one place (fs/overlayfs/ovl_entry.h's
//! concern): the layers of a mount, and the real objects behind a union
//! inode. Every other file reads these; only [`crate::vfs`] builds them.
//! The union inode itself, [`RsInode`], lives with the VFS inode it
//! embeds, in `vfs/inode.rs`, where its invariants can be kept.

pub(crate) use crate::vfs::RsInode;

use crate::vfs::{BranchFiles, Cred, Dentry, Path, PrivateMount};
use kernel::{prelude::*, types::ARef};

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
    /// The union's id: `si=` in /proc/mounts, as aufs's, and the name of
    /// its `/sys/fs/rsunion/si_<id>` directory.
    pub(crate) id: u64,
    /// /proc/mounts shows the lowers one per `lowerdir+`, as they came.
    pub(crate) lowers_one_by_one: bool,
    /// `/sys/fs/rsunion/si_<id>/br<N>`: each branch, top first.
    pub(crate) _branch_files: BranchFiles,
}

impl Drop for UnionFs {
    /// The layers' private mounts go together: one RCU grace period for
    /// all of them, not one each.
    fn drop(&mut self) {
        let layers = core::mem::take(&mut self.layers);
        let Ok(mut mounts) = KVec::with_capacity(layers.len(), GFP_KERNEL) else {
            return;
        };
        for layer in layers {
            // Cannot fail: the capacity is there.
            let _ = mounts.push(layer.mnt, GFP_KERNEL);
        }
        crate::vfs::unmount_all(mounts);
    }
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
