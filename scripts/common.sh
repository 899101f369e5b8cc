# SPDX-License-Identifier: GPL-2.0
# Shared settings for rsunion's scripts: where the cache lives and which
# toolchain the kernel and the module are built with. Sourced, not run.

RSUNION_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RSUNION_CACHE=${RSUNION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rsunion}
RSUNION_TOOLS=$RSUNION_CACHE/tools
RSUNION_VENV=$RSUNION_CACHE/venv

# The kernel must be built with Debian's rustc-web: rustup's rustc has no
# rust-src here. These paths are the ones rustc-web/rust-web-src install.
RUSTC_BIN=/usr/bin/rustc
RUSTDOC_BIN=/usr/bin/rustdoc
RUSTFMT_BIN=/usr/bin/rustfmt
BINDGEN_BIN=$RSUNION_TOOLS/bin/bindgen
BINDGEN_VERSION=0.72.1
VNG_BIN=$RSUNION_VENV/bin/vng

log() { printf 'rsunion: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The rust library source that matches /usr/bin/rustc.
rust_lib_src() {
	local ver
	ver=$("$RUSTC_BIN" --version | awk '{print $2}')
	echo "/usr/src/rustc-$ver/library"
}

# Variables every kernel or module make needs.
kmake_vars() {
	printf '%s\n' LLVM=1 "RUSTC=$RUSTC_BIN" "RUSTDOC=$RUSTDOC_BIN" \
		"RUSTFMT=$RUSTFMT_BIN" "BINDGEN=$BINDGEN_BIN" \
		"RUST_LIB_SRC=$(rust_lib_src)"
}
