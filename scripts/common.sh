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

# build_module_copy KDIR OUT: builds rsunion.ko against kernel kit KDIR from
# a copy of the tree in OUT (OUT/rsunion.ko). In the tree it would replace
# the test kernel's rsunion.ko and gen/ with ones that do not load there.
build_module_copy() {
	local kdir=$1 out=$2 vars
	mkdir -p "$out/scripts"
	rsync -a --delete "$RSUNION_TOP/src/" "$out/src/"
	cp -p "$RSUNION_TOP/Kbuild" "$out/"
	cp -p "$RSUNION_TOP/scripts/select-wrappers" "$out/scripts/"
	mapfile -t vars < <(kmake_vars)
	make -C "$kdir" M="$out" "${vars[@]}" modules >&2
}
