//! Both networks: host initialization, forward pass, hidden states, gradients and the GD update.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};

use crate::config::{Arch, BRANCH_OUT_VARIANCE, ModelConfig, ResidualVariance};
use crate::{ModelError, Precision, to_host};

/// The output of a forward pass that keeps the hidden states.
pub struct Forward {
    /// `hidden[l - 1] = h_l`, shape `[n, m]`, for `l = 1..L`.
    pub hidden: Vec<Tensor<2>>,
    /// `pre[l - 1] = z_l = W_l h_{l-1}` (the pre-activations), shape `[n, m]`, for `l = 1..L`.
    pub pre: Vec<Tensor<2>>,
    /// Two-layer branches only: `branch[l - 2] = a_l = relu(z_l)`, the input of `V_l`, for
    /// `l = 2..L` (empty otherwise).
    pub branch: Vec<Tensor<2>>,
    /// `f(x)`, shape `[n, 1]`.
    pub output: Tensor<2>,
}

/// One batched forward and backward pass of `sum_i c_i f(x_i)`, kept per layer: for `W_l` with
/// input `a_{l-1}` and pre-activation `z_l = W_l a_{l-1}`, the gradient is
/// `sum_i delta_l(x_i) a_{l-1}(x_i)^T = D_l^T A_{l-1}` with `delta_l = c_i df/dz_l`. The
/// examples do not interact, so row `i` of `D_l` is example `i`'s own (weighted) `delta_l`.
///
/// - output: `f = sqrt(m) W_{L+1} h_L`, so `delta_{L+1} = c sqrt(m)`, input `h_L`, and
///   `g_L = dF/dh_L = c sqrt(m) W_{L+1}`.
/// - ResNet block `h_l = h_{l-1} + theta relu(z_l)`: `delta_l = theta g_l o 1{z_l > 0}`,
///   `g_{l-1} = g_l + delta_l W_l`.
/// - FC layer `h_l = relu(z_l)` (and the ResNet's first layer): `delta_l = g_l o 1{z_l > 0}`,
///   `g_{l-1} = delta_l W_l`.
/// - Two-layer block `h_l = h_{l-1} + theta V_l a_l`, `a_l = relu(z_l)`: `V_l` has input `a_l`
///   and delta `theta g_l`; `W_l` has input `h_{l-1}` and delta
///   `delta_l = theta (g_l V_l) o 1{z_l > 0}`; `g_{l-1} = g_l + delta_l W_l`.
///
/// The lists follow the weight matrices' order (see [`Net`]).
pub struct Backprop {
    /// `inputs[k - 1]`: the input of matrix `k` (`n x fan_in`): `X`, `h_1 .. h_L`, then
    /// `a_2 .. a_L` for two-layer branches.
    pub inputs: Vec<Tensor<2>>,
    /// `deltas[k - 1]`: the backpropagated vectors of matrix `k` (`n x fan_out`).
    pub deltas: Vec<Tensor<2>>,
    /// `f(x_i)` at the current weights (the forward pass's own outputs; empty from
    /// [`Net::loss_grads_on_device`], which reads nothing back).
    pub output: Vec<f64>,
}

/// A ResNet or fully connected network with its weights on a device: a Burn module whose
/// parameters are its weight matrices (frozen ones marked as not requiring gradients), so Burn's
/// autodiff trains it through [`crate::Network`] like any other module; its written-out
/// backward pass ([`Net::backprop`]) is the fast path that the trainer uses.
///
/// `weights[l - 1]` is `W_l` in the paper's layout `[fan_out, fan_in]`:
/// `W_1: [m, d]`, `W_2..W_L: [m, m]`, `W_{L+1}: [1, m]`; with two-layer branches the list goes
/// on with `V_2..V_L` (`[m, m]`), so `weights[L + l - 1] = V_l`. Every per-matrix list (names,
/// gradients, distances, kernel blocks) uses this order.
#[derive(Module, Debug)]
pub struct Net {
    /// `W_1 .. W_{L+1}` (then `V_2 .. V_L`). (First: the derived `fork` and `to_device` bind
    /// each field by name, and a field called `device` declared before it would shadow their
    /// argument.)
    pub weights: Vec<Param<Tensor<2>>>,
    /// The configuration it was built from.
    #[module(skip)]
    pub cfg: ModelConfig,
    /// Input dimension `d`.
    #[module(skip)]
    pub d: usize,
    /// Residual scaling theta at this depth (0 for the FC network).
    #[module(skip)]
    pub theta: f64,
    /// Tensor precision.
    #[module(skip)]
    pub precision: Precision,
    /// Where the tensors live (the home device: a fork to autodiff keeps it).
    #[module(skip)]
    pub device: Device,
}

pub use resgen_kernels::logistic_loss_mean;

impl Net {
    /// Number of weight matrices: `L + 1`, plus `L - 1` for two-layer branches.
    pub fn matrix_count(cfg: &ModelConfig) -> usize {
        cfg.depth + 1 + if cfg.two_layer() { cfg.depth - 1 } else { 0 }
    }

    /// Shape `[fan_out, fan_in]` of matrix `k = 1..=`[`Net::matrix_count`] (`W_k` for
    /// `k <= L + 1`, then `V_2..V_L`).
    pub fn layer_shape(cfg: &ModelConfig, d: usize, k: usize) -> [usize; 2] {
        let (m, depth) = (cfg.width, cfg.depth);
        match k {
            1 => [m, d],
            k if k <= depth || k > depth + 1 => [m, m],
            _ => [1, m],
        }
    }

    /// Initialization variance of matrix `k`'s entries.
    pub fn init_variance(cfg: &ModelConfig, l: usize) -> f64 {
        let m = cfg.width as f64;
        if l > cfg.depth + 1 {
            return BRANCH_OUT_VARIANCE / m;
        }
        let output = l == cfg.depth + 1;
        let residual_one_over_m =
            l >= 2 && cfg.arch == Arch::Resnet && cfg.residual_variance == ResidualVariance::OneOverM;
        if output || residual_one_over_m { 1.0 / m } else { 2.0 / m }
    }

    /// Draws `W0` on the host from the seed's weight stream, matrix by matrix, row-major.
    /// The same seed gives the same numbers on every backend (and the same `W_l` for both
    /// branches: the `V_l` are drawn after them).
    pub fn init_host(cfg: &ModelConfig, d: usize) -> Vec<Vec<f64>> {
        let mut rng = resgen_data::rng(cfg.seed, resgen_data::Stream::Weights);
        (1..=Self::matrix_count(cfg))
            .map(|l| {
                let [r, c] = Self::layer_shape(cfg, d, l);
                let sd = Self::init_variance(cfg, l).sqrt();
                (0..r * c)
                    .map(|_| sd * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
                    .collect()
            })
            .collect()
    }

    /// A network at its Gaussian initialization `W0`. Only the two paper networks have this
    /// written-out form; any other architecture is an error naming it (use [`crate::Model`]).
    pub fn init(cfg: &ModelConfig, d: usize, precision: Precision, device: &Device) -> Result<Net, ModelError> {
        cfg.validate()?;
        if !cfg.arch.has_fast_path() {
            return Err(ModelError::NoFastPath(cfg.arch.name()));
        }
        let host = Self::init_host(cfg, d);
        Ok(Self::from_host(cfg, d, &host, precision, device))
    }

    /// A network with the given host weights (`host[l - 1]` row-major `W_l`).
    pub fn from_host(cfg: &ModelConfig, d: usize, host: &[Vec<f64>], precision: Precision, device: &Device) -> Net {
        assert_eq!(host.len(), Self::matrix_count(cfg), "one host matrix per weight matrix");
        let weights = host
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let [r, c] = Self::layer_shape(cfg, d, i + 1);
                Param::from_tensor(upload(w, r, c, precision, device)).set_require_grad(is_trained(cfg, i + 1))
            })
            .collect();
        Net { cfg: cfg.clone(), d, theta: cfg.theta_value(), precision, device: device.clone(), weights }
    }

    /// The weight tensors `W_1 .. W_{L+1}` (then `V_2 .. V_L`), in [`Net`]'s order.
    pub fn tensors(&self) -> Vec<Tensor<2>> {
        self.weights.iter().map(|p| p.val()).collect()
    }

    /// Matrix `k` (1-based, in [`Net`]'s order).
    pub fn weight(&self, k: usize) -> Tensor<2> {
        self.weights[k - 1].val()
    }

    /// Replaces every weight matrix (same order and shapes), keeping each parameter's id and
    /// whether it trains.
    pub fn set_tensors(&mut self, ws: Vec<Tensor<2>>) {
        assert_eq!(ws.len(), self.weights.len(), "one tensor per weight matrix");
        let old = std::mem::take(&mut self.weights);
        self.weights = old.into_iter().zip(ws).map(|(p, w)| p.map(|_| w)).collect();
    }

    /// Number of weight matrices (see [`Net::matrix_count`]).
    pub fn num_layers(&self) -> usize {
        self.weights.len()
    }

    /// Whether matrix `k` (1-based) is trained; frozen input/output layers are not.
    pub fn is_trained(&self, k: usize) -> bool {
        is_trained(&self.cfg, k)
    }

    /// The name of matrix `k` of a depth-`depth` network in tables and weight files: `W{k}`,
    /// then `V2..VL` for two-layer branches.
    pub fn matrix_name(depth: usize, k: usize) -> String {
        if k <= depth + 1 { format!("W{k}") } else { format!("V{}", k - depth) }
    }

    /// Uploads a host matrix in this network's precision and device.
    pub fn upload(&self, data: &[f64], rows: usize, cols: usize) -> Tensor<2> {
        upload(data, rows, cols, self.precision, &self.device)
    }

    /// `f(x)` for a batch `x: [n, d]`, shape `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        forward_with(&self.cfg, self.theta, &self.tensors(), x, false).output
    }

    /// `f(x)` with every hidden state `h_1..h_L`.
    pub fn forward_states(&self, x: Tensor<2>) -> Forward {
        forward_with(&self.cfg, self.theta, &self.tensors(), x, true)
    }

    /// `f(x)` on the host, in f64.
    pub fn predict(&self, x: Tensor<2>) -> Vec<f64> {
        to_host(self.forward(x))
    }

    /// Gradients of `sum_i c_i f(x_i)` with respect to every trained layer (`None` for frozen
    /// ones), and the outputs `f(x_i)` at the current weights (read back to the host).
    ///
    /// `coef` is a closure from the outputs to the weights `c_i`, so that a loss's gradient is
    /// `c_i = dLoss/df_i`: one forward and one backward, with the loss itself done in f64.
    /// This is Burn's autodiff, kept as the oracle for [`Net::backprop`] (and the explicit
    /// per-example Jacobians of the NTK tests).
    pub fn weighted_output_grads(
        &self,
        x: Tensor<2>,
        coef: impl FnOnce(&[f64]) -> Vec<f64>,
    ) -> (Vec<f64>, Vec<Option<Tensor<2>>>) {
        let tracked: Vec<Tensor<2>> = self
            .tensors()
            .into_iter()
            .enumerate()
            .map(|(i, w)| if self.is_trained(i + 1) { w.autodiff().require_grad() } else { w })
            .collect();
        let f = forward_with(&self.cfg, self.theta, &tracked, x, false).output;
        let f_host = to_host(f.clone().without_autodiff());
        let c = coef(&f_host);
        let n = c.len();
        let c = self.upload(&c, n, 1);
        let grads = (f * c).sum().backward();
        let out = tracked
            .iter()
            .enumerate()
            .map(|(i, w)| if self.is_trained(i + 1) { w.grad(&grads) } else { None })
            .collect();
        (f_host, out)
    }

    /// The written-out backward pass of `sum_i c_i f(x_i)` (see [`Backprop`]), with
    /// `c = coef(f(x))`. The training step uses it instead of Burn's autodiff: it forms each
    /// weight gradient `D_l^T A_{l-1}` directly in `W_l`'s layout, where autodiff through
    /// `x W^T` materializes the transposed `m x m` gradient (measured: twice the weight-gradient
    /// time at m = 2048 on flex). [`Net::weighted_output_grads`] stays on autodiff, as an
    /// independent oracle for it in the tests.
    pub fn backprop(&self, x: Tensor<2>, coef: impl FnOnce(&[f64]) -> Vec<f64>) -> Backprop {
        self.backprop_with(x, |out| {
            let output = to_host(out);
            let c = coef(&output);
            let n = c.len();
            (self.upload(&c, n, 1), output)
        })
    }

    /// [`Net::backprop`] with the coefficients formed by `coef` from the output tensor
    /// (`n x 1`), which returns them (`n x 1`, on the device) and the host outputs to record
    /// (empty when they were not read back).
    fn backprop_with(&self, x: Tensor<2>, coef: impl FnOnce(Tensor<2>) -> (Tensor<2>, Vec<f64>)) -> Backprop {
        let depth = self.cfg.depth;
        let w = &self.tensors();
        let resnet = self.cfg.arch == Arch::Resnet;
        let two_layer = self.cfg.two_layer();
        let sm = (self.cfg.width as f64).sqrt();
        // The forward pass itself, keeping every layer's input and pre-activation.
        let fw = forward_with(&self.cfg, self.theta, w, x.clone(), true);
        let mut inputs = Vec::with_capacity(w.len());
        inputs.push(x);
        inputs.extend(fw.hidden);
        let mut pres = fw.pre;
        let mut branch = fw.branch;
        let (c, output) = coef(fw.output);
        let mut deltas = vec![c.clone().mul_scalar(sm)];
        // Two-layer branches: V_L's delta first, reversed at the end like the W deltas.
        let mut branch_deltas = Vec::with_capacity(branch.len());
        let mut g = Some(c.matmul(w[depth].clone()).mul_scalar(sm));
        // Tensors are moved rather than cloned wherever they are not needed again, so that the
        // backend can reuse their buffers in place (this pass is a third of a training step).
        for l in (1..=depth).rev() {
            let pre = pres.pop().expect("one pre-activation per hidden layer");
            let residual = l >= 2 && resnet;
            let g_l = g.take().expect("g_l is set for every layer");
            let (masked, keep) = if !residual {
                (g_l, None)
            } else if two_layer {
                // dF/da_l = theta g_l V_l; V_l's own delta is theta g_l.
                let v = w[depth + l - 1].clone();
                let dv = g_l.clone().mul_scalar(self.theta);
                branch_deltas.push(dv.clone());
                (dv.matmul(v), Some(g_l))
            } else {
                (g_l.clone().mul_scalar(self.theta), Some(g_l))
            };
            // relu'(z) = 1{z > 0} as sign(z) clamped at 0 (measured faster on flex than a
            // boolean mask and mask_fill).
            let delta = masked * pre.sign().clamp_min(0.0);
            if l > 1 {
                let back = delta.clone().matmul(w[l - 1].clone());
                g = Some(match keep {
                    Some(g_l) => g_l + back,
                    None => back,
                });
            }
            deltas.push(delta);
        }
        deltas.reverse();
        branch_deltas.reverse();
        deltas.extend(branch_deltas);
        inputs.append(&mut branch);
        Backprop { inputs, deltas, output }
    }

    /// The diagonal of the empirical NTK over the trained layers,
    /// `K(x_i, x_i) = sum_l ||grad_{W_l} f(x_i)||_F^2 = sum_l ||delta_l(x_i)||^2 ||a_{l-1}(x_i)||^2`
    /// (frozen layers excluded: GD does not move them), from one batched backward pass.
    pub fn ntk_diagonal(&self, x: Tensor<2>) -> Vec<f64> {
        let n = x.shape().dims::<2>()[0];
        let bp = self.backprop(x, |f| vec![1.0; f.len()]);
        let mut diag = vec![0.0; n];
        for (l, (a, d)) in bp.inputs.into_iter().zip(bp.deltas).enumerate() {
            if !self.is_trained(l + 1) {
                continue;
            }
            let na = to_host(a.square().sum_dim(1));
            let nd = to_host(d.square().sum_dim(1));
            for (k, (p, q)) in diag.iter_mut().zip(na.iter().zip(&nd)) {
                *k += p * q;
            }
        }
        diag
    }

    /// Training loss gradients: `L_S = (1/n) sum_i log(1 + exp(-y_i f(x_i)))`.
    /// Returns the outputs before the step (for free training metrics) and the gradients
    /// (`None` for frozen layers), from [`Net::backprop`].
    pub fn loss_grads(&self, x: Tensor<2>, y: &[f64]) -> (Vec<f64>, Vec<Option<Tensor<2>>>) {
        // dl/df_i = -y_i / (1 + exp(y_i f_i)) / n: the negative surrogate loss, per example.
        let bp = self.backprop(x, |f| crate::logistic_coefficients(f, y));
        let Backprop { inputs, deltas, output } = bp;
        (output, self.weight_grads(inputs, deltas))
    }

    /// The training loss gradients of [`Net::loss_grads`] with the loss coefficients
    /// `c_i = -y_i sigmoid(-y_i f_i) / n` computed on the device from the labels `y` (`n x 1`,
    /// uploaded once), so nothing is read back to the host: on a GPU the step does not wait
    /// for the host. The coefficients are computed in the network's precision (the host path
    /// computes them in f64 and rounds), so the two paths agree to that precision (tested).
    pub fn loss_grads_on_device(&self, x: Tensor<2>, y: &Tensor<2>) -> Vec<Option<Tensor<2>>> {
        let n = y.shape().dims::<2>()[0] as f64;
        let bp = self.backprop_with(x, |f| {
            let c = burn::tensor::activation::sigmoid(f.mul(y.clone()).neg()).mul(y.clone()).mul_scalar(-1.0 / n);
            (c, Vec::new())
        });
        self.weight_grads(bp.inputs, bp.deltas)
    }

    /// `D_l^T A_{l-1}` for every trained layer (`None` for frozen ones).
    pub(crate) fn weight_grads(&self, inputs: Vec<Tensor<2>>, deltas: Vec<Tensor<2>>) -> Vec<Option<Tensor<2>>> {
        inputs
            .into_iter()
            .zip(deltas)
            .enumerate()
            .map(|(i, (a, d))| self.is_trained(i + 1).then(|| d.transpose().matmul(a)))
            .collect()
    }

    /// One gradient step `W_l <- W_l - lr * grad_l` on every trained layer.
    pub fn step(&mut self, grads: Vec<Option<Tensor<2>>>, lr: f64) {
        let old = std::mem::take(&mut self.weights);
        self.weights = old
            .into_iter()
            .zip(grads)
            .map(|(w, g)| match g {
                Some(g) => w.map(|w| w - g.mul_scalar(lr)),
                None => w,
            })
            .collect();
    }

    /// Every weight matrix on the host, f64, row-major.
    pub fn host_weights(&self) -> Vec<Vec<f64>> {
        self.weights.iter().map(|w| to_host(w.val())).collect()
    }

    /// `||W_l - V_l||_F` for every layer.
    ///
    /// Squares are summed per row on the device and the rows in f64 on the host: a full
    /// on-device reduction is not bit-reproducible on GPU backends (its summation order varies
    /// between runs), which would make two runs of one config log different distances.
    pub fn distances(&self, other: &[Tensor<2>]) -> Vec<f64> {
        self.weights
            .iter()
            .zip(other)
            .map(|(w, v)| to_host((w.val() - v.clone()).square().sum_dim(1)).iter().sum::<f64>().sqrt())
            .collect()
    }
}

/// Whether matrix `k` (1-based) of a network of `cfg` is trained; frozen input/output layers
/// are not.
fn is_trained(cfg: &ModelConfig, k: usize) -> bool {
    !((k == 1 && cfg.freeze_input) || (k == cfg.depth + 1 && cfg.freeze_output))
}

impl crate::Network for Net {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        Net::forward(self, x)
    }

    fn param_names(&self) -> Vec<String> {
        (1..=self.weights.len()).map(|k| Net::matrix_name(self.cfg.depth, k)).collect()
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Uploads a row-major host matrix.
pub(crate) fn upload(data: &[f64], rows: usize, cols: usize, precision: Precision, device: &Device) -> Tensor<2> {
    assert_eq!(data.len(), rows * cols, "upload: {rows}x{cols} needs {} values", rows * cols);
    let td = match precision {
        Precision::F32 => TensorData::new(data.iter().map(|&v| v as f32).collect::<Vec<f32>>(), [rows, cols]),
        Precision::F64 => TensorData::new(data.to_vec(), [rows, cols]),
    };
    Tensor::from_data(td, (device, precision.dtype()))
}

/// The forward pass over any weight list (plain, or tracked for autodiff). With `keep`, the
/// hidden states, pre-activations and branch activations are kept for [`Net::forward_states`]
/// and [`Net::backprop`].
fn forward_with(cfg: &ModelConfig, theta: f64, ws: &[Tensor<2>], x: Tensor<2>, keep: bool) -> Forward {
    let depth = cfg.depth;
    let two_layer = cfg.two_layer();
    let kept = if keep { depth } else { 0 };
    let (mut hidden, mut pre_acts) = (Vec::with_capacity(kept), Vec::with_capacity(kept));
    let mut branch = Vec::new();
    let mut h = x;
    for (l, w) in (1..=depth).zip(ws) {
        // z_l = W_l h_{l-1}: in batch form Z_l = H_{l-1} W_l^T.
        let pre = h.clone().matmul(w.clone().transpose());
        if keep {
            pre_acts.push(pre.clone());
        }
        let act = relu(pre);
        h = if l >= 2 && cfg.arch == Arch::Resnet {
            if two_layer {
                // h_l = h_{l-1} + theta V_l relu(W_l h_{l-1})
                if keep {
                    branch.push(act.clone());
                }
                h + act.matmul(ws[depth + l - 1].clone().transpose()).mul_scalar(theta)
            } else {
                // h_l = h_{l-1} + theta relu(W_l h_{l-1})
                h + act.mul_scalar(theta)
            }
        } else {
            // h_l = relu(W_l h_{l-1}) (FC layers and the ResNet's first layer)
            act
        };
        if keep {
            hidden.push(h.clone());
        }
    }
    // f = sqrt(m) W_{L+1} h_L
    let m = cfg.width as f64;
    let output = h.matmul(ws[depth].clone().transpose()).mul_scalar(m.sqrt());
    Forward { hidden, pre: pre_acts, branch, output }
}
