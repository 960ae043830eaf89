//! A third network, beyond the paper: the ResNet with a trained scalar residual scale per block
//! (the SkipInit / ReZero family: De and Smith 2020; Bachlechner et al. 2020, who start it at 0).
//!
//! `h_1 = relu(W_1 x)`, `h_l = h_{l-1} + alpha_l relu(W_l h_{l-1})` for `l = 2..L`,
//! `f(x) = sqrt(m) W_{L+1} h_L`, with `alpha_l = theta` and the ResNet's `W0` at
//! initialization, so it starts as the ResNet's function. It is a Burn module and nothing more:
//! no derivative is written anywhere, and resgen trains it and measures its kernel through
//! Burn's autodiff ([`Network`]). docs/adding-a-network.md walks through this file.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::{Arch, ModelConfig, ModelError, Net, Network, Precision};

/// The ResNet with a learned residual scale `alpha_l` per block (`model.arch =
/// "resnet-learned-scale"`).
#[derive(Module, Debug)]
pub struct LearnedScaleNet {
    /// `W_1 .. W_{L+1}` in the paper's layout `[fan_out, fan_in]`.
    pub weights: Vec<Param<Tensor<2>>>,
    /// `alpha_2 .. alpha_L`, each of shape `[1]`.
    pub scales: Vec<Param<Tensor<1>>>,
    /// `sqrt(m)`, the output's fixed scale.
    #[module(skip)]
    pub output_scale: f64,
}

impl LearnedScaleNet {
    /// The network at initialization: the ResNet's `W0` for this seed (frozen layers stay
    /// frozen) and every `alpha_l = theta`.
    pub fn init(cfg: &ModelConfig, d: usize, precision: Precision, device: &Device) -> Result<Self, ModelError> {
        cfg.validate()?;
        let resnet = Net::init(&ModelConfig { arch: Arch::Resnet, ..cfg.clone() }, d, precision, device)?;
        let theta = TensorData::new(vec![cfg.theta_value()], [1]);
        let alpha = || Param::from_tensor(Tensor::from_data(theta.clone(), (device, precision.dtype())));
        Ok(LearnedScaleNet {
            weights: resnet.weights,
            scales: (2..=cfg.depth).map(|_| alpha()).collect(),
            output_scale: (cfg.width as f64).sqrt(),
        })
    }
}

impl Network for LearnedScaleNet {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let w: Vec<Tensor<2>> = self.weights.iter().map(|p| p.val()).collect();
        let depth = w.len() - 1;
        // In batch form z_l = W_l h_{l-1} is H_{l-1} W_l^T.
        let mut h = relu(x.matmul(w[0].clone().transpose()));
        for (l, alpha) in (2..=depth).zip(&self.scales) {
            let branch = relu(h.clone().matmul(w[l - 1].clone().transpose()));
            h = h + branch * alpha.val().unsqueeze::<2>();
        }
        h.matmul(w[depth].clone().transpose()).mul_scalar(self.output_scale)
    }

    fn param_names(&self) -> Vec<String> {
        let depth = self.weights.len() - 1;
        let w = (1..=depth + 1).map(|k| format!("W{k}"));
        w.chain((2..=depth).map(|l| format!("alpha{l}"))).collect()
    }
}
