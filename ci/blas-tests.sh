#!/usr/bin/env bash
# The `blas` feature's tests (flex's products on Intel MKL), as CI runs them: scripts/fetch-mkl.sh
# downloads PyPI's mkl-static wheel into a cache folder once and prints RESGEN_MKL_LIB; then the
# BLAS route's own tests (every layout against a triple loop, the route's threshold, a training
# run against the pure-Rust kernels), the backend-dependent model and training tests, the fused
# step against the tensor step and finite differences, and the batched-NTK oracles, in the
# release profile. RESGEN_GEMM=blas-all sends every product to MKL, however small, so the small
# networks' oracle tests (finite differences, explicit Jacobians) run on it too.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/fetch-mkl.sh)"
RESGEN_GEMM=blas-all cargo test --release --features blas -p resgen-tests -p resgen -- \
  models:: train:: fused:: mkl_route_trains_as_the_pure_rust_kernels_do \
  bounds::fast_ntk_matches_explicit_jacobians_to_1e10 \
  bounds::ntk_diagonal_for_the_step_size_matches_the_batched_kernel \
  --skip models::forward_scale_depth_free_with_theta_one_over_l
