//! Kernels and bounds of the neural tangent random feature (NTRF) analysis, in f64.
//!
//! - [`features`]: per-example gradient features of a network, per layer, from one forward and
//!   one backward pass for the whole batch: `grad_{W_l} f(x_i) = delta_l(x_i) a_{l-1}(x_i)^T`.
//! - [`ntk`]: the empirical NTK `K_ij = <grad_W f(x_i), grad_W f(x_j)>`, per layer
//!   `K_l = (A_{l-1} A_{l-1}^T) o (D_l D_l^T)` (elementwise product), and an explicit
//!   per-example Jacobian path used as its oracle.
//! - [`analytic`]: the infinite-width NTK of both networks (arc-cosine recursions).
//! - [`linalg`]: Cholesky with a reported ridge, solves and symmetric eigenvalues (on `faer`),
//!   and a power iteration with a certified bound on `lambda_max` for the NTRF step.
//! - [`rademacher`]: Rademacher complexity of the linearized ball, closed-form bound and Monte Carlo.
//! - [`formulas`]: the generalization bounds of docs/theory.md, each with its constants as
//!   parameters; [`evaluate`] evaluates every eps_NTRF formula over the radius grid for one
//!   network, each minimized over R on its own.
//! - [`qp`]: the Cao-Gu NTK corollary's infimum over relabelings (a convex QP).
//! - [`predictor`]: the linearized network trained by GD in function space, and kernel
//!   regression, with the cross kernel `K(X_test, X)` from the same batched pass.
//!
//! - [`defaults`]: the radius grid, the solver's limits and the Monte Carlo and QP budgets.
//! - [`BoundsError`]: what can go wrong, typed.
//!
//! Everything here is f64, whatever precision the network trained in: near-singular Gram
//! matrices give NaN in f32. The crate depends on the data and the models only; the command
//! reports that write its results to files are `resgen-reports`.

pub mod analytic;
mod error;
pub mod evaluate;
pub mod features;
pub mod ntk;
pub mod predictor;
pub mod rademacher;

pub use error::BoundsError;
pub use resgen_kernels::{Gram, KernelError, defaults, formulas, linalg, ntrf, qp};
use resgen_models::{BackendKind, Precision};

/// The f64 CPU (or CUDA) device kernels are computed on.
///
/// wgpu has no f64, so with `--device wgpu` (training on the GPU) the kernels go to the CPU
/// backend compiled alongside it; CUDA computes them on the GPU in f64.
pub fn kernel_device(backend: BackendKind) -> Result<resgen_models::Device, BoundsError> {
    let kb = if backend == BackendKind::Wgpu {
        BackendKind::compiled().into_iter().find(|b| b.is_cpu()).ok_or(BoundsError::NoF64Backend)?
    } else {
        backend
    };
    kb.checked_device(Precision::F64).map_err(BoundsError::Device)
}
