//! The kernels of resgen that need no network: the infinite-width NTK and NNGP kernels of the
//! fully connected network and of the ResNet (one- and two-layer branches, any theta and residual
//! variance; [`analytic`]), the residual scaling `theta` as written in configs ([`theta`]),
//! and dense f64 linear algebra on Gram matrices ([`linalg`]: Cholesky with a reported ridge,
//! symmetric eigenvalues, a certified `lambda_max`, kernel regression). It depends on `faer`
//! and `rayon`, not on Burn, so it builds in seconds and the Python package carries no Burn;
//! `resgen-bounds` re-exports it beside the empirical, Burn-based kernels.

pub mod analytic;
pub mod linalg;
pub mod theta;

/// What can go wrong in the kernel arithmetic.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The kernel has NaN or infinite entries.
    #[error("the kernel has NaN or infinite entries")]
    NonFinite,
    /// Not positive semi-definite even after the largest ridge tried.
    #[error("the kernel is not positive semi-definite even with ridge {ridge:e}")]
    NotPsd {
        /// The largest ridge tried.
        ridge: f64,
    },
    /// The symmetric eigendecomposition did not converge.
    #[error("eigendecomposition failed: {0}")]
    Eigen(String),
    /// An option the analytic recursion does not cover, or an invalid theta.
    #[error("{0}")]
    Spec(String),
}

/// A dense symmetric `n x n` matrix, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Gram {
    /// Size.
    pub n: usize,
    /// `n * n` entries.
    pub data: Vec<f64>,
}

impl Gram {
    /// The zero matrix.
    pub fn zeros(n: usize) -> Gram {
        Gram { n, data: vec![0.0; n * n] }
    }

    /// Entry `(i, j)`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// The trace.
    pub fn trace(&self) -> f64 {
        (0..self.n).map(|i| self.at(i, i)).sum()
    }

    /// `self + other`.
    pub fn add(&self, other: &Gram) -> Gram {
        Gram { n: self.n, data: self.data.iter().zip(&other.data).map(|(a, b)| a + b).collect() }
    }

    /// `sum_l K_l` of equally sized matrices (`n x n` zeros for an empty list).
    pub fn sum(grams: &[Gram], n: usize) -> Gram {
        grams.iter().fold(Gram::zeros(n), |acc, k| acc.add(k))
    }

    /// `c * self`.
    pub fn scale(&self, c: f64) -> Gram {
        Gram { n: self.n, data: self.data.iter().map(|a| a * c).collect() }
    }

    /// `v^T self v`.
    pub fn quad(&self, v: &[f64]) -> f64 {
        linalg::dot(v, &linalg::matvec(self, v))
    }

    /// The largest entrywise difference relative to the largest entry of `self`.
    pub fn rel_diff(&self, other: &Gram) -> f64 {
        let scale = self.data.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let diff = self.data.iter().zip(&other.data).fold(0.0f64, |a, (p, q)| a.max((p - q).abs()));
        diff / scale.max(f64::MIN_POSITIVE)
    }
}
