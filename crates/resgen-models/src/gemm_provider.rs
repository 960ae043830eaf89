//! Which GEMM the flex backend's large products run on: the pure-Rust `gemm` kernels, or Intel
//! MKL with the `blas` feature. It is part of a result's identity: cells computed with MKL record
//! the backend as `flex+mkl` and are never merged silently with pure-Rust ones.

use crate::BackendKind;

/// `mkl` when the `blas` feature routes flex's large f32/f64 products to MKL in this process
/// (not switched off with `RESGEN_GEMM=rust`), else `gemm`.
pub fn gemm_provider() -> &'static str {
    #[cfg(feature = "blas")]
    if gemm::blas_active() {
        return "mkl";
    }
    "gemm"
}

/// The backend as provenance records it: `flex+mkl` for flex on MKL, else the backend's name.
pub fn backend_identity(kind: BackendKind) -> String {
    match (kind, gemm_provider()) {
        (BackendKind::Flex, "mkl") => format!("{}+mkl", kind.name()),
        _ => kind.name().to_string(),
    }
}

#[cfg(all(test, feature = "blas"))]
mod tests {
    /// `dst := alpha dst + beta lhs rhs` by a triple loop in f64, the oracle.
    #[allow(clippy::too_many_arguments)]
    fn naive(m: usize, n: usize, k: usize, dst0: &[f64], lhs: &[f64], rhs: &[f64], alpha: f64, beta: f64) -> Vec<f64> {
        (0..m * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                alpha * dst0[ij] + beta * (0..k).map(|p| lhs[i * k + p] * rhs[p * n + j]).sum::<f64>()
            })
            .collect()
    }

    #[test]
    fn blas_route_matches_the_triple_loop_in_every_layout() {
        assert_eq!(super::gemm_provider(), "mkl");
        let (m, n, k) = (37, 41, 53); // m n k = 80,401 >= 32^3: the BLAS route
        let lhs: Vec<f64> = (0..m * k).map(|i| ((i * 7 % 13) as f64 - 6.0) / 7.0).collect();
        let rhs: Vec<f64> = (0..k * n).map(|i| ((i * 5 % 11) as f64 - 5.0) / 5.0).collect();
        let dst0: Vec<f64> = (0..m * n).map(|i| (i % 3) as f64).collect();
        let (alpha, beta) = (0.5, -2.0);
        let want = naive(m, n, k, &dst0, &lhs, &rhs, alpha, beta);
        // Every combination of row- or column-major storage for the three matrices (a
        // column-major copy is what a transposed view gives gemm).
        for layout in 0..8u32 {
            let (d_col, l_col, r_col) = (layout & 1 == 1, layout & 2 == 2, layout & 4 == 4);
            let store = |v: &[f64], rows: usize, cols: usize, col: bool| -> (Vec<f64>, isize, isize) {
                if col {
                    let t = (0..rows * cols).map(|x| v[(x % rows) * cols + x / rows]).collect();
                    (t, 1, rows as isize) // (data, row stride, column stride)
                } else {
                    (v.to_vec(), cols as isize, 1)
                }
            };
            let (l, l_rs, l_cs) = store(&lhs, m, k, l_col);
            let (r, r_rs, r_cs) = store(&rhs, k, n, r_col);
            let (mut d, d_rs, d_cs) = store(&dst0, m, n, d_col);
            let (mut d32, lf, rf): (Vec<f32>, Vec<f32>, Vec<f32>) = (
                d.iter().map(|x| *x as f32).collect(),
                l.iter().map(|x| *x as f32).collect(),
                r.iter().map(|x| *x as f32).collect(),
            );
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    d.as_mut_ptr(),
                    d_cs,
                    d_rs,
                    true,
                    l.as_ptr(),
                    l_cs,
                    l_rs,
                    r.as_ptr(),
                    r_cs,
                    r_rs,
                    alpha,
                    beta,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
                gemm::gemm(
                    m,
                    n,
                    k,
                    d32.as_mut_ptr(),
                    d_cs,
                    d_rs,
                    true,
                    lf.as_ptr(),
                    l_cs,
                    l_rs,
                    rf.as_ptr(),
                    r_cs,
                    r_rs,
                    alpha as f32,
                    beta as f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            for i in 0..m {
                for j in 0..n {
                    let at = (i as isize * d_rs + j as isize * d_cs) as usize;
                    let w = want[i * n + j];
                    assert!((d[at] - w).abs() <= 1e-12 * (1.0 + w.abs()), "f64 layout {layout} ({i}, {j})");
                    assert!((d32[at] as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()), "f32 layout {layout} ({i}, {j})");
                }
            }
        }
    }
}
