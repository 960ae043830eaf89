//! Which GEMM the flex backend's large products run on: the pure-Rust `gemm` kernels, or Intel
//! MKL with the `blas` feature. It is part of a result's identity: cells computed with MKL record
//! the backend as `flex+mkl` and are never merged silently with pure-Rust ones.

use crate::BackendKind;

/// The environment variable that routes flex's products between MKL and the pure-Rust kernels.
pub const GEMM_ENV: &str = "RESGEN_GEMM";

/// Where flex's f32/f64 products go with the `blas` feature, as [`GEMM_ENV`] says (the vendored
/// `gemm` reads the same variable at its first product; without the feature every product runs
/// on the pure-Rust kernels whatever it says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmRoute {
    /// Unset or `blas`: products of at least 192^3 multiply-adds on MKL (the default).
    Blas,
    /// `blas-all`: every product on MKL, however small.
    BlasAll,
    /// `rust`: every product on the pure-Rust kernels.
    Rust,
}

/// A value of [`GEMM_ENV`] that names no [`GemmRoute`].
#[derive(Debug, thiserror::Error)]
#[error("RESGEN_GEMM={value}: expected blas (the default), blas-all or rust")]
pub struct GemmRouteError {
    /// The value as set (lossily decoded if it is not UTF-8).
    pub value: String,
}

/// [`GEMM_ENV`] read and checked: the command line calls this at startup, so that a value the
/// vendored `gemm` would panic on at its first product is a one-line error before any work.
pub fn gemm_route() -> Result<GemmRoute, GemmRouteError> {
    match std::env::var_os(GEMM_ENV) {
        None => Ok(GemmRoute::Blas),
        Some(v) => match v.to_str() {
            Some("blas") => Ok(GemmRoute::Blas),
            Some("blas-all") => Ok(GemmRoute::BlasAll),
            Some("rust") => Ok(GemmRoute::Rust),
            _ => Err(GemmRouteError { value: v.to_string_lossy().into_owned() }),
        },
    }
}

/// `mkl` when the `blas` feature routes flex's large f32/f64 products to MKL in this process
/// (not switched off with `RESGEN_GEMM=rust`), else `gemm`.
pub fn gemm_provider() -> &'static str {
    if blas_min_work().is_some() { "mkl" } else { "gemm" }
}

/// The smallest product (`m n k` multiply-adds) that goes to BLAS in this process, `None`
/// without the `blas` feature or with `RESGEN_GEMM=rust`.
pub fn blas_min_work() -> Option<usize> {
    #[cfg(feature = "blas")]
    {
        gemm::blas::min_work()
    }
    #[cfg(not(feature = "blas"))]
    {
        None
    }
}

/// The backend as provenance records it: `flex+mkl` for flex on MKL, else the backend's name;
/// with `+tensor-step` when a CPU backend trains with Burn's tensor step (`RESGEN_STEP=tensor`)
/// instead of the fused one, whose rounding differs, so the two are never merged silently either.
pub fn backend_identity(kind: BackendKind) -> String {
    let mut id = match (kind, gemm_provider()) {
        (BackendKind::Flex, "mkl") => format!("{}+mkl", kind.name()),
        _ => kind.name().to_string(),
    };
    if kind.is_cpu() && !crate::fused_step_enabled().unwrap_or(true) {
        id.push_str("+tensor-step");
    }
    id
}

/// The `gemm` crate behind flex, for the tests of the BLAS route (feature `blas`).
#[cfg(feature = "blas")]
#[doc(hidden)]
pub use gemm as gemm_crate;
