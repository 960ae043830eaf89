//! The general path: any network written as a Burn module, trained and measured through Burn's
//! autodiff, with no derivative written by hand.
//!
//! A network implements [`Network`]: a forward pass to one output per example and, if it likes,
//! names for its parameters. Which parameters train is Burn's own flag
//! (`Param::set_require_grad(false)` freezes one). From that alone the project
//!
//! - trains it: the gradient of `sum_i c_i f(x_i)` by one autodiff backward pass
//!   ([`DynNetwork::weighted_grads`]), then `p <- p - lr * grad` on every trained parameter
//!   ([`DynNetwork::apply`]); full-batch GD and SGD choose `x` and `c_i`;
//! - measures its empirical NTK from per-example gradients ([`DynNetwork::per_example_grads`]:
//!   Burn has no per-sample gradients, so one backward pass per example; the kernel is then one
//!   product `G_p G_p^T` per parameter `p`);
//! - reads its parameters back to the host, in f64 ([`DynNetwork::host_params`]), for distances
//!   from initialization and weight files.
//!
//! [`DynNetwork`] is the object-safe face of every [`Network`] (a blanket impl), so that one
//! [`crate::Model`] holds any of them.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Gradients, Tensor};

use crate::to_host;

/// A network the general path can train and measure: a Burn module with one output per example.
///
/// Its trained parameters are those that require gradients (`Param::from_tensor` does; a
/// frozen layer is `Param::from_tensor(t).set_require_grad(false)`).
pub trait Network: Module + 'static {
    /// `f(x)` for a batch `x: [n, d]`, shape `[n, 1]`.
    fn forward(&self, x: Tensor<2>) -> Tensor<2>;

    /// One name per parameter tensor, in Burn's visiting order (the order of the fields), used
    /// in tables and weight files. The default is the module path (`blocks.3.w`).
    fn param_names(&self) -> Vec<String> {
        let mut v = Paths::default();
        self.visit(&mut v);
        v.out
    }
}

/// Module paths of the parameters, in visiting order.
#[derive(Default)]
struct Paths {
    stack: Vec<String>,
    out: Vec<String>,
}

impl ModuleVisitor for Paths {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<D>>) {
        self.out.push(self.stack.join("."));
    }
}

/// Every parameter flattened to a vector, in visiting order, with its shape.
#[derive(Default)]
struct Flatten {
    out: Vec<Tensor<1>>,
    shapes: Vec<Vec<usize>>,
}

/// Whether each parameter requires gradients, in visiting order.
#[derive(Default)]
struct Tracked(Vec<bool>);

impl ModuleVisitor for Tracked {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().is_require_grad());
    }
}

fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let n = t.shape().num_elements();
    t.reshape([n])
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        self.shapes.push(t.shape().dims::<D>().to_vec());
        self.out.push(flat(t));
    }
}

/// Each parameter's gradient (flattened; `None` for parameters that do not train).
struct Grads<'a> {
    grads: &'a Gradients,
    out: Vec<Option<Tensor<1>>>,
}

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(param.val().grad(self.grads).map(flat));
    }
}

/// `p <- p - lr * g` for every parameter with a gradient, in visiting order.
struct Update {
    grads: std::vec::IntoIter<Option<Tensor<1>>>,
    lr: f64,
}

impl ModuleMapper for Update {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.grads.next().expect("one gradient entry per parameter") {
            Some(g) => param.map(|p| {
                let shape = p.shape();
                p - g.reshape(shape).mul_scalar(self.lr)
            }),
            None => param,
        }
    }
}

/// Replaces every parameter's values (flattened, in visiting order), keeping its id and flags.
struct Replace {
    values: std::vec::IntoIter<Tensor<1>>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let v = self.values.next().expect("one value per parameter");
        param.map(|p| {
            let shape = p.shape();
            assert_eq!(shape.num_elements(), v.shape().num_elements(), "a replacement of the parameter's size");
            v.reshape(shape)
        })
    }
}

/// A host parameter: its shape and its values (f64, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct HostParam {
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Its values.
    pub values: Vec<f64>,
}

/// The object-safe face of a [`Network`] (every `Network` is one), which [`crate::Model`]
/// holds for any architecture without a written-out backward pass.
pub trait DynNetwork: Send + std::fmt::Debug {
    /// `f(x)`, shape `[n, 1]`, on the plain device (no autodiff graph).
    fn output(&self, x: Tensor<2>) -> Tensor<2>;
    /// [`Network::param_names`].
    fn names(&self) -> Vec<String>;
    /// Whether each parameter trains, in visiting order.
    fn trained(&self) -> Vec<bool>;
    /// Every parameter on the host, in visiting order.
    fn host_params(&self) -> Vec<HostParam>;
    /// Replaces every parameter's values (flattened, row-major, in visiting order).
    fn set_params(&mut self, values: Vec<Tensor<1>>);
    /// Gradients of `sum_i c_i f(x_i)` with `c = coef(f(x))` (host f64): the outputs `f(x_i)`
    /// and each parameter's gradient, flattened (`None` where it does not train).
    fn weighted_grads(
        &self,
        x: Tensor<2>,
        coef: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> (Vec<f64>, Vec<Option<Tensor<1>>>);
    /// `p <- p - lr * g` with gradients from [`DynNetwork::weighted_grads`].
    fn apply(&mut self, grads: Vec<Option<Tensor<1>>>, lr: f64);
    /// Per-example gradients `G_p` (`[n, size_p]`, one row per example) of every parameter `p`
    /// (frozen ones too, with `all`; otherwise `None` for them): one backward pass per example.
    fn per_example_grads(&self, x: Tensor<2>, all: bool) -> Vec<Option<Tensor<2>>>;
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn DynNetwork>;
}

/// The module on `device`'s autodiff twin, with its trained parameters tracked.
fn tracked<N: Network>(net: &N, device: &Device) -> N {
    net.clone().fork(&device.clone().autodiff()).train()
}

/// The device of a module's first parameter.
fn device_of<N: Network>(net: &N) -> Device {
    net.devices().into_iter().next().expect("a network has at least one parameter")
}

impl<N: Network> DynNetwork for N {
    fn output(&self, x: Tensor<2>) -> Tensor<2> {
        Network::forward(&self.valid(), x)
    }

    fn names(&self) -> Vec<String> {
        self.param_names()
    }

    fn trained(&self) -> Vec<bool> {
        // Read on the autodiff twin: a plain tensor never requires gradients.
        let mut flags = Tracked::default();
        tracked(self, &device_of(self)).visit(&mut flags);
        flags.0
    }

    fn host_params(&self) -> Vec<HostParam> {
        let mut v = Flatten::default();
        self.valid().visit(&mut v);
        v.out
            .into_iter()
            .zip(v.shapes)
            .map(|(t, shape)| {
                let n = t.shape().num_elements();
                HostParam { shape, values: to_host(t.reshape([1, n])) }
            })
            .collect()
    }

    fn set_params(&mut self, values: Vec<Tensor<1>>) {
        let mut r = Replace { values: values.into_iter() };
        *self = self.clone().map(&mut r);
    }

    fn weighted_grads(
        &self,
        x: Tensor<2>,
        coef: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> (Vec<f64>, Vec<Option<Tensor<1>>>) {
        let device = device_of(self);
        let ad = tracked(self, &device);
        let f = Network::forward(&ad, x.autodiff());
        let f_host = to_host(f.clone().without_autodiff());
        let c = coef(&f_host);
        let n = c.len();
        let c = Tensor::<1>::from_data(burn::tensor::TensorData::new(c, [n]), (&device, f.dtype()))
            .reshape([n, 1])
            .autodiff();
        let grads = (f * c).sum().backward();
        let mut g = Grads { grads: &grads, out: Vec::new() };
        ad.visit(&mut g);
        (f_host, g.out)
    }

    fn apply(&mut self, grads: Vec<Option<Tensor<1>>>, lr: f64) {
        let mut u = Update { grads: grads.into_iter(), lr };
        *self = self.clone().map(&mut u);
    }

    fn per_example_grads(&self, x: Tensor<2>, all: bool) -> Vec<Option<Tensor<2>>> {
        let device = device_of(self);
        let net = if all { self.clone().set_require_grad(true) } else { self.clone() };
        let ad = tracked(&net, &device);
        let n = x.shape().dims::<2>()[0];
        let mut rows: Vec<Vec<Option<Tensor<1>>>> = Vec::new();
        for i in 0..n {
            let f = Network::forward(&ad, x.clone().narrow(0, i, 1).autodiff());
            let grads = f.sum().backward();
            let mut g = Grads { grads: &grads, out: Vec::new() };
            ad.visit(&mut g);
            rows.push(g.out);
        }
        let params = rows.first().map_or(0, |r| r.len());
        (0..params)
            .map(|p| {
                let per: Option<Vec<Tensor<2>>> =
                    rows.iter_mut().map(|r| r[p].take().map(|g| g.unsqueeze_dim::<2>(0))).collect();
                per.map(|v| Tensor::cat(v, 0))
            })
            .collect()
    }

    fn clone_box(&self) -> Box<dyn DynNetwork> {
        Box::new(self.clone())
    }
}
