//! The networks, as Burn 0.22 modules, and the one place that picks a device.
//!
//! - [`Arch::Resnet`] (Frei, Cao and Gu 2019; reconstructed in Cao-Gu conventions):
//!   `h_1 = relu(W_1 x)`, `h_l = h_{l-1} + theta relu(W_l h_{l-1})` for `l = 2..L`,
//!   `f(x) = sqrt(m) W_{L+1} h_L`.
//! - [`Arch::Fc`] (Cao and Gu 2019): `h_0 = x`, `h_l = relu(W_l h_{l-1})` for `l = 1..L`,
//!   `f(x) = sqrt(m) W_{L+1} h_L`.
//!
//! Both have `L + 1` weight matrices, no biases, entries `N(0, 2/m)` for `W_1..W_L` and
//! `N(0, 1/m)` for `W_{L+1}` (see `docs/theory.md`). Weights are drawn on the host from a
//! seeded ChaCha stream and uploaded, so a seed gives the same `W0` on every backend.
//!
//! Both are [`Net`], a Burn module with a written-out backward pass and factorized kernel (the
//! fast path). Any other network is a Burn module implementing [`Network`] and runs on the
//! general path, Burn's autodiff: [`LearnedScaleNet`] (`resnet-learned-scale`, the ResNet with a
//! trained residual scale per block) is the one that ships. [`Model`] holds either and picks the
//! path from `model.arch`.
//!
//! [`backend`] is the only module that constructs a concrete [`Device`].

pub mod backend;
mod config;
mod error;
mod export;
mod fused;
mod gemm_provider;
mod learned_scale;
mod model;
mod net;
mod network;

pub use backend::{
    BackendError, BackendKind, HIDE_ADAPTERS_ENV, Precision, ProbeError, gpu_f32_peak, gpu_identity,
    is_gpu_runtime_location, panic_message, quietly,
};
pub use burn::tensor::activation::relu;
pub use burn::tensor::{Device, Tensor};
pub use config::{Arch, BRANCH_OUT_VARIANCE, Branch, ModelConfig, ResidualVariance, Theta};
pub use error::ModelError;
pub use export::{NamedTensor, load_burnpack, load_safetensors, save_burnpack, save_safetensors};
pub use fused::{
    CellSlot, Float, FusedNet, FusedState, PARALLEL_ENV, PARALLEL_MIN_WORK, STEP_ENV, THIN_DIM, THIN_WORK_FACTOR,
    fused_step_enabled, parallel_min_work, parallel_min_work_setting, runs_on_pool, spare_cores,
};
#[cfg(feature = "blas")]
pub use gemm_provider::gemm_crate;
pub use gemm_provider::{
    GEMM_ENV, GemmRoute, GemmRouteError, backend_identity, blas_min_work, gemm_provider, gemm_route,
};
pub use learned_scale::LearnedScaleNet;
pub use model::{GeneralNet, Grads, Model, logistic_coefficients};
pub use net::{Backprop, Forward, Net, logistic_loss_mean};
pub use network::{DynNetwork, HostParam, Network};

/// Reads a tensor back to the host as f64, whatever its dtype.
pub fn to_host(t: Tensor<2>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_into_vec::<f64>().expect("a float tensor converts to f64")
}

/// Reads a scalar (one-element) tensor back to the host.
pub fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().convert::<f64>().try_into_vec::<f64>().expect("float tensor")[0]
}
