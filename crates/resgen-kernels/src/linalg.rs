//! Dense f64 linear algebra for Gram matrices on `faer`: Cholesky with a reported ridge, solves,
//! and the symmetric eigendecomposition's extreme eigenvalues; plus the power iteration with a
//! certified upper bound on `lambda_max` that the NTRF solver's step size needs (one `O(n^2)`
//! mat-vec per iteration, and a bound that holds even if it stops early).

use faer::{Mat, Side};

use crate::{Gram, KernelError};

/// A Cholesky factorization `K + ridge I = C C^T` (`C` lower triangular), by `faer`.
#[derive(Clone, Debug)]
pub struct Cholesky {
    /// Size.
    pub n: usize,
    llt: faer::linalg::solvers::Llt<f64>,
    /// The ridge that was added to the diagonal (0 if none was needed).
    pub ridge: f64,
}

/// Factorizes `k`. If it is not numerically positive definite, a ridge `r I` is added,
/// starting at `1e-12 tr(K) / n` and growing tenfold until the factorization succeeds; the
/// ridge used is reported in [`Cholesky::ridge`], never hidden.
pub fn cholesky_with_ridge(k: &Gram) -> Result<Cholesky, KernelError> {
    let n = k.n;
    if k.data.iter().any(|v| !v.is_finite()) {
        return Err(KernelError::NonFinite);
    }
    let base = (k.trace() / n.max(1) as f64).abs().max(f64::MIN_POSITIVE);
    let mut ridge = 0.0;
    for _ in 0..20 {
        let m = Mat::<f64>::from_fn(n, n, |i, j| k.data[i * n + j] + if i == j { ridge } else { 0.0 });
        if let Ok(llt) = m.llt(Side::Lower) {
            return Ok(Cholesky { n, llt, ridge });
        }
        ridge = if ridge == 0.0 { 1e-12 * base } else { ridge * 10.0 };
    }
    Err(KernelError::NotPsd { ridge })
}

impl Cholesky {
    /// Solves `(K + ridge I) v = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        use faer::linalg::solvers::Solve;
        let rhs = Mat::<f64>::from_fn(self.n, 1, |i, _| b[i]);
        let v = self.llt.solve(&rhs);
        (0..self.n).map(|i| v[(i, 0)]).collect()
    }

    /// `b^T (K + ridge I)^{-1} b`.
    pub fn inv_quad(&self, b: &[f64]) -> f64 {
        // With C z = b, b^T (C C^T)^{-1} b = ||z||^2: one triangular solve.
        let mut z = Mat::<f64>::from_fn(self.n, 1, |i, _| b[i]);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(self.llt.L(), z.as_mut(), faer::Par::Seq);
        (0..self.n).map(|i| z[(i, 0)] * z[(i, 0)]).sum()
    }

    /// The NTK complexity `sqrt(y^T (K + ridge I)^{-1} y / n)`.
    pub fn complexity(&self, y: &[f64]) -> f64 {
        (self.inv_quad(y) / self.n as f64).sqrt()
    }
}

/// The eigenvalues of a symmetric `k`, ascending, by `faer`'s symmetric eigendecomposition
/// (from its lower triangle).
pub fn eigenvalues(k: &Gram) -> Result<Vec<f64>, KernelError> {
    let n = k.n;
    let m = Mat::<f64>::from_fn(n, n, |i, j| k.data[i * n + j]);
    let mut ev = m.self_adjoint_eigenvalues(Side::Lower).map_err(|e| KernelError::Eigen(format!("{e:?}")))?;
    ev.sort_by(f64::total_cmp);
    Ok(ev)
}

/// `K v`.
pub fn matvec(k: &Gram, v: &[f64]) -> Vec<f64> {
    k.data.chunks(k.n).map(|row| dot(row, v)).collect()
}

/// The upper triangle of a symmetric matrix, row by row (`n (n + 1) / 2` entries). Products
/// with it read each stored entry once and use it twice (`K_ij` for row `i` and row `j`), so
/// a mat-vec moves half the memory of a full one: the iterative NTRF solver is bound by
/// reading its kernels, so this halves its time.
#[derive(Clone, Debug)]
pub struct PackedSym {
    n: usize,
    data: Vec<f64>,
}

impl PackedSym {
    /// Packs the upper triangle of `k` (the lower one is assumed equal).
    pub fn new(k: &Gram) -> PackedSym {
        let n = k.n;
        let mut data = Vec::with_capacity(n * (n + 1) / 2);
        for i in 0..n {
            data.extend_from_slice(&k.data[i * n + i..(i + 1) * n]);
        }
        PackedSym { n, data }
    }

    /// `K v`. On x86-64 CPUs with AVX2 and FMA the same loops are compiled for them and chosen
    /// at run time (the default target has only SSE2, and this loop is eps_NTRF's whole cost;
    /// measured 1.27x faster, and an AVX-512 build of it no faster than AVX2);
    /// the arithmetic is the same operations in the same order, so the results are identical.
    pub fn matvec(&self, v: &[f64]) -> Vec<f64> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for (checked above).
            return unsafe { self.matvec_avx2(v) };
        }
        self.matvec_portable(v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn matvec_avx2(&self, v: &[f64]) -> Vec<f64> {
        self.matvec_portable(v)
    }

    #[inline(always)]
    fn matvec_portable(&self, v: &[f64]) -> Vec<f64> {
        let n = self.n;
        assert_eq!(v.len(), n);
        let mut y = vec![0.0; n];
        let mut off = 0;
        for i in 0..n {
            // Row i from the diagonal on: K_ii, K_i,i+1, ..., K_i,n-1.
            let row = &self.data[off..off + n - i];
            off += n - i;
            let vi = v[i];
            y[i] += dot(row, &v[i..]);
            for (yj, kij) in y[i + 1..].iter_mut().zip(&row[1..]) {
                *yj += kij * vi;
            }
        }
        y
    }

    /// `(K a, K b)` in one read of `K` (AVX2 and FMA chosen at run time, as for
    /// [`PackedSym::matvec`]).
    pub fn matvec2(&self, a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for (checked above).
            return unsafe { self.matvec2_avx2(a, b) };
        }
        self.matvec2_portable(a, b)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn matvec2_avx2(&self, a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.matvec2_portable(a, b)
    }

    #[inline(always)]
    fn matvec2_portable(&self, a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = self.n;
        assert!(a.len() == n && b.len() == n);
        let (mut ya, mut yb) = (vec![0.0; n], vec![0.0; n]);
        let mut off = 0;
        for i in 0..n {
            let row = &self.data[off..off + n - i];
            off += n - i;
            let (ai, bi) = (a[i], b[i]);
            ya[i] += dot(row, &a[i..]);
            yb[i] += dot(row, &b[i..]);
            for ((ya, yb), kij) in ya[i + 1..].iter_mut().zip(yb[i + 1..].iter_mut()).zip(&row[1..]) {
                *ya += kij * ai;
                *yb += kij * bi;
            }
        }
        (ya, yb)
    }
}

/// `<a, b>` with eight independent partial sums, so the compiler can vectorize it and the
/// additions do not wait on each other (a single running sum is latency-bound).
#[inline(always)]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0.0f64; 8];
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}

fn normalize(v: &mut [f64]) -> f64 {
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    v.iter_mut().for_each(|a| *a /= norm);
    norm
}

fn start_vector(n: usize) -> Vec<f64> {
    // A fixed, generic start (not orthogonal to any eigenvector of practical kernels).
    let mut v: Vec<f64> = (0..n).map(|i| 1.0 + 0.37 * ((i as f64 * 1.618).sin())).collect();
    normalize(&mut v);
    v
}

/// Most iterations of the power and inverse iterations.
pub const EIGEN_MAX_ITER: usize = 5000;

/// An eigenvalue estimate and whether its iteration met its stopping rule.
#[derive(Clone, Copy, Debug)]
pub struct Eigen {
    /// The Rayleigh quotient at the last iterate.
    pub value: f64,
    /// Whether the relative change fell below `1e-12` within [`EIGEN_MAX_ITER`] iterations
    /// (if not, `value` is the last iterate's, a lower bound for `lambda_max`).
    pub converged: bool,
    /// For `lambda_max`: a certified upper bound (see [`lambda_max_eig`]).
    pub upper: f64,
}

/// Largest eigenvalue of a symmetric PSD `K` by power iteration (Rayleigh quotient, relative
/// change below `1e-12` or [`EIGEN_MAX_ITER`] iterations), with a certified upper bound.
///
/// The bound needs no convergence: with the last unit iterate `v`, `rho = v^T K v` and the
/// residual `r = ||K v - rho v||`, some eigenvalue `mu` lies within `r` of `rho`; the squares
/// of all eigenvalues sum to `||K||_F^2`, so every other eigenvalue is at most
/// `sqrt(||K||_F^2 - (rho - r)^2)`. Hence `lambda_max <= max(rho + r, sqrt(||K||_F^2 -
/// (rho - r)^2))`, which equals `rho + r` when the top eigenvalue dominates (as for NTK Grams)
/// and never falls below `lambda_max` even if the iteration stalled. It also never exceeds
/// `||K||_F`.
pub fn lambda_max_eig(k: &Gram) -> Eigen {
    let mut v = start_vector(k.n);
    let mut last = 0.0;
    let mut converged = false;
    for _ in 0..EIGEN_MAX_ITER {
        let mut w = matvec(k, &v);
        let rq: f64 = w.iter().zip(&v).map(|(a, b)| a * b).sum();
        normalize(&mut w);
        v = w;
        if (rq - last).abs() <= 1e-12 * rq.abs() {
            last = rq;
            converged = true;
            break;
        }
        last = rq;
    }
    let kv = matvec(k, &v);
    let rho: f64 = kv.iter().zip(&v).map(|(a, b)| a * b).sum();
    let r = kv.iter().zip(&v).map(|(a, b)| (a - rho * b).powi(2)).sum::<f64>().sqrt();
    let frob2: f64 = k.data.iter().map(|a| a * a).sum();
    let low = (rho - r).max(0.0);
    let upper = (rho + r).max((frob2 - low * low).max(0.0).sqrt()).min(frob2.sqrt());
    Eigen { value: last.max(rho), converged, upper }
}

/// Largest eigenvalue by power iteration: [`lambda_max_eig`]'s estimate, a lower bound on
/// `lambda_max` that converges to it. Where a safe step size depends on it, use
/// [`Eigen::upper`].
pub fn lambda_max(k: &Gram) -> f64 {
    lambda_max_eig(k).value
}

/// Smallest eigenvalue, from the symmetric eigendecomposition ([`eigenvalues`]; NaN if it
/// fails).
pub fn lambda_min(k: &Gram) -> f64 {
    eigenvalues(k).map_or(f64::NAN, |e| e.first().copied().unwrap_or(f64::NAN))
}

/// Summary statistics of a kernel `K` on labels `y`.
#[derive(Clone, Debug)]
pub struct KernelStats {
    /// `tr(K)`.
    pub trace: f64,
    /// `lambda_min(K)`, from the symmetric eigendecomposition ([`eigenvalues`]). For a
    /// numerically singular kernel it is at rounding level (about `n eps lambda_max`, either
    /// sign).
    pub lambda_min: f64,
    /// `lambda_max(K)`, likewise.
    pub lambda_max: f64,
    /// An upper bound on `lambda_max(K)`: the computed value plus the eigensolver's backward
    /// error bound `n eps ||K||_F`.
    pub lambda_max_upper: f64,
    /// Whether the eigendecomposition succeeded (the values are NaN if not).
    pub eig_converged: bool,
    /// `lambda_max / lambda_min`.
    pub condition: f64,
    /// `sqrt(y^T (K + ridge I)^{-1} y / n)`.
    pub complexity: f64,
    /// The ridge added for the solve (0 if none was needed).
    pub ridge: f64,
}

/// `sqrt(y^T (K + ridge I)^{-1} y / n)` alone (the ridge as in [`cholesky_with_ridge`]), without
/// the eigenvalues [`kernel_stats`] also computes.
pub fn ntk_complexity(k: &Gram, y: &[f64]) -> Result<f64, KernelError> {
    Ok(cholesky_with_ridge(k)?.complexity(y))
}

/// Trace, extreme eigenvalues, condition number and `sqrt(y^T K^{-1} y / n)`.
pub fn kernel_stats(k: &Gram, y: &[f64]) -> Result<KernelStats, KernelError> {
    let chol = cholesky_with_ridge(k)?;
    let ev = eigenvalues(k);
    let converged = ev.is_ok();
    let ev = ev.unwrap_or_default();
    let (lmin, lmax) = (ev.first().copied().unwrap_or(f64::NAN), ev.last().copied().unwrap_or(f64::NAN));
    let frob = k.data.iter().map(|a| a * a).sum::<f64>().sqrt();
    Ok(KernelStats {
        trace: k.trace(),
        lambda_min: lmin,
        lambda_max: lmax,
        lambda_max_upper: lmax + k.n as f64 * f64::EPSILON * frob,
        eig_converged: converged,
        condition: lmax / lmin,
        complexity: chol.complexity(y),
        ridge: chol.ridge,
    })
}
