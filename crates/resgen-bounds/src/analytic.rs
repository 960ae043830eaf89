//! The infinite-width kernels of resgen's networks from their configs: the recursions live in
//! the Burn-free [`resgen_kernels::analytic`] (re-exported here, with their derivation); this
//! module maps a [`ModelConfig`] onto its [`Spec`] and adds the infinite-width forward pass.

pub use resgen_kernels::analytic::*;

use crate::{BoundsError, Gram};
use resgen_models::{Arch, BRANCH_OUT_VARIANCE, Branch, ModelConfig, ResidualVariance};

/// The analytic kernels' description of a config's network; an error for options the
/// recursion does not cover.
pub fn spec(cfg: &ModelConfig) -> Result<Spec, BoundsError> {
    let depth = cfg.depth;
    let v = match cfg.residual_variance {
        ResidualVariance::TwoOverM => 2.0,
        ResidualVariance::OneOverM => 1.0,
    };
    Ok(match (cfg.arch, cfg.branch) {
        (Arch::Fc, _) => Spec::Fc { depth },
        (Arch::Resnet, Branch::OneLayer) => Spec::Resnet { depth, theta: cfg.theta.value(depth)?, v },
        (Arch::Resnet, Branch::TwoLayer) => {
            Spec::ResnetTwoLayer { depth, theta: cfg.theta.value(depth)?, v, u: BRANCH_OUT_VARIANCE }
        }
        (Arch::ResnetLearnedScale, _) => {
            return Err(BoundsError::Model(resgen_models::ModelError::Unsupported {
                field: "arch",
                message: "no analytic kernel for resnet-learned-scale (its empirical kernel is measured by autodiff)"
                    .into(),
            }));
        }
    })
}

/// The analytic `K / m` of either network on a data set (`n x d`, row-major), covering every
/// layer (as the empirical kernel does). Errors for options the recursion does not cover.
pub fn ntk(cfg: &ModelConfig, x: &[f64], n: usize, d: usize) -> Result<Gram, BoundsError> {
    Ok(resgen_kernels::analytic::ntk(spec(cfg)?, x, n, d))
}

/// The NNGP kernel of either network on a data set ([`resgen_kernels::analytic::nngp`]); the
/// learned-scale ResNet's outputs at initialization are the ResNet's, so it has the ResNet's.
pub fn nngp(cfg: &ModelConfig, x: &[f64], n: usize, d: usize) -> Result<Gram, BoundsError> {
    let cfg = if cfg.arch == Arch::ResnetLearnedScale {
        ModelConfig { arch: Arch::Resnet, ..cfg.clone() }
    } else {
        cfg.clone()
    };
    Ok(resgen_kernels::analytic::nngp(spec(&cfg)?, x, n, d))
}

/// The infinite-width forward pass of either network on a unit-norm input: per hidden layer
/// `l = 1..L`, the limits of `||h_l||` and of `||h_l - h_1|| / ||h_1||`.
///
/// ResNet (the recursion above, on the diagonal): `q_1 = 1`, `s_1 = 1/sqrt(pi)`,
/// `q_l = q_{l-1} + 2 theta s_{l-1} sqrt(v q_{l-1} / 2pi) + theta^2 (v/2) q_{l-1}`,
/// `s_l = s_{l-1} + theta sqrt(v q_{l-1} / 2pi)`, and `c_l = lim <h_l, h_1>`:
/// `c_1 = 1`, `c_l = c_{l-1} + theta s_1 sqrt(v q_{l-1} / 2pi)` (`h_1 >= 0` does not centre
/// `relu(W_l h_{l-1})` either), so `||h_l - h_1||^2 = q_l - 2 c_l + 1`.
/// Two-layer branches: `q_l = q_{l-1} (1 + theta^2 u v / 2)` and `c_l = 1` (`V_l` has mean
/// zero), so `||h_l - h_1||^2 = q_l - 1`.
/// FC: `q_l = 1` (He scaling) and, for `l >= 2`, `h_l = relu(W_l h_{l-1})` with `W_l`
/// independent of `h_1`, so `<h_l, h_1> -> s_1 sqrt(q_{l-1} / pi) = 1/pi` and
/// `||h_l - h_1|| -> sqrt(2 - 2/pi)`.
pub fn forward_prediction(cfg: &ModelConfig) -> Result<Vec<(f64, f64)>, BoundsError> {
    use std::f64::consts::PI;
    let depth = cfg.depth;
    let mut out = vec![(1.0, 0.0)];
    match cfg.arch {
        Arch::Fc => {
            out.extend((2..=depth).map(|_| (1.0, (2.0 - 2.0 / PI).sqrt())));
        }
        // At initialization the learned scales equal theta: the ResNet's forward pass.
        Arch::Resnet | Arch::ResnetLearnedScale => {
            let theta = cfg.theta.value(depth)?;
            let v = match cfg.residual_variance {
                ResidualVariance::TwoOverM => 2.0,
                ResidualVariance::OneOverM => 1.0,
            };
            let s1 = 1.0 / PI.sqrt();
            let (mut q, mut s, mut c) = (1.0f64, s1, 1.0f64);
            if cfg.branch == Branch::TwoLayer {
                let grow = 1.0 + theta * theta * BRANCH_OUT_VARIANCE * v / 2.0;
                for _ in 2..=depth {
                    q *= grow;
                    out.push((q.sqrt(), (q - 1.0).max(0.0).sqrt()));
                }
            }
            for _ in (2..=depth).filter(|_| cfg.branch == Branch::OneLayer) {
                let mean = (v * q / (2.0 * PI)).sqrt();
                c += theta * s1 * mean;
                q += 2.0 * theta * s * mean + theta * theta * 0.5 * v * q;
                s += theta * mean;
                out.push((q.sqrt(), (q - 2.0 * c + 1.0).max(0.0).sqrt()));
            }
        }
    }
    out.truncate(depth);
    Ok(out)
}
