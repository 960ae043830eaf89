//! The kernels of resgen that need no network: the infinite-width NTK and NNGP kernels of the
//! fully connected network and of the ResNet (one- and two-layer branches, any theta and residual
//! variance; [`analytic`]), the residual scaling `theta` as written in configs ([`theta`]),
//! and dense f64 linear algebra on Gram matrices ([`linalg`]: Cholesky with a reported ridge,
//! symmetric eigenvalues, a certified `lambda_max`), and what is computed from kernels alone:
//! `eps_NTRF(R)` with its duality certificate ([`ntrf`]), the Cao-Gu relabeling QP ([`qp`]) and
//! the generalization bounds' formulas ([`formulas`]). It depends on `faer`, `rayon` and
//! `serde`, not on Burn, so it builds in seconds and the Python package carries no Burn;
//! `resgen-bounds` re-exports it beside the empirical, Burn-based kernels.

pub mod analytic;
pub mod defaults;
pub mod formulas;
pub mod linalg;
pub mod ntrf;
pub mod qp;
pub mod theta;

/// Mean logistic loss `(1/n) sum_i log(1 + exp(-z_i))` of margins `z_i = y_i f(x_i)`, computed
/// stably in f64.
pub fn logistic_loss_mean(margins: &[f64]) -> f64 {
    let n = margins.len().max(1) as f64;
    margins.iter().map(|&z| (-z).max(0.0) + (-z.abs()).exp().ln_1p()).sum::<f64>() / n
}

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
