//! What can go wrong computing kernels and bounds; each message says which quantity and why.

use resgen_models::BackendError;

/// An error of the kernel and bound computations.
#[derive(Debug, thiserror::Error)]
pub enum BoundsError {
    /// The kernel arithmetic failed (non-finite, not PSD, no eigendecomposition).
    #[error(transparent)]
    Kernel(#[from] resgen_kernels::KernelError),
    /// Labels and kernel of different sizes.
    #[error("{labels} labels for a {n} x {n} kernel")]
    LabelCount {
        /// How many labels.
        labels: usize,
        /// The kernel's size.
        n: usize,
    },
    /// A label that is not +-1.
    #[error("labels must be -1 or +1, found {0}")]
    NotALabel(f64),
    /// `delta` outside (0, 1).
    #[error("delta = {0}: must lie in (0, 1)")]
    Delta(f64),
    /// A bound constant that is negative or not finite.
    #[error("{name} = {value}: must be a finite number >= 0")]
    Constant {
        /// `c_eps`, `c_radius`, `c_conf` or `c_ntk`.
        name: &'static str,
        /// Its value.
        value: f64,
    },
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
