#!/usr/bin/env bash
# Prepares, on a CPU machine with network access, what bench/gpu.sh needs on an offline GPU host
# (no network; the compressed binary is about 10 MB, small enough to copy with the working tree):
#   .gpu/resgen.xz   the resgen binary with flex and wgpu, built with the `gpu` profile
#                    (release + fat LTO, one codegen unit, stripped) and xz-compressed
#   .gl/*.deb        Debian's Vulkan loader and GL libraries, which
#                    gpu.sh unpacks only where the machine lacks libvulkan
# Both folders are git-ignored; copy them to the host with the working tree. PROFILE=release
# packs the plain release build instead (larger; sizes in docs/cluster-and-gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-gpu}
cargo build --profile "$PROFILE" -p resgen --features wgpu
bin=${CARGO_TARGET_DIR:-target}/$PROFILE/resgen
mkdir -p .gpu
strip -o .gpu/resgen.stripped "$bin"
xz -9e -T0 -c .gpu/resgen.stripped >.gpu/resgen.xz
rm .gpu/resgen.stripped
echo "$bin: $(stat -c %s "$bin") bytes; .gpu/resgen.xz: $(stat -c %s .gpu/resgen.xz) bytes"

if ! ls .gl/*.deb >/dev/null 2>&1; then
    mkdir -p .gl /tmp/amd64/partial
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update -qq
    (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .gpu .gl
echo "then: copy .gpu/ and .gl/ to the GPU host with the working tree and run: bash bench/gpu.sh 480"
