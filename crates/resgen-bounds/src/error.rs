//! What can go wrong computing kernels and bounds; each message says which quantity and why.

use resgen_models::BackendError;

/// An error of the kernel and bound computations.
#[derive(Debug, thiserror::Error)]
pub enum BoundsError {
    /// The kernel arithmetic failed (non-finite, not PSD, no eigendecomposition).
    #[error(transparent)]
    Kernel(#[from] resgen_kernels::KernelError),
    /// A network option the computation does not cover (from the model's config).
    #[error(transparent)]
    Model(#[from] resgen_models::ModelError),
    /// wgpu trains, but no CPU backend is compiled in for the f64 kernels.
    #[error(
        "kernels and bounds are computed in f64, which wgpu lacks, and no CPU backend is compiled in (enable feature flex)"
    )]
    NoF64Backend,
    /// The f64 device is not available.
    #[error("{0} (kernels and bounds are computed in f64)")]
    Device(BackendError),
}
