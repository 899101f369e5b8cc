// SPDX-License-Identifier: GPL-2.0

//! Lookup across the layer stack (fs/overlayfs/namei.c's concern).
//!
//! Top down: the first non-directory hides everything below it;
//! directories merge with the same name below until a whiteout or an
//! opaque directory stops the descent. Whiteouts are char devices 0/0
//! (overlayfs) or `.wh.NAME` entries (aufs, OCI); opaque directories carry
//! `trusted.overlay.opaque=y` or a `.wh..wh..opq` entry.

use crate::entry::{Layer, Real, RealDentry, RsInode, UnionFs};
use crate::inode::identity_ino;
use crate::lower_names::{self, NameHashes, Sought};
use crate::util::{is_wh_name, layer_roots, wh_name, NAME_MAX, WH_OPAQUE};
use crate::vfs::{consts::S_IFDIR, errno, ops_for_mode, Dentry, Iget, Inode, UnionSb};
use kernel::{c_str, prelude::*, types::ARef};

/// The union's root: every layer's root directory, merged.
pub(crate) fn root_inode(sb: &UnionSb, fs: &UnionFs) -> Result<ARef<Inode>> {
    let (upper, lowers) = split_upper(fs, layer_roots(fs)?)?;
    let ino = identity_ino(fs, upper.as_deref(), &lowers, true, false)?;
    let mut inode = sb.new_union_inode()?;
    inode.init(upper, lowers, &ops_for_mode(S_IFDIR as _), ino)?;
    Ok(inode.unlock())
}

/// Looks `name` up in union directory `dir`: `None` when no layer shows it.
pub(crate) fn lookup(dir: &RsInode, name: &[u8]) -> Result<Option<ARef<Inode>>> {
    // Said before any layer is asked, as overlayfs says it: a learned
    // directory may ask none.
    if name.len() > NAME_MAX {
        return Err(errno::enametoolong());
    }
    if is_wh_name(name) {
        return Ok(None);
    }
    let fs = dir.fs();
    let sought = Sought::new(name);
    fs.creds.with(|| {
        let mut found = KVec::new();
        let learned = lower_names::for_lookup(dir);
        // The upper read once: a copy-up may give the directory one now.
        let upper = dir.upper().map(|dentry| {
            let names = Names::Upper {
                may_hold_whiteout: !dir.upper_has_no_wh(),
            };
            (Real { layer: 0, dentry }, names)
        });
        let lowers = dir.lowers().iter().enumerate().map(|(i, r)| {
            let names = match learned.and_then(|l| l.dir(i, &r.dentry)) {
                Some(names) => Names::Learned(names),
                None => Names::Unknown,
            };
            (r.borrow(), names)
        });
        let mut parents = Iterator::chain(upper.into_iter(), lowers).peekable();
        while let Some((parent, names)) = parents.next() {
            let layer = fs.layer(parent.layer)?;
            // Whiteouts and opacity only matter to layers below this one.
            let bottom = parents.peek().is_none();
            let looked_up = match names {
                Names::Learned(names) => {
                    lookup_learned(layer, parent.dentry, name, bottom, names, sought)?
                }
                Names::Upper { may_hold_whiteout } => {
                    lookup_in_layer(layer, parent.dentry, name, bottom, may_hold_whiteout)?
                }
                Names::Unknown => lookup_in_layer(layer, parent.dentry, name, bottom, true)?,
            };
            match looked_up {
                Found::Nothing => continue,
                Found::Whiteout => break,
                Found::Object { dentry, last } => {
                    // A non-directory below a directory is hidden by it.
                    if !found.is_empty() && !dentry.is_dir() {
                        break;
                    }
                    found.push(
                        RealDentry {
                            layer: parent.layer,
                            dentry,
                        },
                        GFP_KERNEL,
                    )?;
                    if last {
                        break;
                    }
                }
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        stack_inode(dir.union_sb(), fs, found, false).map(Some)
    })
}

/// Splits a found stack into the upper layer's object and the lowers'.
fn split_upper(
    fs: &UnionFs,
    mut found: KVec<RealDentry>,
) -> Result<(Option<ARef<Dentry>>, KVec<RealDentry>)> {
    let has_upper = found
        .first()
        .is_some_and(|r| fs.layer(r.layer).is_ok_and(|l| l.writable));
    if !has_upper {
        return Ok((None, found));
    }
    let mut lowers = KVec::with_capacity(found.len().saturating_sub(1), GFP_KERNEL)?;
    let mut upper = None;
    for r in core::mem::replace(&mut found, KVec::new()) {
        if upper.is_none() {
            upper = Some(r.dentry);
        } else {
            lowers.push(r, GFP_KERNEL)?;
        }
    }
    Ok((upper, lowers))
}

/// What the union knows of a real directory's names before asking it.
enum Names<'a> {
    /// A lower directory's, learned.
    Learned(&'a NameHashes),
    /// The upper directory, which may be known to hold no `.wh.` entry.
    Upper { may_hold_whiteout: bool },
    /// Nothing.
    Unknown,
}

/// What one layer says about a name.
enum Found {
    /// Nothing here; look further down.
    Nothing,
    /// A whiteout: the name is gone from here down.
    Whiteout,
    /// An object; `last` when nothing below may show through it (a
    /// non-directory, or an opaque directory).
    Object { dentry: ARef<Dentry>, last: bool },
}

/// `lookup_in_layer` in a lower directory whose names are learned: no
/// lookup of a name it does not hold.
fn lookup_learned(
    layer: &Layer,
    parent: &Dentry,
    name: &[u8],
    bottom: bool,
    names: &NameHashes,
    sought: Sought,
) -> Result<Found> {
    if !names.may_hold_any(sought) {
        return Ok(Found::Nothing);
    }
    lookup_in_layer(layer, parent, name, bottom, names.may_hold_whiteout(sought))
}

/// What real directory `parent` says about `name`; `.wh.NAME` is looked
/// for only where `may_hold_whiteout`.
fn lookup_in_layer(
    layer: &Layer,
    parent: &Dentry,
    name: &[u8],
    bottom: bool,
    may_hold_whiteout: bool,
) -> Result<Found> {
    let idmap = layer.mnt.idmap();
    let real = parent.lookup_unlocked(idmap, name)?;
    if real.is_whiteout() {
        return Ok(Found::Whiteout);
    }
    if real.is_negative() && bottom {
        return Ok(Found::Nothing);
    }
    if !real.is_negative() && (bottom || !real.is_dir()) {
        return Ok(Found::Object {
            dentry: real,
            last: true,
        });
    }
    // `.wh.NAME` beside a directory NAME in one layer hides what is below
    // it, as if the directory were opaque.
    let wh_beside = may_hold_whiteout && has_wh_entry(layer, parent, name)?;
    if real.is_negative() {
        return Ok(if wh_beside {
            Found::Whiteout
        } else {
            Found::Nothing
        });
    }
    let last = wh_beside || is_opaque(layer, &real)?;
    Ok(Found::Object { dentry: real, last })
}

/// Is there a `.wh.NAME` entry in real directory `parent`?
pub(crate) fn has_wh_entry(layer: &Layer, parent: &Dentry, name: &[u8]) -> Result<bool> {
    let Some(wh) = wh_name(name)? else {
        return Ok(false);
    };
    Ok(!parent
        .lookup_unlocked(layer.mnt.idmap(), &wh)?
        .is_negative())
}

/// Does real directory `dir` stop the merge with what is below it?
fn is_opaque(layer: &Layer, dir: &Dentry) -> Result<bool> {
    let mut value = [0u8; 2];
    let xattr = dir.getxattr(
        layer.mnt.idmap(),
        c_str!("trusted.overlay.opaque"),
        &mut value,
    );
    if let Ok(Some(1)) = xattr {
        if value[0] == b'y' {
            return Ok(true);
        }
    }
    let marker = dir.lookup_unlocked(layer.mnt.idmap(), WH_OPAQUE)?;
    Ok(!marker.is_negative())
}

/// The union inode for a found stack: one per directory dentry, and for a
/// non-directory the one already standing for its real inode, if any.
///
/// A lower object with several names gets a union inode per name when
/// the union is writable: copying one name up breaks the link, so the
/// names become different objects (overlayfs without `index` does the
/// same, see `ovl_hash_bylower`). `made_now`: the stack is an object the
/// union has just made, which no copy-up can have left a number on.
pub(crate) fn stack_inode(
    sb: &UnionSb,
    fs: &UnionFs,
    found: KVec<RealDentry>,
    made_now: bool,
) -> Result<ARef<Inode>> {
    let top_real = found.first().ok_or(EIO)?;
    let top = top_real.dentry.inode().ok_or(EIO)?;
    let ops = ops_for_mode(top.mode());
    let top_is_lower = fs.layer(top_real.layer).is_ok_and(|l| !l.writable);
    let link_breaks = top_is_lower && fs.upper().is_some() && top.nlink() > 1;
    let mut inode = if top.is_dir() || link_breaks {
        sb.new_union_inode()?
    } else {
        match sb.iget_for_real(top)? {
            Iget::Cached(inode) => return Ok(inode),
            Iget::New(inode) => inode,
        }
    };
    let is_dir = top.is_dir();
    let (upper, lowers) = split_upper(fs, found)?;
    let ino = identity_ino(fs, upper.as_deref(), &lowers, is_dir, made_now)?;
    inode.init(upper, lowers, &ops, ino)?;
    // What the union has just made has no protattr yet.
    if let (Some(upper), Some(layer), false) = (inode.rs_inode().upper(), fs.upper(), made_now) {
        crate::inode::read_protattr(inode.rs_inode(), upper, &layer.mnt);
    }
    Ok(inode.unlock())
}
