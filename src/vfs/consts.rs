// SPDX-License-Identifier: GPL-2.0

//! The C headers' constants the union logic speaks in, under their C
//! names, so that `src/*.rs` never reaches into the raw bindings.

use super::bindings;

/// A device number (`dev_t`).
pub(crate) type DevT = bindings::dev_t;
/// An inode's type and permission bits (`umode_t`).
pub(crate) type Umode = bindings::umode_t;

// File types (uapi/linux/stat.h), as `u32` modes.
pub(crate) const S_IFMT: u32 = bindings::S_IFMT;
pub(crate) const S_IFREG: u32 = bindings::S_IFREG;
pub(crate) const S_IFDIR: u32 = bindings::S_IFDIR;
pub(crate) const S_IFLNK: u32 = bindings::S_IFLNK;
pub(crate) const S_APPEND: u32 = bindings::S_APPEND;
pub(crate) const S_IMMUTABLE: u32 = bindings::S_IMMUTABLE;
pub(crate) const S_IFCHR: u32 = bindings::S_IFCHR;
/// `update_time` flags: the access time.
pub(crate) const S_ATIME: u32 = bindings::file_time_flags_S_ATIME;

/// The device number of an overlayfs-format whiteout (a char device 0/0).
pub(crate) const WHITEOUT_DEV: DevT = bindings::WHITEOUT_DEV;

// Directory entry types (`d_type`, linux/fs_types.h).
pub(crate) const DT_UNKNOWN: u32 = bindings::DT_UNKNOWN;
pub(crate) const DT_CHR: u32 = bindings::DT_CHR;

// Open flags (uapi/asm-generic/fcntl.h).
pub(crate) const O_ACCMODE: u32 = bindings::O_ACCMODE;
pub(crate) const O_RDONLY: u32 = bindings::O_RDONLY;
pub(crate) const O_WRONLY: u32 = bindings::O_WRONLY;
pub(crate) const O_CREAT: u32 = bindings::O_CREAT;
pub(crate) const O_EXCL: u32 = bindings::O_EXCL;
pub(crate) const O_NOCTTY: u32 = bindings::O_NOCTTY;
pub(crate) const O_TRUNC: u32 = bindings::O_TRUNC;
pub(crate) const O_NOATIME: u32 = bindings::O_NOATIME;
pub(crate) const O_APPEND: u32 = bindings::O_APPEND;
pub(crate) const O_LARGEFILE: u32 = bindings::O_LARGEFILE;
/// `O_TMPFILE` is both bits: the VFS keeps them in the file's flags.
pub(crate) const O_TMPFILE: u32 = bindings::__O_TMPFILE | bindings::O_DIRECTORY;

// Access masks of permission checks (`MAY_*`, linux/fs.h), as the
// `->permission` mask is typed.
pub(crate) const MAY_WRITE: i32 = bindings::MAY_WRITE as i32;
pub(crate) const MAY_READ: i32 = bindings::MAY_READ as i32;
pub(crate) const MAY_APPEND: i32 = bindings::MAY_APPEND as i32;
pub(crate) const MAY_OPEN: i32 = bindings::MAY_OPEN as i32;

// `lseek` whence values (uapi/linux/fs.h).
pub(crate) const SEEK_SET: u32 = bindings::SEEK_SET;
pub(crate) const SEEK_CUR: u32 = bindings::SEEK_CUR;
pub(crate) const SEEK_DATA: u32 = bindings::SEEK_DATA;
pub(crate) const SEEK_HOLE: u32 = bindings::SEEK_HOLE;

// `renameat2` flags as the VFS passes them (uapi/linux/fs.h; the AT_
// names share the values).
pub(crate) const RENAME_NOREPLACE: u32 = bindings::AT_RENAME_NOREPLACE;
pub(crate) const RENAME_EXCHANGE: u32 = bindings::AT_RENAME_EXCHANGE;
pub(crate) const RENAME_WHITEOUT: u32 = bindings::AT_RENAME_WHITEOUT;

// Mount flags (linux/mount.h).
pub(crate) const MNT_READONLY: u32 = bindings::MNT_READONLY;
pub(crate) const MNT_NOATIME: u32 = bindings::MNT_NOATIME;
pub(crate) const MNT_NODIRATIME: u32 = bindings::MNT_NODIRATIME;
pub(crate) const MNT_RELATIME: u32 = bindings::MNT_RELATIME;

/// How many filesystems may stack on one another (linux/fs.h).
pub(crate) const FILESYSTEM_MAX_STACK_DEPTH: i32 = bindings::FILESYSTEM_MAX_STACK_DEPTH as i32;

// Which attributes a setattr changes (`ia_valid`, linux/fs.h).
pub(crate) const ATTR_MODE: u32 = bindings::ATTR_MODE;
pub(crate) const ATTR_KILL_SUID: u32 = bindings::ATTR_KILL_SUID;
pub(crate) const ATTR_KILL_SGID: u32 = bindings::ATTR_KILL_SGID;
pub(crate) const ATTR_FILE: u32 = bindings::ATTR_FILE;
pub(crate) const ATTR_OPEN: u32 = bindings::ATTR_OPEN;
