// SPDX-License-Identifier: GPL-2.0

//! Setting up a union's superblock (fs/overlayfs/super.c's concern).

use crate::params::{self, Params};
use crate::vfs::{FileSystem, FsContext, FsParameter, SuperBlock};
use kernel::{c_str, ffi, prelude::*, str::CStr};

/// `statfs` `f_type` of an rsunion mount: "rsu1".
const RSUNION_MAGIC: ffi::c_ulong = 0x7273_7531;

/// The rsunion filesystem type.
pub(crate) struct Rsunion;

impl FileSystem for Rsunion {
    const NAME: &'static CStr = c_str!("rsunion");
    type Params = Params;

    fn parse_param(fc: &FsContext, params: &mut Params, param: &FsParameter) -> Result {
        params::parse_param(fc, params, param)
    }

    fn fill_super(sb: &SuperBlock, _fc: &FsContext, _params: &mut Params) -> Result {
        // Until layers exist, a mount without options is an empty,
        // read-only directory: enough to pin the module while mounted.
        sb.init_read_only(RSUNION_MAGIC);
        sb.make_empty_root()
    }
}
