// SPDX-License-Identifier: GPL-2.0

//! Mount options (fs/overlayfs/params.c's concern).

use crate::vfs::{enoparam, FsContext, FsParameter};
use kernel::{fmt, prelude::*};

/// What the options of one mount attempt say.
#[derive(Default)]
pub(crate) struct Params {}

/// Takes one option. No option is understood yet: each is refused with
/// `EINVAL` and a dmesg line naming it.
pub(crate) fn parse_param(fc: &FsContext, _params: &mut Params, param: &FsParameter) -> Result {
    let key = param.key();
    // The VFS records `source` itself (mount(2)'s first argument).
    if key.as_bytes() == b"source" {
        return Err(enoparam());
    }
    Err(fc.invalf(fmt!("unknown mount option '{}'", key)))
}
