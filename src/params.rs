// SPDX-License-Identifier: GPL-2.0

//! Mount options (fs/overlayfs/params.c's concern), in overlayfs's syntax
//! (`lowerdir=top:…:bottom,upperdir=…,workdir=…`) or aufs's
//! (`br=`/`dirs=` `path[=rw|=ro]:…`, leftmost on top and writable unless
//! marked). Paths are resolved when given, as the caller sees them.

use crate::entry::{Syntax, WhiteoutFormat, MAX_LOWER_LAYERS};
use crate::vfs::{errno::enoparam, FsContext, FsParameter, Path};
use core::fmt::Write;
use kernel::{fmt, prelude::*, str::CStr};

/// What the options of one mount attempt say.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) syntax: Option<Syntax>,
    /// Read-only layers, top first.
    pub(crate) lowers: KVec<Path>,
    pub(crate) upper: Option<Path>,
    pub(crate) work: Option<Path>,
    pub(crate) whiteout: Option<WhiteoutFormat>,
    /// The lowers came one per `lowerdir+` option (overlayfs since 6.7,
    /// for more layers than one page of options can name).
    pub(crate) lowers_one_by_one: bool,
}

/// Takes one option; refuses, with a dmesg line, anything it cannot use.
pub(crate) fn parse_param(fc: &FsContext, params: &mut Params, param: &FsParameter) -> Result {
    let key = param.key();
    let syntax = match key.as_bytes() {
        // The VFS records `source` itself (mount(2)'s first argument).
        b"source" => return Err(enoparam()),
        // The id /proc/mounts shows, taken back so that its options mount
        // again; a new mount gets a new id.
        b"si" => return Ok(()),
        b"whiteout" => return parse_whiteout(fc, params, param),
        b"datadir+" => {
            return Err(fc.invalf(fmt!(
                "datadir+: data-only layers need metacopy, which rsunion does not have"
            )))
        }
        b"lowerdir" | b"lowerdir+" | b"upperdir" | b"workdir" => Syntax::Overlay,
        b"br" | b"dirs" => Syntax::Aufs,
        _ => return Err(fc.invalf(fmt!("unknown mount option '{}'", Quoted(key.as_bytes())))),
    };
    if params.syntax.is_some_and(|s| s != syntax) {
        return Err(fc.invalf(fmt!(
            "'{}' mixes aufs options (br=, dirs=) with overlayfs options (lowerdir=, upperdir=, workdir=)",
            key
        )));
    }
    let value = match param.string() {
        Some(v) if !v.is_empty() => v.as_bytes(),
        _ => return Err(fc.invalf(fmt!("'{}' needs a non-empty value", key))),
    };
    match key.as_bytes() {
        b"lowerdir" => {
            params.lowers = resolve_list(fc, key, value)?;
            params.lowers_one_by_one = false;
        }
        b"lowerdir+" => add_lower(fc, params, key, value)?,
        b"upperdir" => params.upper = Some(resolve(fc, key, value)?),
        b"workdir" => params.work = Some(resolve(fc, key, value)?),
        _ => (params.upper, params.lowers) = parse_branches(fc, key, value)?,
    }
    // Set only once the option is taken: a refused option changes nothing.
    params.syntax = Some(syntax);
    Ok(())
}

/// `whiteout=overlay|aufs`: the format written; both are always read.
fn parse_whiteout(fc: &FsContext, params: &mut Params, param: &FsParameter) -> Result {
    params.whiteout = Some(match param.string().map(|v| v.as_bytes()) {
        Some(b"overlay") => WhiteoutFormat::Overlay,
        Some(b"aufs") => WhiteoutFormat::Aufs,
        _ => return Err(fc.invalf(fmt!("whiteout= takes 'overlay' or 'aufs'"))),
    });
    Ok(())
}

/// `lowerdir=`: colon-separated directories, top first.
fn resolve_list(fc: &FsContext, key: &CStr, value: &[u8]) -> Result<KVec<Path>> {
    let mut paths = KVec::new();
    for item in split_unescaped(value, b':') {
        if paths.len() == MAX_LOWER_LAYERS {
            return Err(fc.invalf(fmt!(
                "{}: too many layers, the limit is {}",
                key,
                MAX_LOWER_LAYERS
            )));
        }
        paths.push(resolve(fc, key, item)?, GFP_KERNEL)?;
    }
    Ok(paths)
}

/// `lowerdir+=`: one more lower layer, below those given so far. As in
/// overlayfs the name is taken as it is, unescaped, and cannot be added
/// to a `lowerdir=` list (which replaces them all).
fn add_lower(fc: &FsContext, params: &mut Params, key: &CStr, name: &[u8]) -> Result {
    if !params.lowers.is_empty() && !params.lowers_one_by_one {
        return Err(fc.invalf(fmt!("lowerdir+ cannot follow lowerdir")));
    }
    if params.lowers.len() == MAX_LOWER_LAYERS {
        return Err(fc.invalf(fmt!(
            "{}: too many layers, the limit is {}",
            key,
            MAX_LOWER_LAYERS
        )));
    }
    let mut literal = KVec::with_capacity(name.len() + 1, GFP_KERNEL)?;
    literal.extend_from_slice(name, GFP_KERNEL)?;
    literal.push(0, GFP_KERNEL)?;
    let path = lookup_dir(fc, key, &literal)?;
    params.lowers.push(path, GFP_KERNEL)?;
    params.lowers_one_by_one = true;
    Ok(())
}

/// `br=`/`dirs=`: aufs branches, `path[=rw|=ro]`, leftmost on top. The
/// leftmost is writable unless marked `=ro`; only it may be writable.
/// Returns the writable branch and the read-only ones, top first.
fn parse_branches(fc: &FsContext, key: &CStr, value: &[u8]) -> Result<(Option<Path>, KVec<Path>)> {
    let mut upper = None;
    let mut lowers = KVec::new();
    for (i, item) in split_unescaped(value, b':').enumerate() {
        let (path, mark) = split_mark(item);
        let writable = mark.unwrap_or(i == 0);
        let path = resolve(fc, key, path)?;
        if writable && i > 0 {
            return Err(fc.invalf(fmt!(
                "{}: only the leftmost branch can be writable (=rw)",
                key
            )));
        }
        if writable {
            upper = Some(path);
        } else if lowers.len() == MAX_LOWER_LAYERS {
            return Err(fc.invalf(fmt!(
                "{}: too many layers, the limit is {}",
                key,
                MAX_LOWER_LAYERS
            )));
        } else {
            lowers.push(path, GFP_KERNEL)?;
        }
    }
    Ok((upper, lowers))
}

/// An aufs branch's path and its mark (`=rw`: `Some(true)`, `=ro`:
/// `Some(false)`), if it ends with one whose `=` is not escaped: `x\=rw`
/// is the directory `x=rw`, unmarked.
fn split_mark(item: &[u8]) -> (&[u8], Option<bool>) {
    let (path, writable) = match item {
        [p @ .., b'=', b'r', b'w'] => (p, true),
        [p @ .., b'=', b'r', b'o'] => (p, false),
        p => return (p, None),
    };
    // Backslashes pair up from the left: an odd run escapes the `=`.
    let run = path.iter().rev().take_while(|&&c| c == b'\\').count();
    if run % 2 == 1 {
        (item, None)
    } else {
        (path, Some(writable))
    }
}

/// Resolves one (escaped) directory name as the caller sees it.
fn resolve(fc: &FsContext, key: &CStr, escaped: &[u8]) -> Result<Path> {
    if escaped.is_empty() {
        return Err(fc.invalf(fmt!("{}: empty directory name", key)));
    }
    let name = unescape(escaped).map_err(|e| {
        if e == EINVAL {
            fc.log_err(fmt!("{}: a directory name cannot contain NUL (\\000)", key));
        }
        e
    })?;
    lookup_dir(fc, key, &name)
}

/// Resolves a NUL-terminated directory name as the caller sees it.
fn lookup_dir(fc: &FsContext, key: &CStr, name: &[u8]) -> Result<Path> {
    let name = CStr::from_bytes_with_nul(name).map_err(|_| {
        fc.log_err(fmt!("{}: a directory name cannot contain NUL", key));
        EINVAL
    })?;
    let path = Path::lookup(name).map_err(|e| {
        fc.log_err(fmt!(
            "{}: cannot resolve '{}': error {}",
            key,
            Quoted(name.as_bytes()),
            e.to_errno()
        ));
        e
    })?;
    if !path.dentry().is_dir() {
        return Err(fc.invalf(fmt!(
            "{}: '{}' is not a directory",
            key,
            Quoted(name.as_bytes())
        )));
    }
    Ok(path)
}

/// How much of a name the caller gave a message quotes: printk cuts a
/// record at 1 KiB, its newline too, and a record without its newline
/// stays unseen by /dev/kmsg readers until the next message comes.
const QUOTED_MAX: usize = 200;

/// A name the caller gave, for a message: its first [`QUOTED_MAX`] bytes,
/// non-printable ones escaped (`\xNN`, as `CStr` shows them), and `...`
/// if there is more.
struct Quoted<'a>(&'a [u8]);

impl core::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let head = self.0.get(..QUOTED_MAX).unwrap_or(self.0);
        for &c in head {
            if (0x20..0x7f).contains(&c) {
                f.write_char(c as char)?;
            } else {
                write!(f, "\\x{c:02x}")?;
            }
        }
        if head.len() < self.0.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// Splits at separators not escaped by a backslash.
fn split_unescaped(s: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut escaped = false;
    s.split(move |&c| {
        let split = c == sep && !escaped;
        escaped = c == b'\\' && !escaped;
        split
    })
}

/// Undoes option escapes: `\ooo` (octal, as /proc/mounts writes) and
/// `\c` for any other character. Returns a NUL-terminated copy.
fn unescape(s: &[u8]) -> Result<KVec<u8>> {
    let mut out = KVec::with_capacity(s.len() + 1, GFP_KERNEL)?;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let (byte, used) = match (c, s.get(i + 1..i + 4)) {
            (b'\\', Some(&[a, b, d])) if [a, b, d].iter().all(|x| (b'0'..=b'7').contains(x)) => {
                ((a - b'0') << 6 | (b - b'0') << 3 | (d - b'0'), 4)
            }
            (b'\\', _) => (s.get(i + 1).copied().unwrap_or(b'\\'), 2),
            (c, _) => (c, 1),
        };
        if byte == 0 {
            return Err(EINVAL);
        }
        out.push(byte, GFP_KERNEL)?;
        i += used;
    }
    out.push(0, GFP_KERNEL)?;
    Ok(out)
}
