#!/usr/bin/env bash
# Prepares, on a CPU machine, what bench/gpu.sh needs on a lent GPU machine (issue 14), which
# has no network and takes at most 64 MiB of working tree:
#   .gpu/resgen.xz   the resgen binary with flex and wgpu, built with the `gpu` profile
#                    (release + fat LTO, one codegen unit, stripped) and xz-compressed
#   .gl/*.deb        Debian's Vulkan loader and GL libraries (the device README's list), which
#                    gpu.sh unpacks only where the machine lacks libvulkan
# Both folders are git-ignored and travel with `carry`. PROFILE=release packs the plain
# release build instead (faster to build, larger; sizes compared in the README).
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
echo "then: device run with carry [\".gpu\", \".gl\"]: bash bench/gpu.sh 480"
