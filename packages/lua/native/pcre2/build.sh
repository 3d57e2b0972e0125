#!/bin/sh
# Builds pcre2.wasm (PCRE2 8-bit + binding.c, a WebAssembly reactor with no imports) from
# PCRE2's release source as Debian ships it, and copies PCRE2's LICENCE beside it.
#
#   build.sh            build, then write pcre2.wasm, pcre2.wasm.sha256 and LICENCE here
#   build.sh --check    build in a temporary folder and compare with the committed pcre2.wasm
#
# Toolchain (Debian 12): apt-get install clang-16 lld-16 wasi-libc
# Source, the first that applies:
#   PCRE2_SRC=<dir>       an unpacked pcre2-10.42 tree (e.g. from `apt-get source pcre2`)
#   PCRE2_TARBALL=<file>  pcre2_10.42.orig.tar.gz (Debian's copy of the upstream release tarball)
#   otherwise             the tarball is downloaded from Debian's archive
# The tarball's SHA-256 is checked against the value below (the one in Debian's pcre2_10.42-1.dsc).
set -eu

VERSION=10.42
TARBALL_SHA256=c33b418e3b936ee3153de2c61cc638e7e4fe3156022a5c77d0711bcbb9d64f1f
TARBALL_URL=${PCRE2_URL:-http://deb.debian.org/debian/pool/main/p/pcre2/pcre2_$VERSION.orig.tar.gz}
CC=${CC:-clang-16}
SYSROOT=${WASI_SYSROOT:-/usr}

HERE=$(cd "$(dirname "$0")" && pwd)
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${PCRE2_SRC:-}" ]; then
  SRC_TREE=$PCRE2_SRC
else
  TARBALL=${PCRE2_TARBALL:-}
  if [ -z "$TARBALL" ]; then
    TARBALL=$WORK/pcre2.tar.gz
    echo "downloading $TARBALL_URL" >&2
    curl -fsSL -o "$TARBALL" "$TARBALL_URL"
  fi
  echo "$TARBALL_SHA256  $TARBALL" | sha256sum -c - >&2
  tar -xzf "$TARBALL" -C "$WORK"
  SRC_TREE=$WORK/pcre2-$VERSION
fi
grep -q "^#define PCRE2_MINOR *${VERSION#*.}\$" "$SRC_TREE/src/pcre2.h.generic" || {
  echo "$SRC_TREE is not PCRE2 $VERSION" >&2
  exit 1
}

# A private copy of the sources: the generic config, our budget hooks (budget.patch).
mkdir "$WORK/src"
cp "$SRC_TREE"/src/*.c "$SRC_TREE"/src/*.h "$SRC_TREE"/src/*.generic "$SRC_TREE"/src/*.dist "$WORK/src/"
cp "$WORK/src/config.h.generic" "$WORK/src/config.h"
cp "$WORK/src/pcre2.h.generic" "$WORK/src/pcre2.h"
cp "$WORK/src/pcre2_chartables.c.dist" "$WORK/src/pcre2_chartables.c"
cp "$HERE/phasekit_budget.h" "$WORK/src/"
(cd "$WORK" && patch -s -p0 < "$HERE/budget.patch")

FILES="auto_possess chartables compile config context dfa_match error extuni find_bracket match
  match_data newline ord2utf pattern_info script_run string_utils study substring tables ucd
  valid_utf xclass"
SOURCES=""
for f in $FILES; do SOURCES="$SOURCES $WORK/src/pcre2_$f.c"; done

# Relative paths only, so the output does not depend on where the build ran.
cd "$WORK"
# shellcheck disable=SC2086
"$CC" --target=wasm32-wasi --sysroot="$SYSROOT" -I"$SYSROOT/include/wasm32-wasi" -L"$SYSROOT/lib/wasm32-wasi" \
  -O2 -DNDEBUG -DHAVE_CONFIG_H -DPCRE2_CODE_UNIT_WIDTH=8 -DSUPPORT_UNICODE -DPCRE2_STATIC -Isrc \
  -mexec-model=reactor -Wl,--strip-all -Wl,-z,stack-size=262144 \
  -o pcre2.wasm "$HERE/binding.c" $SOURCES

if [ "$CHECK" = 1 ]; then
  if cmp -s pcre2.wasm "$HERE/pcre2.wasm"; then
    echo "pcre2.wasm matches the build ($(sha256sum < pcre2.wasm | cut -c1-16)...)"
    exit 0
  fi
  echo "pcre2.wasm differs from the build: committed $(sha256sum < "$HERE/pcre2.wasm" | cut -c1-16)..., built $(sha256sum < pcre2.wasm | cut -c1-16)..." >&2
  exit 1
fi
cp pcre2.wasm "$HERE/pcre2.wasm"
sha256sum < pcre2.wasm | cut -d' ' -f1 > "$HERE/pcre2.wasm.sha256"
cp "$SRC_TREE/LICENCE" "$HERE/LICENCE"
echo "wrote $HERE/pcre2.wasm ($(wc -c < pcre2.wasm) bytes)"
