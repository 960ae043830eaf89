//! Per-example gradient features, per layer, in one batched forward and backward pass.
//!
//! For `W_l` with input `a_{l-1}` and pre-activation `z_l = W_l a_{l-1}`,
//! `grad_{W_l} f(x) = delta_l(x) a_{l-1}(x)^T` with `delta_l = df/dz_l`. Backpropagating the
//! sum of the outputs over a batch gives every example's own `delta_l` in its row, because the
//! examples do not interact. The backward pass is written out (not Burn's autodiff) so that the
//! `delta_l` rows themselves are available:
//!
//! - output: `f = sqrt(m) W_{L+1} h_L`, so `delta_{L+1} = sqrt(m)`, input `h_L`, and
//!   `g_L = df/dh_L = sqrt(m) W_{L+1}`.
//! - ResNet block `h_l = h_{l-1} + theta relu(z_l)`: `delta_l = theta g_l o 1{z_l > 0}`,
//!   `g_{l-1} = g_l + delta_l W_l`.
//! - FC layer `h_l = relu(z_l)` (and the ResNet's first layer): `delta_l = g_l o 1{z_l > 0}`,
//!   `g_{l-1} = delta_l W_l`.

use resgen_models::{Arch, Net, Tensor, to_host};

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
    let depth = net.cfg.depth;
    let w = &net.weights;
    let n = x.shape().dims::<2>()[0];
    let sm = (net.cfg.width as f64).sqrt();
    let mut inputs = Vec::with_capacity(depth + 1);
    let mut pres = Vec::with_capacity(depth);
    let mut h = x;
    for l in 1..=depth {
        inputs.push(h.clone());
        let pre = h.clone().matmul(w[l - 1].clone().transpose());
        let act = resgen_models::relu(pre.clone());
        pres.push(pre);
        h = if l >= 2 && net.cfg.arch == Arch::Resnet { h + act.mul_scalar(net.theta) } else { act };
    }
    inputs.push(h.clone());
    let output = to_host(h.matmul(w[depth].clone().transpose()).mul_scalar(sm));
    let ones = Tensor::<2>::ones([n, 1], (&net.device, w[0].dtype()));
    let mut deltas = vec![ones.clone().mul_scalar(sm)];
    let mut g = ones.matmul(w[depth].clone()).mul_scalar(sm);
    for l in (1..=depth).rev() {
        let mask = pres[l - 1].clone().sign().clamp_min(0.0);
        let residual = l >= 2 && net.cfg.arch == Arch::Resnet;
        let delta = if residual { (g.clone() * mask).mul_scalar(net.theta) } else { g.clone() * mask };
        if l > 1 {
            let back = delta.clone().matmul(w[l - 1].clone());
            g = if residual { g + back } else { back };
        }
        deltas.push(delta);
    }
    deltas.reverse();
    GradFeatures { inputs, deltas, output }
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
        let dw = net0.upload(&w[l], r, c) - w0.clone();
        let term = to_host((a.clone().matmul(dw.transpose()) * dlt.clone()).sum_dim(1));
        for (o, t) in out.iter_mut().zip(term) {
            *o += t;
        }
    }
    out
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
