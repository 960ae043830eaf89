#!/usr/bin/env bash
# The benchmark, a wgpu-vs-CPU check and paper-profile experiments on an offline GPU host (no
# network). On a machine with network access, bench/gpu-pack.sh fills .gpu/ and .gl/; copy them to
# the host with the working tree and run, from the repository root there:
#
#   bash bench/gpu.sh 480
#
# BUDGET (first argument, seconds, default 480) is the wall time this script allows itself; it
# stops starting work in time to pack what it has. Everything goes to $OUT (or ./gpu-out):
#   gpu.log          this script's whole output (adapter, driver, CPU, every step's time)
#   bench.csv        `resgen bench --device wgpu --large --format csv` (ms/step, GFLOP/s, % of
#                    the card's measured f32 peak)
#   compare.txt      the README's run on wgpu and on flex (the same binary), metric by metric
#   bench-cpu2.csv   the large shape's step on 2 CPU cores (flex, same binary, same run)
#   paper.tar.xz     results/paper/ (tables, plots, meta.json) and the paper runs/ cells, so a
#                    second try resumes where this one stopped
#   timings.csv      experiment, status, seconds (experiments whose table is already in
#                    results/paper/ are skipped unless GPU_SH_REDO=1)
# On a machine without a GPU it runs on lavapipe (software Vulkan) with GPU_SH_ALLOW_CPU_ADAPTER=1.
set -uo pipefail

BUDGET=${1:-480}
T0=$(date +%s)
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu.log") 2>&1
left() { echo $((T0 + BUDGET - $(date +%s))); }
say() { echo "[gpu.sh +$(($(date +%s) - T0))s] $*"; }
# Seconds kept at the end for packing the results (tar + xz of a few MiB).
RESERVE=${GPU_SH_RESERVE:-25}

say "budget ${BUDGET}s; output in $OUT"

# 1. The Vulkan loader: the GPU host may lack libvulkan; .gl/ holds
#    Debian's packages, unpacked into / only when the loader is missing.
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    if ls .gl/*.deb >/dev/null 2>&1; then
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
        say "unpacked the Vulkan loader from .gl/"
    else
        say "no libvulkan here and no .gl/ packages: wgpu will find no adapter"
    fi
fi
# The NVIDIA driver's Vulkan manifest, where the host keeps it outside the loader's search path.
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
        export VK_DRIVER_FILES=$icd
        [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] &&
            export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
        say "VK_DRIVER_FILES=$icd"
    fi
done

# Vulkan's window-system layers complain without a runtime folder; give them one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR=/tmp/xdg-runtime
    mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi

# 2. The binary (one binary: the benchmark is `resgen bench`).
BIN=${RESGEN_BIN:-}
if [ -z "$BIN" ]; then
    BIN=/tmp/resgen-gpu
    if [ -f .gpu/resgen.xz ]; then
        xz -dc .gpu/resgen.xz >"$BIN" && chmod +x "$BIN"
    else
        say "no .gpu/resgen.xz: run bench/gpu-pack.sh first (or set RESGEN_BIN)"
        exit 2
    fi
fi
say "binary: $BIN ($("$BIN" --version))"

# 3. What this machine is.
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "nvidia-smi: not available"; } | sed 's/^/  /'
echo "  CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
"$BIN" devices | sed 's/^/  /'
if ! "$BIN" devices | grep -q '^wgpu     compiled in, usable'; then
    say "wgpu is not usable here; stopping"
    exit 3
fi
if "$BIN" devices | grep '^wgpu' | grep -qi 'llvmpipe\|lavapipe\|swiftshader' && [ -z "${GPU_SH_ALLOW_CPU_ADAPTER:-}" ]; then
    say "wgpu found only a CPU adapter (lavapipe); set GPU_SH_ALLOW_CPU_ADAPTER=1 to run on it anyway"
    exit 3
fi

# Runs "$@" under a time limit of min(cap, what is left minus the reserve); 124 when cut short.
timed() {
    local cap=$1
    shift
    local t=$(($(left) - RESERVE))
    [ "$t" -gt "$cap" ] && t=$cap
    if [ "$t" -lt 5 ]; then
        say "no time left for: $*"
        return 125
    fi
    timeout --signal=INT --kill-after=10 "$t" "$@"
}

# 4. The benchmark, with the large shape (4096/4096/16/784) and the card's measured f32 peak.
BENCH_ARGS=${GPU_SH_BENCH_ARGS:---large}
say "resgen bench --device wgpu $BENCH_ARGS"
s=$(date +%s)
# shellcheck disable=SC2086
timed "${GPU_SH_BENCH_CAP:-150}" "$BIN" bench --device wgpu $BENCH_ARGS --format csv | tee "$OUT/bench.csv"
say "bench: rc ${PIPESTATUS[0]}, $(($(date +%s) - s))s"

# 5. The README's first run on wgpu and on the CPU backend of the same binary, compared.
README_SET=${GPU_SH_README_SET:-}
for dev in wgpu flex; do
    s=$(date +%s)
    # shellcheck disable=SC2086
    timed 120 "$BIN" train --config experiments/mnist-3v5.toml --device "$dev" --quiet --out "/tmp/readme-$dev" $README_SET
    say "train on $dev: rc $?, $(($(date +%s) - s))s"
done
"$BIN" compare /tmp/readme-wgpu /tmp/readme-flex --tol 1e-3 | tee "$OUT/compare.txt"
say "compare: rc ${PIPESTATUS[0]}"

# 6. The CPU peer in the same run: the large shape's step on 2 cores of this machine with the
#    flex backend of the same binary (one timed step, ResNet only: about a minute), for the
#    ratio wgpu / 2-core CPU. GPU_SH_CPU_PEER=0 skips it.
if [ "${GPU_SH_CPU_PEER:-1}" = 1 ]; then
    s=$(date +%s)
    say "2-core CPU peer: flex at ${GPU_SH_CPU_SHAPE:-4096/4096/16/784}"
    RAYON_NUM_THREADS=2 timed 200 taskset -c 0,1 "$BIN" bench --device flex --arch resnet \
        --shape "${GPU_SH_CPU_SHAPE:-4096/4096/16/784}" --steps 1 --warmup 0 --format csv | tee "$OUT/bench-cpu2.csv"
    say "CPU peer: rc ${PIPESTATUS[0]}, $(($(date +%s) - s))s"
fi

# 7. Paper-profile experiments, cheapest first by their GD training (resgen list --work), each
#    under what time is left; cells finish atomically, so a cut-short experiment keeps its
#    finished cells (a partial table) and a second try resumes from the runs/ packed below.
RUNS=${GPU_SH_RUNS:-/tmp/runs-paper}
mkdir -p "$RUNS" results/paper
if [ -f .gpu/paper.tar.xz ]; then
    # An earlier invocation's $OUT/paper.tar.xz, copied into .gpu/: its cells and partial tables.
    tar -xJf .gpu/paper.tar.xz -C "$RUNS" --strip-components=1 runs &&
        tar -xJf .gpu/paper.tar.xz results/paper && say "resuming from .gpu/paper.tar.xz"
fi
"$BIN" list --profile paper --work | tee "$OUT/work.txt"
ORDER=${GPU_SH_EXPERIMENTS:-$(grep -v '^#' "$OUT/work.txt" | awk '{print $1}')}
pack() {
    # Cells without their saved weights (a paper cell's can exceed 100 MiB; the tables and a
    # resumed sweep need only cell.toml and result.json).
    tar -cJf "$OUT/paper.tar.xz.tmp" --exclude='weights_*' -C "$RUNS" . --transform 's,^\./,runs/,' \
        -C "$PWD" results/paper 2>/dev/null &&
        mv "$OUT/paper.tar.xz.tmp" "$OUT/paper.tar.xz"
}
echo "experiment,status,seconds" >"$OUT/timings.csv"
for name in $ORDER; do
    if [ -f "results/paper/$name.csv" ] && [ -z "${GPU_SH_REDO:-}" ]; then
        # Committed already (e.g. the experiments without GD training, run on a CPU): the
        # budget goes to what is missing. GPU_SH_REDO=1 recomputes them.
        echo "$name,already in results/paper,0" >>"$OUT/timings.csv"
        continue
    fi
    if [ "$(left)" -lt $((RESERVE + 30)) ]; then
        echo "$name,not started,0" >>"$OUT/timings.csv"
        continue
    fi
    s=$(date +%s)
    say "paper profile: $name ($(left)s left)"
    timed 100000 "$BIN" run "$name" --profile paper --device wgpu --quiet --runs "$RUNS" --jobs "${GPU_SH_JOBS:-2}"
    rc=$?
    case $rc in
        0) status=finished ;;
        124 | 130 | 137) status="cut short (partial)" ;;
        *) status="failed rc $rc" ;;
    esac
    if [ "$status" != finished ]; then
        # A table of the cells that did finish (the complete table stays absent).
        "$BIN" merge "$name" --profile paper --runs "$RUNS" >/dev/null 2>&1 || true
    fi
    echo "$name,$status,$(($(date +%s) - s))" >>"$OUT/timings.csv"
    say "$name: $status in $(($(date +%s) - s))s"
    pack
done
pack
say "done; $(left)s of the budget left"
ls -la "$OUT"
sleep 1 # let tee finish gpu.log
