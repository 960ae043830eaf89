#!/usr/bin/env bash
# Fetches Intel MKL for resgen's `blas` feature from PyPI (the `mkl-static` wheel: static
# libraries, nothing to install system-wide), merges the three archives a sequential LP64 build
# needs into one (`libresgen_mkl.a`, so the linker resolves their circular references in one
# pass), and prints the variable the build reads:
#
#   eval "$(scripts/fetch-mkl.sh)"     # export RESGEN_MKL_LIB=...
#   cargo build --release -p resgen --features blas
#
# The cache folder is $RESGEN_MKL_CACHE (default ~/.cache/resgen/mkl); a second run reuses it.
# Needs python3 with pip (to download the wheel), unzip or python3's zipfile, and ar (binutils).
set -euo pipefail
version="${RESGEN_MKL_VERSION:-2026.2.0}"
cache="${RESGEN_MKL_CACHE:-$HOME/.cache/resgen/mkl}/$version"
lib="$cache/lib"
if [ ! -f "$lib/libresgen_mkl.a" ]; then
  mkdir -p "$cache/wheel" "$lib"
  echo "fetch-mkl: downloading mkl-static $version from PyPI into $cache" >&2
  python3 -m pip download --quiet --no-deps "mkl-static==$version" -d "$cache/wheel" >&2
  wheel=$(ls "$cache"/wheel/mkl_static-"$version"-*.whl)
  python3 - "$wheel" "$lib" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
want = {"libmkl_intel_lp64.a", "libmkl_sequential.a", "libmkl_core.a"}
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if base in want:
            with z.open(name) as src, open(os.path.join(out, base), "wb") as dst:
                dst.write(src.read())
            want.discard(base)
if want:
    sys.exit(f"fetch-mkl: {wheel} lacks {sorted(want)}")
PY
  (cd "$lib" && printf 'CREATE libresgen_mkl.a.tmp\nADDLIB libmkl_intel_lp64.a\nADDLIB libmkl_sequential.a\nADDLIB libmkl_core.a\nSAVE\nEND\n' | ar -M \
    && mv libresgen_mkl.a.tmp libresgen_mkl.a && rm -f libmkl_intel_lp64.a libmkl_sequential.a libmkl_core.a)
  rm -rf "$cache/wheel"
fi
echo "export RESGEN_MKL_LIB=$lib"
