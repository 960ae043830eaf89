//! The empirical neural tangent kernel at given weights (W0 by default).
//!
//! `K_ij = <grad_W f(x_i), grad_W f(x_j)> = sum_l K_l(i, j)`, with the per-layer blocks
//! `K_l = (A_{l-1} A_{l-1}^T) o (D_l D_l^T)` from [`crate::features`]: a few matrix products per
//! layer, never `n` backward passes, and memory `O(n^2 L + n m L)`.
//!
//! Normalization: [`EmpiricalNtk::per_layer`] and [`EmpiricalNtk::total`] are the raw inner
//! products of gradients of `f = sqrt(m) W_{L+1} h_L`. Each layer's gradient has squared norm
//! of order `m` (FC) or `theta^2 m` (ResNet residual layers), so `K / m` is the quantity with an
//! infinite-width limit ([`crate::analytic`]); [`EmpiricalNtk::normalized`] returns it.

use resgen_models::{Model, Net, Precision, Tensor, to_host};

use crate::Gram;
use crate::features::grad_features;

/// Per-layer and total empirical NTK.
#[derive(Clone, Debug)]
pub struct EmpiricalNtk {
    /// `K_l`, `l = 1..L+1`.
    pub per_layer: Vec<Gram>,
    /// `sum_l K_l`.
    pub total: Gram,
    /// The width `m` (for [`EmpiricalNtk::normalized`]).
    pub width: usize,
}

impl EmpiricalNtk {
    /// `K / m`, the normalization with an infinite-width limit.
    pub fn normalized(&self) -> Gram {
        self.total.scale(1.0 / self.width as f64)
    }
}

/// A copy of `net` in f64 on the same device (kernels are always f64).
pub fn as_f64(net: &Net) -> Net {
    if net.precision == Precision::F64 {
        return net.clone();
    }
    Net::from_host(&net.cfg, net.d, &net.host_weights(), Precision::F64, &net.device)
}

/// Row blocks of the symmetric products: block `b` of `B` computes its rows against the
/// columns from its own first row on, so `(B + 1) / (2 B)` of the full products' FLOPs.
const GRAM_BLOCKS: usize = 8;

/// `K_l = (A A^T) o (D D^T)` from its upper triangle (see [`GRAM_BLOCKS`]), mirrored on the host
/// so the result is exactly symmetric.
fn layer_kernel(a: &Tensor<2>, d: &Tensor<2>, n: usize) -> Gram {
    let mut k = Gram::zeros(n);
    add_layer_kernel(&mut k, a, d, n);
    k
}

/// `k += (A A^T) o (D D^T)`, block by block (see [`layer_kernel`]).
fn add_layer_kernel(k: &mut Gram, a: &Tensor<2>, d: &Tensor<2>, n: usize) {
    let rows_per = n.div_ceil(GRAM_BLOCKS).max(1);
    for i0 in (0..n).step_by(rows_per) {
        let (rows, cols) = (rows_per.min(n - i0), n - i0);
        let upper = |t: &Tensor<2>| t.clone().narrow(0, i0, rows).matmul(t.clone().narrow(0, i0, cols).transpose());
        let block = to_host(upper(a) * upper(d));
        for r in 0..rows {
            let i = i0 + r;
            for c in r..cols {
                let (j, v) = (i0 + c, block[r * cols + c]);
                k.data[i * n + j] += v;
                if j != i {
                    k.data[j * n + i] += v;
                }
            }
        }
    }
}

/// The fast path: one batched forward and backward, then `(A A^T) o (D D^T)` per layer (upper
/// triangle only).
/// `x` is `n x d`, row-major, host f64. `net` must be f64 (see [`as_f64`]).
pub fn empirical_ntk(net: &Net, x: &[f64], n: usize) -> EmpiricalNtk {
    assert_eq!(net.precision, Precision::F64, "kernels are computed in f64; use ntk::as_f64");
    let feat = grad_features(net, net.upload(x, n, net.d));
    let per_layer: Vec<Gram> = feat.inputs.into_iter().zip(feat.deltas).map(|(a, d)| layer_kernel(&a, &d, n)).collect();
    let total = Gram::sum(&per_layer, n);
    EmpiricalNtk { per_layer, total, width: net.cfg.width }
}

/// The empirical NTK of any network: the factorized kernel of [`empirical_ntk`] on the fast
/// path, per-example gradients by autodiff ([`general_ntk`]) on the general path. `per_layer`
/// then holds one block per parameter tensor, in [`Model::names`]' order. `model` must be f64
/// ([`Model::as_f64`]).
pub fn model_ntk(model: &Model, x: &[f64], n: usize) -> EmpiricalNtk {
    match model.as_net() {
        Some(net) => empirical_ntk(net, x, n),
        None => general_ntk(model, x, n),
    }
}

/// The general path's kernel: the per-example gradients `G_p` (`n x size_p`) of every parameter
/// `p`, frozen ones too, by autodiff (one backward pass per example: Burn has no per-sample
/// gradients), then `K_p = G_p G_p^T`, mirrored from its upper triangle so it is exactly
/// symmetric. Memory `O(n P)` for `P` parameters. Works for the paper networks too (taken
/// through autodiff): the tests hold it to [`empirical_ntk`].
pub fn general_ntk(model: &Model, x: &[f64], n: usize) -> EmpiricalNtk {
    assert_eq!(model.precision(), Precision::F64, "kernels are computed in f64; use Model::as_f64");
    let grads = model.per_example_grads(model.upload(x, n, model.d()));
    let per_layer: Vec<Gram> = grads
        .into_iter()
        .map(|g| {
            let mut k = Gram { n, data: to_host(g.clone().matmul(g.transpose())) };
            for i in 0..n {
                for j in i + 1..n {
                    k.data[j * n + i] = k.data[i * n + j];
                }
            }
            k
        })
        .collect();
    let total = Gram::sum(&per_layer, n);
    EmpiricalNtk { per_layer, total, width: model.cfg().width }
}

/// The total kernel `sum_l K_l` alone, for large `n` where the per-layer blocks are not needed:
/// each layer's block is added as soon as it is computed and its features are dropped, so the
/// memory is `O(n^2 + n m L)` instead of `O(n^2 L)` (at n = 10,000 one block is 800 MB in f64).
/// The same sums in the same order as [`empirical_ntk`]'s total: bit-identical to it.
pub fn empirical_ntk_total(net: &Net, x: &[f64], n: usize) -> Gram {
    assert_eq!(net.precision, Precision::F64, "kernels are computed in f64; use ntk::as_f64");
    let feat = grad_features(net, net.upload(x, n, net.d));
    let mut total = Gram::zeros(n);
    for (a, d) in feat.inputs.into_iter().zip(feat.deltas) {
        add_layer_kernel(&mut total, &a, &d, n);
    }
    total
}

/// The oracle path: `n` backward passes, one per example, giving the explicit per-layer
/// Jacobians `J_l` (`n x #params_l`), then `K_l = J_l J_l^T`. For tests and small `n` only.
pub fn empirical_ntk_explicit(net: &Net, x: &[f64], n: usize) -> EmpiricalNtk {
    // The kernel covers all L + 1 layers, frozen in training or not, like the fast path.
    let mut net = net.clone();
    net.cfg.freeze_input = false;
    net.cfg.freeze_output = false;
    let layers = net.num_layers();
    let mut jac: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(n); layers];
    for i in 0..n {
        let (_, grads) = net.weighted_output_grads(net.upload(x, n, net.d), |f| {
            (0..f.len()).map(|j| if j == i { 1.0 } else { 0.0 }).collect()
        });
        for (l, g) in grads.into_iter().enumerate() {
            jac[l].push(to_host(g.expect("kernels need every layer's gradient; unfreeze it")));
        }
    }
    let per_layer: Vec<Gram> = jac
        .iter()
        .map(|rows| {
            let mut k = Gram::zeros(n);
            for i in 0..n {
                for j in 0..n {
                    k.data[i * n + j] = rows[i].iter().zip(&rows[j]).map(|(a, b)| a * b).sum();
                }
            }
            k
        })
        .collect();
    let total = Gram::sum(&per_layer, n);
    EmpiricalNtk { per_layer, total, width: net.cfg.width }
}
