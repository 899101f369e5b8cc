// SPDX-License-Identifier: GPL-2.0

//! Setting up a union's superblock from its layers, statfs and
//! show_options (fs/overlayfs/super.c's concern).

use crate::entry::{Layer, Syntax, UnionFs, WhiteoutFormat};
use crate::params::{self, Params};
use crate::vfs::consts::{
    DT_UNKNOWN, FILESYSTEM_MAX_STACK_DEPTH, MNT_NOATIME, MNT_NODIRATIME, MNT_READONLY,
    MNT_RELATIME, RENAME_EXCHANGE, RENAME_WHITEOUT, S_IFREG,
};
use crate::vfs::{
    errno, read_real_dir, BranchFiles, Cred, FileSystem, FsContext, FsParameter, Kstatfs,
    LockedDir, MntWrite, NewSuperBlock, Path, RealFile, RenameLock, SeqFile,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{c_str, ffi, fmt, prelude::*, str::CStr, str::CString, types::ARef};

/// `statfs` `f_type` of an rsunion mount: "rsu1".
const RSUNION_MAGIC: ffi::c_ulong = 0x7273_7531;

/// The rsunion filesystem type.
pub(crate) struct RsunionType;

impl FileSystem for RsunionType {
    const NAME: &'static CStr = c_str!("rsunion");
    type Params = Params;
    type Data = UnionFs;

    fn parse_param(fc: &FsContext, params: &mut Params, param: &FsParameter) -> Result {
        params::parse_param(fc, params, param)
    }

    fn new_data(fc: &FsContext, params: &mut Params) -> Result<Pin<KBox<UnionFs>>> {
        check_layers(fc, params)?;
        let mut layers = KVec::new();
        if let Some(upper) = params.upper.take() {
            layers.push(new_layer(fc, upper, true)?, GFP_KERNEL)?;
        }
        for lower in core::mem::replace(&mut params.lowers, KVec::new()) {
            layers.push(new_layer(fc, lower, false)?, GFP_KERNEL)?;
        }
        let work = match (params.syntax, layers.first().filter(|l| l.writable)) {
            (Some(Syntax::Overlay), _) => params.work.take(),
            (_, Some(upper)) => Some(aufs_work_dir(upper)),
            _ => None,
        };
        let creds = Cred::prepare_mounter()?;
        if let (Some(work), Some(upper)) = (&work, layers.first().filter(|l| l.writable)) {
            clean_work_dir(work, upper, &creds);
        }
        let syntax = params.syntax.unwrap_or(Syntax::Overlay);
        let mut whiteout = params.whiteout.unwrap_or(default_whiteout(syntax));
        if let (Some(work), Some(upper)) = (&work, layers.first().filter(|l| l.writable)) {
            let features = probe_upper(work, upper, &creds, whiteout);
            whiteout = whiteout_for(fc, params.whiteout, whiteout, &features)?;
        }
        let samefs = layers.iter().all(|l| {
            layers
                .first()
                .is_some_and(|f| core::ptr::eq(f.path.super_block(), l.path.super_block()))
        });
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let branch_files = branch_files(fc, id, &layers)?;
        let fs = UnionFs {
            layers,
            work,
            creds,
            syntax,
            whiteout,
            samefs,
            id,
            lowers_one_by_one: params.lowers_one_by_one,
            _branch_files: branch_files,
        };
        Ok(KBox::pin(fs, GFP_KERNEL)?)
    }

    /// As overlayfs's `ovl_reconfigure`: a union without an upper layer
    /// has nowhere to write, and a union turning read-only syncs first.
    fn reconfigure(fc: &FsContext, fs: &UnionFs, read_only: bool) -> Result {
        if !read_only && fs.upper().is_none() {
            fc.log_err(fmt!(
                "a union without an upper layer cannot be made writable"
            ));
            return Err(EROFS);
        }
        if read_only {
            sync_fs(fs, true)?;
        }
        Ok(())
    }

    fn fill_super(sb: &NewSuperBlock, fs: &UnionFs) -> Result {
        let depth = fs
            .layers
            .iter()
            .map(|l| l.path.super_block().stack_depth())
            .max()
            .unwrap_or(0)
            + 1;
        if depth > FILESYSTEM_MAX_STACK_DEPTH {
            pr_err!("maximum filesystem stacking depth exceeded\n");
            return Err(EINVAL);
        }
        let maxbytes = fs
            .layers
            .iter()
            .map(|l| l.path.super_block().max_bytes())
            .max()
            .unwrap_or(0);
        // As overlayfs, `SB_NOSEC` where the upper layer has it: the VFS
        // then marks a union inode `S_NOSEC` once a write found no
        // privileges to drop, and later writes skip the check, which costs
        // a `security.capability` lookup through the union. As in
        // overlayfs, a setuid bit or file capability put on a layer behind
        // the union's back is missed by an inode already marked.
        let nosec = fs
            .upper()
            .is_some_and(|u| u.path.super_block().keeps_nosec());
        let union_sb = sb.init_union(RSUNION_MAGIC, depth, maxbytes, fs.upper().is_none(), nosec);
        sb.set_root(crate::namei::root_inode(union_sb, fs)?)
    }
}

/// The next union's id. Ids are never reused while the module is loaded,
/// so a `si_<id>` directory names one mount.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `/sys/fs/rsunion/si_<id>`: a `br<N>` file per layer, top first, with
/// its path as the mounter sees it and `=rw` or `=ro`, as aufs shows them.
fn branch_files(fc: &FsContext, id: u64, layers: &[Layer]) -> Result<BranchFiles> {
    let mut texts = KVec::with_capacity(layers.len(), GFP_KERNEL)?;
    for layer in layers {
        let mut text = branch_name(&layer.path)?;
        text.extend_from_slice(if layer.writable { b"=rw" } else { b"=ro" }, GFP_KERNEL)?;
        texts.push(text, GFP_KERNEL)?;
    }
    BranchFiles::new(id, texts).map_err(|e| {
        fc.log_err(fmt!(
            "cannot make /sys/fs/rsunion/si_{:x}: error {}",
            id,
            e.to_errno()
        ));
        e
    })
}

/// A layer's path, or for one a branch file cannot hold with its mark
/// (deeper than PATH_MAX from the mounter's cwd, which mounts) `.../` and
/// its last name.
fn branch_name(path: &Path) -> Result<KVec<u8>> {
    match path.name() {
        Ok(name) if name.len() + b"=rw\n".len() < kernel::page::PAGE_SIZE => Ok(name),
        Err(e) if e != errno::enametoolong() => Err(e),
        _ => {
            let mut text = KVec::new();
            text.extend_from_slice(b".../", GFP_KERNEL)?;
            text.extend_from_slice(&path.dentry().name_snapshot()?, GFP_KERNEL)?;
            Ok(text)
        }
    }
}

/// Each syntax writes its own family's whiteouts unless told otherwise:
/// the seed's aufs walkthrough leaves `.wh.` files, overlayfs tools expect
/// char devices.
fn default_whiteout(syntax: Syntax) -> WhiteoutFormat {
    match syntax {
        Syntax::Overlay => WhiteoutFormat::Overlay,
        Syntax::Aufs => WhiteoutFormat::Aufs,
    }
}

/// Refusals that need all options at once.
fn check_layers(fc: &FsContext, p: &Params) -> Result {
    if p.lowers.is_empty() && p.upper.is_none() {
        return Err(fc.invalf(fmt!("no layers: give lowerdir= (or br=/dirs=)")));
    }
    if p.lowers.is_empty() {
        return Err(fc.invalf(fmt!(
            "a writable layer needs at least one read-only layer below it"
        )));
    }
    if p.upper.is_none() && p.lowers.len() < 2 {
        return Err(fc.invalf(fmt!("a read-only union needs at least two layers")));
    }
    if let Some(upper) = &p.upper {
        check_upper(fc, upper)?;
    }
    if p.syntax == Some(Syntax::Overlay) {
        match (&p.upper, &p.work) {
            (Some(_), None) => return Err(fc.invalf(fmt!("upperdir needs workdir"))),
            (None, Some(_)) => return Err(fc.invalf(fmt!("workdir needs upperdir"))),
            (Some(upper), Some(work)) => check_work(fc, upper, work)?,
            (None, None) => (),
        }
    }
    check_overlap(fc, p)
}

/// The upper layer takes every write: a read-only mount would refuse them
/// all, and a union would hide the whiteouts written into it (overlayfs
/// refuses both too).
fn check_upper(fc: &FsContext, upper: &Path) -> Result {
    if upper.is_read_only() {
        return Err(fc.invalf(fmt!("the upper layer is on a read-only mount")));
    }
    if upper.fs_magic() == RSUNION_MAGIC {
        return Err(fc.invalf(fmt!("an rsunion mount cannot be an upper layer")));
    }
    Ok(())
}

/// Refuses layers that are one directory or nest in one another: the
/// union would show itself inside itself, or writes through the upper
/// layer would change a lower one under the union (`ELOOP`, as overlayfs's
/// traps and `ovl_check_layer`). Dentries are compared, so a bind mount of
/// a layer is caught too.
fn check_overlap(fc: &FsContext, p: &Params) -> Result {
    let layers = || {
        let ends = Iterator::chain(p.upper.iter(), p.work.iter());
        Iterator::chain(ends, p.lowers.iter())
    };
    let mut roots = KVec::new();
    for path in layers() {
        roots.push(path.dentry().as_ptr() as usize, GFP_KERNEL)?;
    }
    roots.sort_unstable();
    if roots.windows(2).any(|w| w.first() == w.get(1)) {
        fc.log_err(fmt!("one directory is given as two layers"));
        return Err(errno::eloop());
    }
    for path in layers() {
        let mut d: ARef<crate::vfs::Dentry> = path.dentry().into();
        loop {
            let parent = d.parent();
            if core::ptr::eq(&*parent, &*d) {
                break;
            }
            if roots.binary_search(&(parent.as_ptr() as usize)).is_ok() {
                fc.log_err(fmt!("layers overlap: one is inside another"));
                return Err(errno::eloop());
            }
            d = parent;
        }
    }
    Ok(())
}

/// The work directory is where copies are prepared before they are
/// renamed into the upper layer: it must be on the same filesystem and
/// outside the upper tree (and the upper outside it).
fn check_work(fc: &FsContext, upper: &Path, work: &Path) -> Result {
    if !core::ptr::eq(upper.super_block(), work.super_block()) {
        return Err(fc.invalf(fmt!("workdir and upperdir must be on the same filesystem")));
    }
    // One mount, not merely one filesystem: through a read-only bind mount
    // of the upper filesystem nothing may be written.
    if !upper.same_mount(work) {
        return Err(fc.invalf(fmt!("workdir and upperdir must be on the same mount")));
    }
    if work.is_within(upper) || upper.is_within(work) {
        return Err(fc.invalf(fmt!("workdir and upperdir must be separate subtrees")));
    }
    Ok(())
}

/// Removes what a copy-up interrupted by a crash left in the work
/// directory: its temporaries never show in the union, but take space.
/// A failure here only costs that space, so it is logged, not fatal.
fn clean_work_dir(work: &Path, upper: &Layer, creds: &Cred) {
    let cleaned = MntWrite::get(&upper.mnt).and_then(|_write| {
        crate::readdir::remove_entries(work.dentry(), &upper.mnt, creds, |name, _| {
            Ok(name.starts_with(crate::copy_up::TEMP_PREFIX))
        })
    });
    if let Err(e) = cleaned {
        pr_warn!(
            "could not clean the work directory: error {}\n",
            e.to_errno()
        );
    }
}

/// What the upper filesystem did when tried in the work directory at mount,
/// as overlayfs's `ovl_make_workdir` tries it.
#[derive(Default)]
struct UpperFeatures {
    tried: bool,
    /// Char device 0/0.
    whiteouts: bool,
    trusted_xattrs: bool,
    rename_whiteout: bool,
    rename_exchange: bool,
    d_type: bool,
}

impl UpperFeatures {
    /// The first thing overlay-format whiteouts need that is missing.
    fn overlay_format_lacks(&self) -> Option<&'static str> {
        [
            (self.whiteouts, "char device 0/0 whiteouts"),
            (self.trusted_xattrs, "trusted.* xattrs"),
            (self.rename_whiteout, "RENAME_WHITEOUT"),
            (self.rename_exchange, "RENAME_EXCHANGE"),
        ]
        .into_iter()
        .find(|(has, _)| !has)
        .map(|(_, what)| what)
    }
}

/// Tries in the work directory what rsunion asks of the upper filesystem
/// (everything, for overlay-format whiteouts; only `d_type` for aufs's);
/// whatever it leaves there has a temporary's name and is removed. A
/// failure that says nothing about a feature (no space, say) leaves the
/// features untried: the format asked for stands.
fn probe_upper(work: &Path, upper: &Layer, creds: &Cred, format: WhiteoutFormat) -> UpperFeatures {
    let mut features = UpperFeatures::default();
    let tried = {
        creds.with(|| {
            MntWrite::get(&upper.mnt)
                .and_then(|_write| try_features(work, upper, creds, format, &mut features))
        })
    };
    if let Err(e) = tried {
        pr_warn!(
            "could not try the upper filesystem's features: error {}\n",
            e.to_errno()
        );
        features = UpperFeatures::default();
    }
    clean_work_dir(work, upper, creds);
    features
}

fn try_features(
    work: &Path,
    upper: &Layer,
    creds: &Cred,
    format: WhiteoutFormat,
    f: &mut UpperFeatures,
) -> Result {
    let mnt = &upper.mnt;
    let dir = LockedDir::lock(work.dentry(), mnt)?;
    let (_, file) = crate::copy_up::free_temp(&dir)?;
    dir.create(&file, S_IFREG | 0o600)?;
    if format == WhiteoutFormat::Overlay {
        let (_, node) = crate::copy_up::free_temp(&dir)?;
        f.whiteouts = supported(dir.whiteout(&node))?;
        drop(dir);
        f.trusted_xattrs = supported(file.setxattr(mnt, c_str!("trusted.overlay.opaque"), b"y"))?;
        let lock = RenameLock::lock(work.dentry(), work.dentry(), mnt)?;
        if !node.is_negative() {
            f.rename_exchange = supported(lock.rename(&file, &node, RENAME_EXCHANGE))?;
        }
        let (_, moved) = crate::copy_up::free_temp(lock.new_dir())?;
        f.rename_whiteout = supported(lock.rename(&file, &moved, RENAME_WHITEOUT))?;
    } else {
        drop(dir);
    }
    let real = RealFile::open_dir(work, creds)?;
    read_real_dir(&real, &mut |e| {
        if e.name.starts_with(crate::copy_up::TEMP_PREFIX) && e.d_type != DT_UNKNOWN {
            f.d_type = true;
        }
        Ok(())
    })?;
    f.tried = true;
    Ok(())
}

/// Whether a try succeeded, failed for want of the feature, or failed for
/// another reason (an error).
fn supported(tried: Result) -> Result<bool> {
    match tried {
        Ok(()) => Ok(true),
        Err(e) if e == EINVAL || e == EPERM || e == errno::eopnotsupp() => Ok(false),
        Err(e) => Err(e),
    }
}

/// The whiteout format the union writes: the one asked for or implied by
/// the syntax, unless the upper filesystem cannot hold overlay-format
/// whiteouts; then aufs's, which need only regular files, or a refusal
/// when `whiteout=overlay` was asked for.
fn whiteout_for(
    fc: &FsContext,
    asked: Option<WhiteoutFormat>,
    format: WhiteoutFormat,
    f: &UpperFeatures,
) -> Result<WhiteoutFormat> {
    if !f.tried {
        return Ok(format);
    }
    if !f.d_type {
        pr_warn!("the upper filesystem gives no d_type: readdir looks every entry up\n");
    }
    let lacking = match format {
        WhiteoutFormat::Aufs => None,
        WhiteoutFormat::Overlay => f.overlay_format_lacks(),
    };
    match (lacking, asked) {
        (None, _) => Ok(format),
        (Some(what), Some(_)) => Err(fc.invalf(fmt!(
            "whiteout=overlay: the upper filesystem has no {}; whiteout=aufs works there",
            what
        ))),
        (Some(what), None) => {
            pr_warn!(
                "the upper filesystem has no {}: writing aufs-format whiteouts\n",
                what
            );
            Ok(WhiteoutFormat::Aufs)
        }
    }
}

/// With aufs's syntax copies are prepared in the writable branch's root,
/// under `.wh..wh.` names, which never show in the union: no directory of
/// the union's own is left in the branch, as in the seed's walkthrough.
fn aufs_work_dir(upper: &Layer) -> Path {
    Path::new(&upper.mnt, upper.mnt.root())
}

fn new_layer(fc: &FsContext, path: Path, writable: bool) -> Result<Layer> {
    let mut mnt = path.clone_private_mount().inspect_err(|e| {
        fc.log_err(fmt!(
            "cannot use a layer's mount (unbindable, or not ours to clone): error {}",
            e.to_errno()
        ))
    })?;
    if writable {
        // The union's own atime options apply, not the upper mount's.
        mnt.set_flags(0, MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME);
    } else {
        // Lower layers are never written, not even their atimes.
        mnt.set_flags(MNT_READONLY | MNT_NOATIME, 0);
    }
    Ok(Layer {
        mnt,
        path,
        writable,
    })
}

/// The upper layer's statfs, or the top layer's in a read-only union.
pub(crate) fn statfs(fs: &UnionFs, buf: &mut Kstatfs) -> Result {
    let top = fs.layers.first().ok_or(EIO)?;
    fs.creds.with(|| {
        top.path.statfs(buf)?;
        buf.set_fs_type(RSUNION_MAGIC);
        Ok(())
    })
}

/// syncfs(2) on the union syncs the upper filesystem, where everything
/// written through the union is. sync(2) walks every superblock itself,
/// so the union skips it (`SB_I_SKIP_SYNC`), and a non-waiting pass has
/// nothing to add to the waiting one that follows.
pub(crate) fn sync_fs(fs: &UnionFs, wait: bool) -> Result {
    match fs.upper() {
        Some(upper) if wait => upper.mnt.sync_filesystem(),
        _ => Ok(()),
    }
}

/// Options as `/proc/mounts` shows them: enough to mount the same union
/// again, in the syntax it was mounted with.
pub(crate) fn show_options(fs: &UnionFs, m: &SeqFile) -> Result {
    // Separators of the option syntax are escaped (octal) in paths.
    let esc = c_str!(":,= \t\n\\");
    m.puts(&CString::try_from_fmt(fmt!(",si={:x}", fs.id))?);
    match fs.syntax {
        Syntax::Overlay if fs.lowers_one_by_one => {
            // A `lowerdir+` name is taken unescaped: only what splits
            // options is escaped, as overlayfs shows them.
            for layer in fs.layers.iter().filter(|l| !l.writable) {
                m.puts(c_str!(",lowerdir+="));
                m.path(&layer.path, c_str!(",= \t\n\\"));
            }
            show_upper_and_work(fs, m, esc);
        }
        Syntax::Overlay => {
            m.puts(c_str!(",lowerdir="));
            for (i, layer) in fs.layers.iter().filter(|l| !l.writable).enumerate() {
                if i > 0 {
                    m.puts(c_str!(":"));
                }
                m.path(&layer.path, esc);
            }
            show_upper_and_work(fs, m, esc);
        }
        Syntax::Aufs => {
            m.puts(c_str!(",br="));
            for (i, layer) in fs.layers.iter().enumerate() {
                if i > 0 {
                    m.puts(c_str!(":"));
                }
                m.path(&layer.path, esc);
                m.puts(if layer.writable {
                    c_str!("=rw")
                } else {
                    c_str!("=ro")
                });
            }
        }
    }
    if fs.whiteout != default_whiteout(fs.syntax) {
        m.puts(match fs.whiteout {
            WhiteoutFormat::Overlay => c_str!(",whiteout=overlay"),
            WhiteoutFormat::Aufs => c_str!(",whiteout=aufs"),
        });
    }
    Ok(())
}

fn show_upper_and_work(fs: &UnionFs, m: &SeqFile, esc: &CStr) {
    if let Some(upper) = fs.upper() {
        m.puts(c_str!(",upperdir="));
        m.path(&upper.path, esc);
    }
    if let Some(work) = &fs.work {
        m.puts(c_str!(",workdir="));
        m.path(work, esc);
    }
}
