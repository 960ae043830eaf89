//! [`Model`]: any network of `model.arch`, on whichever path it has.
//!
//! The two paper networks run on their fast path ([`Net`]: a written-out backward pass and a
//! factorized kernel); every other network is a Burn module on the general path
//! ([`crate::Network`], Burn's autodiff). [`Model::init`] picks the path from the architecture,
//! and [`Model::general`] puts a paper network on the general path, which is how the tests hold
//! the two paths to each other.

use burn::tensor::{Device, Tensor, TensorData};

use crate::network::DynNetwork;
use crate::{Arch, LearnedScaleNet, ModelConfig, ModelError, Net, Precision, to_host};

/// A network on the general path, with what the project needs to know about it.
#[derive(Debug)]
pub struct GeneralNet {
    /// The configuration it was built from.
    pub cfg: ModelConfig,
    /// Input dimension `d`.
    pub d: usize,
    /// Tensor precision.
    pub precision: Precision,
    /// Where the tensors live.
    pub device: Device,
    /// The module.
    pub net: Box<dyn DynNetwork>,
    /// Whether each parameter trains (read once from the module: it takes a fork to autodiff).
    trained: Vec<bool>,
}

impl Clone for GeneralNet {
    fn clone(&self) -> Self {
        GeneralNet {
            cfg: self.cfg.clone(),
            d: self.d,
            precision: self.precision,
            device: self.device.clone(),
            net: self.net.clone_box(),
            trained: self.trained.clone(),
        }
    }
}

impl GeneralNet {
    /// Wraps a module built from `cfg`.
    pub fn new(cfg: &ModelConfig, d: usize, precision: Precision, device: &Device, net: Box<dyn DynNetwork>) -> Self {
        let trained = net.trained();
        GeneralNet { cfg: cfg.clone(), d, precision, device: device.clone(), net, trained }
    }
}

/// Any network of `model.arch` (see the module docs).
#[derive(Clone, Debug)]
pub enum Model {
    /// A paper network on its fast path.
    Paper(Net),
    /// A network on the general (autodiff) path.
    General(GeneralNet),
}

/// Loss gradients of either path, for [`Model::step`].
pub enum Grads {
    /// Per weight matrix (`None` for frozen ones).
    Paper(Vec<Option<Tensor<2>>>),
    /// Per parameter, flattened (`None` for frozen ones).
    General(Vec<Option<Tensor<1>>>),
}

/// `dl/df_i` of the mean logistic loss: `-y_i sigmoid(-y_i f_i) / n`, in f64.
pub fn logistic_coefficients(f: &[f64], y: &[f64]) -> Vec<f64> {
    let n = y.len() as f64;
    f.iter().zip(y).map(|(fi, yi)| -yi * crate::net::sigmoid(-yi * fi) / n).collect()
}

impl Model {
    /// The network of `cfg` at its initialization `W0` (the same seed gives the same `W0` on
    /// every backend), on its fast path when it has one.
    pub fn init(cfg: &ModelConfig, d: usize, precision: Precision, device: &Device) -> Result<Model, ModelError> {
        cfg.validate()?;
        Ok(match cfg.arch {
            Arch::Resnet | Arch::Fc => Model::Paper(Net::init(cfg, d, precision, device)?),
            Arch::ResnetLearnedScale => {
                let net = LearnedScaleNet::init(cfg, d, precision, device)?;
                Model::General(GeneralNet::new(cfg, d, precision, device, Box::new(net)))
            }
        })
    }

    /// The network of `cfg` with the given host parameters (`host[p]` row-major, in the order
    /// of [`Model::names`]).
    pub fn from_host(
        cfg: &ModelConfig,
        d: usize,
        host: &[Vec<f64>],
        precision: Precision,
        device: &Device,
    ) -> Result<Model, ModelError> {
        if cfg.arch.has_fast_path() {
            cfg.validate()?;
            return Ok(Model::Paper(Net::from_host(cfg, d, host, precision, device)));
        }
        let mut m = Model::init(cfg, d, precision, device)?;
        m.set_host(host);
        Ok(m)
    }

    /// A paper network on the general path: trained and measured by Burn's autodiff, as any
    /// other module (the oracle of the fast path in the tests, and the bench's general path).
    pub fn general(net: Net) -> Model {
        let (cfg, d, precision, device) = (net.cfg.clone(), net.d, net.precision, net.device.clone());
        Model::General(GeneralNet::new(&cfg, d, precision, &device, Box::new(net)))
    }

    /// Whether this runs on the written-out fast path.
    pub fn is_fast_path(&self) -> bool {
        matches!(self, Model::Paper(_))
    }

    /// The paper network, when on the fast path.
    pub fn as_net(&self) -> Option<&Net> {
        match self {
            Model::Paper(n) => Some(n),
            Model::General(_) => None,
        }
    }

    /// The paper network, mutably, when on the fast path.
    pub fn as_net_mut(&mut self) -> Option<&mut Net> {
        match self {
            Model::Paper(n) => Some(n),
            Model::General(_) => None,
        }
    }

    /// The configuration.
    pub fn cfg(&self) -> &ModelConfig {
        match self {
            Model::Paper(n) => &n.cfg,
            Model::General(g) => &g.cfg,
        }
    }

    /// Input dimension `d`.
    pub fn d(&self) -> usize {
        match self {
            Model::Paper(n) => n.d,
            Model::General(g) => g.d,
        }
    }

    /// Tensor precision.
    pub fn precision(&self) -> Precision {
        match self {
            Model::Paper(n) => n.precision,
            Model::General(g) => g.precision,
        }
    }

    /// The device.
    pub fn device(&self) -> &Device {
        match self {
            Model::Paper(n) => &n.device,
            Model::General(g) => &g.device,
        }
    }

    /// Theta at this depth (the residual scales' initial value; 0 for FC).
    pub fn theta(&self) -> f64 {
        self.cfg().theta_value()
    }

    /// Uploads a host matrix in this network's precision and device.
    pub fn upload(&self, data: &[f64], rows: usize, cols: usize) -> Tensor<2> {
        crate::net::upload(data, rows, cols, self.precision(), self.device())
    }

    /// `f(x)`, shape `[n, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Model::Paper(n) => n.forward(x),
            Model::General(g) => g.net.output(x),
        }
    }

    /// `f(x)` on the host, in f64.
    pub fn predict(&self, x: Tensor<2>) -> Vec<f64> {
        to_host(self.forward(x))
    }

    /// One name per parameter tensor (`W1 .. W{L+1}`, then `V2 .. VL` or the network's own).
    pub fn names(&self) -> Vec<String> {
        match self {
            Model::Paper(n) => (1..=n.num_layers()).map(|k| Net::matrix_name(n.cfg.depth, k)).collect(),
            Model::General(g) => g.net.names(),
        }
    }

    /// Number of parameter tensors.
    pub fn num_params(&self) -> usize {
        match self {
            Model::Paper(n) => n.num_layers(),
            Model::General(g) => g.trained.len(),
        }
    }

    /// Whether parameter `k` (1-based, in [`Model::names`]' order) trains.
    pub fn is_trained(&self, k: usize) -> bool {
        match self {
            Model::Paper(n) => n.is_trained(k),
            Model::General(g) => g.trained[k - 1],
        }
    }

    /// The training loss's outputs and gradients (see [`Net::loss_grads`]).
    pub fn loss_grads(&self, x: Tensor<2>, y: &[f64]) -> (Vec<f64>, Grads) {
        match self {
            Model::Paper(n) => {
                let (f, g) = n.loss_grads(x, y);
                (f, Grads::Paper(g))
            }
            Model::General(g) => {
                let (f, grads) = g.net.weighted_grads(x, &mut |f| logistic_coefficients(f, y));
                (f, Grads::General(grads))
            }
        }
    }

    /// Gradients of `sum_i c_i f(x_i)` for fixed coefficients `c` (the outputs, and gradients
    /// for [`Model::step`]).
    pub fn loss_grads_with(&self, x: Tensor<2>, c: &[f64]) -> (Vec<f64>, Grads) {
        match self {
            Model::Paper(n) => {
                let bp = n.backprop(x, |_| c.to_vec());
                (bp.output, Grads::Paper(n.weight_grads(bp.inputs, bp.deltas)))
            }
            Model::General(g) => {
                let (f, grads) = g.net.weighted_grads(x, &mut |_| c.to_vec());
                (f, Grads::General(grads))
            }
        }
    }

    /// [`Net::loss_grads_on_device`] on the fast path; the general path reads the outputs back
    /// (its loss coefficients are formed on the host).
    pub fn loss_grads_on_device(&self, x: Tensor<2>, y: &Tensor<2>) -> Grads {
        match self {
            Model::Paper(n) => Grads::Paper(n.loss_grads_on_device(x, y)),
            Model::General(_) => self.loss_grads(x, &to_host(y.clone())).1,
        }
    }

    /// One gradient step on every trained parameter.
    pub fn step(&mut self, grads: Grads, lr: f64) {
        match (self, grads) {
            (Model::Paper(n), Grads::Paper(g)) => n.step(g, lr),
            (Model::General(n), Grads::General(g)) => n.net.apply(g, lr),
            _ => panic!("gradients of one path applied to the other"),
        }
    }

    /// The diagonal of the empirical NTK over the trained parameters (see [`Net::ntk_diagonal`]).
    pub fn ntk_diagonal(&self, x: Tensor<2>) -> Vec<f64> {
        match self {
            Model::Paper(n) => n.ntk_diagonal(x),
            Model::General(g) => {
                let n = x.shape().dims::<2>()[0];
                let mut diag = vec![0.0; n];
                for gp in g.net.per_example_grads(x, false).into_iter().flatten() {
                    for (k, v) in diag.iter_mut().zip(to_host(gp.square().sum_dim(1))) {
                        *k += v;
                    }
                }
                diag
            }
        }
    }

    /// Every parameter on the host, f64, row-major, in [`Model::names`]' order.
    pub fn host_weights(&self) -> Vec<Vec<f64>> {
        match self {
            Model::Paper(n) => n.host_weights(),
            Model::General(g) => g.net.host_params().into_iter().map(|p| p.values).collect(),
        }
    }

    /// Every parameter's shape, in [`Model::names`]' order.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Model::Paper(n) => n.tensors().iter().map(|w| w.shape().dims::<2>().to_vec()).collect(),
            Model::General(g) => g.net.host_params().into_iter().map(|p| p.shape).collect(),
        }
    }

    /// Replaces every parameter with host values (`host[p]` row-major, in [`Model::names`]'
    /// order), keeping which ones train.
    pub fn set_host(&mut self, host: &[Vec<f64>]) {
        match self {
            Model::Paper(n) => *n = Net::from_host(&n.cfg, n.d, host, n.precision, &n.device),
            Model::General(g) => {
                assert_eq!(host.len(), g.trained.len(), "one host vector per parameter");
                let dtype = g.precision.dtype();
                let values = host
                    .iter()
                    .map(|v| {
                        let data = match g.precision {
                            Precision::F32 => TensorData::new(v.iter().map(|&x| x as f32).collect(), [v.len()]),
                            Precision::F64 => TensorData::new(v.clone(), [v.len()]),
                        };
                        Tensor::<1>::from_data(data, (&g.device, dtype))
                    })
                    .collect();
                g.net.set_params(values);
            }
        }
    }

    /// `||p - p0||_F` for every parameter, against the same network at `w0`.
    pub fn distances(&self, w0: &Model) -> Vec<f64> {
        match (self, w0) {
            (Model::Paper(n), Model::Paper(n0)) => n.distances(&n0.tensors()),
            _ => self
                .host_weights()
                .iter()
                .zip(w0.host_weights())
                .map(|(a, b)| a.iter().zip(&b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt())
                .collect(),
        }
    }

    /// A copy in f64 on the same device (kernels are always f64).
    pub fn as_f64(&self) -> Model {
        if self.precision() == Precision::F64 {
            return self.clone();
        }
        let host = self.host_weights();
        match self {
            Model::Paper(n) => Model::Paper(Net::from_host(&n.cfg, n.d, &host, Precision::F64, &n.device)),
            // A paper network put on the general path stays there.
            Model::General(g) if g.cfg.arch.has_fast_path() => {
                Model::general(Net::from_host(&g.cfg, g.d, &host, Precision::F64, &g.device))
            }
            Model::General(g) => {
                let mut m =
                    Model::init(&g.cfg, g.d, Precision::F64, &g.device).expect("a config that built once builds again");
                m.set_host(&host);
                m
            }
        }
    }

    /// Per-example gradients of every parameter (`[n, size_p]`), frozen ones too, by autodiff
    /// (one backward pass per example); the fast path's network is taken through the general
    /// path here.
    pub fn per_example_grads(&self, x: Tensor<2>) -> Vec<Tensor<2>> {
        let grads = match self {
            Model::Paper(n) => crate::network::DynNetwork::per_example_grads(n, x, true),
            Model::General(g) => g.net.per_example_grads(x, true),
        };
        grads.into_iter().map(|g| g.expect("every parameter has a gradient with all = true")).collect()
    }
}
