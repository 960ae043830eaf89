//! Which GEMM the flex backend's large products run on: the pure-Rust `gemm` kernels, or Intel
//! MKL with the `blas` feature. It is part of a result's identity: cells computed with MKL record
//! the backend as `flex+mkl` and are never merged silently with pure-Rust ones.

use crate::BackendKind;

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

/// The backend as provenance records it: `flex+mkl` for flex on MKL, else the backend's name.
pub fn backend_identity(kind: BackendKind) -> String {
    match (kind, gemm_provider()) {
        (BackendKind::Flex, "mkl") => format!("{}+mkl", kind.name()),
        _ => kind.name().to_string(),
    }
}

/// The `gemm` crate behind flex, for the tests of the BLAS route (feature `blas`).
#[cfg(feature = "blas")]
#[doc(hidden)]
pub use gemm as gemm_crate;
