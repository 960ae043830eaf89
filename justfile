# resgen recipes. Each calls cargo / the resgen CLI; nothing here holds logic the CLI lacks.
# Install just with `cargo install just` (or your package manager).

# Train the README's first run: the ResNet on bundled MNIST 3 vs 5, on the CPU.
train config="experiments/mnist-3v5.toml" *args="":
    cargo run --release -p resgen -- train --config {{config}} {{args}}

# Finished cells under runs/ are reused; delete runs/ to recompute from scratch.
# Every named experiment, quick profile (CPU, exploratory): results/quick/<name>.csv and .svg.
tables *args="":
    cargo run --release -p resgen -- run all --profile quick {{args}}

# The verdicts' run: every experiment on the confirm profile's fresh seeds, into results/,
# then results/summary.md.
confirm *args="":
    cargo run --release -p resgen -- run all --profile confirm {{args}}

# One named experiment, e.g. `just table min-width`.
table name *args="":
    cargo run --release -p resgen -- run {{name}} --profile quick {{args}}

# Training runs on the GPU backend (`just paper wgpu` for Vulkan/Metal); kernels and bounds on
# the CPU in f64 (or on CUDA with the cuda backend).
# Every named experiment, paper profile (sized for one GPU): results/paper/<name>.csv and .svg.
paper backend="cuda" *args="":
    cargo run --release -p resgen --features {{backend}} -- run all --profile paper --device {{backend}} {{args}}

# Redraw every plot from the tables alone (quick profile; `--profile paper` for the others).
plots *args="":
    cargo run --release -p resgen -- plot all {{args}}

# The test suite (the README's test command).
test:
    cargo test --release --workspace

# The GD-step benchmark on the default CPU backend (pass e.g. `--device ndarray`).
bench *args="":
    cargo run --release -p resgen -- bench {{args}}

# Downloads PyPI's mkl-static wheel into a cache folder once and prints
# `export RESGEN_MKL_LIB=...`, so `eval "$(just fetch-mkl)"` sets it.
# Fetch Intel MKL for the `blas` feature (flex's large f32/f64 products on MKL).
fetch-mkl:
    @scripts/fetch-mkl.sh

# The `blas` feature's tests as CI runs them (fetches MKL first; every product on MKL).
test-mkl:
    ci/blas-tests.sh

# Run it after `eval "$(just fetch-mkl)"`; `--gemm` times the GEMM layouts alone.
# The GD-step benchmark with the `blas` feature (flex's large products on MKL).
bench-mkl *args="":
    cargo run --release -p resgen --features blas -- bench {{args}}

# PyTorch is optional and outside CI: python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy
# (or point PYTHON at a Python that has it). Arguments go to bench/peer_torch.py (--ntk, --gemm, ...).
# resgen's benchmark and its PyTorch peer back to back: one table with the ratios and the CPU model.
bench-peer *args="":
    cargo build --release -p resgen
    {{env_var_or_default("PYTHON", ".venv-peer/bin/python")}} bench/peer_torch.py --resgen target/release/resgen {{args}}

# The whole-experiment peer: a slice of width-depth's cells (GD to the target loss, then the
# kernel change) by `resgen run` and by PyTorch on the same points, wall times and both sides'
# steps and kernel changes. Arguments go to bench/peer_experiment.py (--depths, --widths, ...).
bench-peer-experiment *args="":
    cargo build --release -p resgen
    {{env_var_or_default("PYTHON", ".venv-peer/bin/python")}} bench/peer_experiment.py --resgen target/release/resgen {{args}}

# The pure-Rust column is the same binary with RESGEN_GEMM=rust.
# resgen on MKL, its pure-Rust kernels and PyTorch, back to back in one table.
bench-peer-mkl *args="":
    #!/usr/bin/env bash
    set -euo pipefail
    eval "$(scripts/fetch-mkl.sh)"
    cargo build --release -p resgen --features blas --target-dir target/blas
    {{env_var_or_default("PYTHON", ".venv-peer/bin/python")}} bench/peer_torch.py --resgen target/blas/release/resgen --also-env RESGEN_GEMM=rust {{args}}

# The benchmark on a GPU with CUDA, including the large shape.
bench-cuda:
    cargo run --release -p resgen --features cuda -- bench --device cuda --large

# bench/gpu-pack.sh writes .gpu/resgen.xz and the Vulkan loader in .gl/; there,
# `bash bench/gpu.sh 480` runs the benchmark, the wgpu-vs-CPU check and as many paper-profile
# experiments as fit (docs/cluster-and-gpu.md).
# Build and pack what an offline GPU host runs.
gpu-pack:
    bench/gpu-pack.sh

# Lints as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# DOCS_RS stops cubecl's build script from downloading LLVM. About 5 minutes on 2 cores; run it
# after touching the cuda parts of crates/resgen-models/src/backend.rs or changing the Burn
# version. When the check passes it records what it covered in ci/cuda-checked (commit that
# file): the test suite fails when backend.rs or the locked Burn version changed since the last
# check.
# Type-check and lint the cuda code path without CUDA or network access.
check-cuda:
    DOCS_RS=1 cargo clippy -p resgen-models --features cuda -- -D warnings
    cargo test --release -p resgen-tests --test suite -- cuda_check::record_cuda_check --ignored --exact
