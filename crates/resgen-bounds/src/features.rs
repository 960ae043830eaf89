//! Per-example gradient features, per layer, in one batched forward and backward pass.
//!
//! For `W_l` with input `a_{l-1}` and pre-activation `z_l = W_l a_{l-1}`,
//! `grad_{W_l} f(x) = delta_l(x) a_{l-1}(x)^T` with `delta_l = df/dz_l`. Backpropagating the
//! sum of the outputs over a batch gives every example's own `delta_l` in its row, because the
//! examples do not interact. The backward pass is written out ([`Net::backprop`] with every
//! weight `c_i = 1`, not Burn's autodiff) so that the `delta_l` rows themselves are available.

use resgen_models::{Model, Net, Tensor, to_host};

/// The batch's gradient features: per layer `l = 1..L+1`, the inputs `A_{l-1}` (`n x fan_in`)
/// and backpropagated vectors `D_l` (`n x fan_out`), still on the device.
pub struct GradFeatures {
    /// `inputs[l - 1] = A_{l-1}`.
    pub inputs: Vec<Tensor<2>>,
    /// `deltas[l - 1] = D_l`.
    pub deltas: Vec<Tensor<2>>,
    /// `f(x_i)`.
    pub output: Vec<f64>,
}

/// The features of `net` on the batch `x` (`n x d`), in the network's own precision and device.
pub fn grad_features(net: &Net, x: Tensor<2>) -> GradFeatures {
    let bp = net.backprop(x, |f| vec![1.0; f.len()]);
    GradFeatures { inputs: bp.inputs, deltas: bp.deltas, output: bp.output }
}

/// Squared Frobenius norms `||grad_{W_l} f(x_i)||_F^2 = ||delta_l(x_i)||^2 ||a_{l-1}(x_i)||^2`,
/// as `[layer][example]`.
pub fn layer_grad_sq_norms(feat: &GradFeatures) -> Vec<Vec<f64>> {
    feat.inputs
        .iter()
        .zip(&feat.deltas)
        .map(|(a, d)| {
            let na = to_host(a.clone().square().sum_dim(1));
            let nd = to_host(d.clone().square().sum_dim(1));
            na.iter().zip(&nd).map(|(p, q)| p * q).collect()
        })
        .collect()
}

/// The linearized network `f_lin(x_i) = f_W0(x_i) + <grad_W f_W0(x_i), W - W0>` on the batch
/// whose features at `W0` are `feat`, for weights `w` (host, row-major per layer).
///
/// Per layer `<delta_l a_{l-1}^T, dW_l> = delta_l^T dW_l a_{l-1}`, so in batch form it is the
/// row sum of `(A_{l-1} dW_l^T) o D_l`.
pub fn linearized_outputs(net0: &Net, feat: &GradFeatures, w: &[Vec<f64>]) -> Vec<f64> {
    let mut out = feat.output.clone();
    for (l, ((a, dlt), w0)) in feat.inputs.iter().zip(&feat.deltas).zip(&net0.weights).enumerate() {
        let [r, c] = w0.shape().dims::<2>();
        let dw = net0.upload(&w[l], r, c) - w0.val();
        let term = to_host((a.clone().matmul(dw.transpose()) * dlt.clone()).sum_dim(1));
        for (o, t) in out.iter_mut().zip(term) {
            *o += t;
        }
    }
    out
}

/// [`linearization_error`] for any network: the fast path's for the paper networks, and for a
/// general-path network `f_lin(x_i) = f_W0(x_i) + sum_p <G_p(x_i), W_p - W0_p>` with the
/// per-example gradients `G_p` at `W0` by autodiff ([`Model::per_example_grads`]). `model0`
/// must be f64.
pub fn model_linearization_error(model0: &Model, w: &[Vec<f64>], x: &[f64], n: usize) -> (f64, f64) {
    if let Some(net0) = model0.as_net() {
        return linearization_error(net0, w, x, n);
    }
    let d = model0.d();
    let xt = model0.upload(x, n, d);
    let mut lin = model0.predict(xt.clone());
    let w0 = model0.host_weights();
    for ((g, now), start) in model0.per_example_grads(xt.clone()).into_iter().zip(w).zip(&w0) {
        let dw: Vec<f64> = now.iter().zip(start).map(|(a, b)| a - b).collect();
        let moved = to_host(g.matmul(model0.upload(&dw, dw.len(), 1)));
        for (l, m) in lin.iter_mut().zip(moved) {
            *l += m;
        }
    }
    let mut trained = model0.clone();
    trained.set_host(w);
    let f = trained.predict(xt);
    let errs: Vec<f64> = f.iter().zip(&lin).map(|(a, b)| (a - b).abs()).collect();
    (errs.iter().fold(0.0, |a, b| a.max(*b)), errs.iter().sum::<f64>() / n.max(1) as f64)
}

/// Linearization error of trained weights `w` against `W0`: `(max_i, mean_i)` of
/// `|f_W(x_i) - f_lin(x_i)|`.
pub fn linearization_error(net0: &Net, w: &[Vec<f64>], x: &[f64], n: usize) -> (f64, f64) {
    let feat = grad_features(net0, net0.upload(x, n, net0.d));
    let lin = linearized_outputs(net0, &feat, w);
    let trained = Net::from_host(&net0.cfg, net0.d, w, net0.precision, &net0.device);
    let f = trained.predict(trained.upload(x, n, net0.d));
    let errs: Vec<f64> = f.iter().zip(&lin).map(|(a, b)| (a - b).abs()).collect();
    (errs.iter().fold(0.0, |a, b| a.max(*b)), errs.iter().sum::<f64>() / n.max(1) as f64)
}
