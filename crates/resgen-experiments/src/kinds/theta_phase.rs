//! theta-phase: one point of the theta = L^-gamma phase diagram (the ResNet of the cell's
//! config; beyond the paper):
//! - `h_change`: mean over training points of ||h_L - h_1|| / ||h_1|| at initialization (the
//!   cell's width; 0 = depth inert, order 1 = real depth dynamics, large = explosion);
//! - from the analytic kernel on training and test points together, normalized to unit
//!   diagonal (K~_ij = K_ij / sqrt(K_ii K_jj)): `offdiag_sd`, the standard deviation of its
//!   off-diagonal training entries (0 when the kernel degenerates to a constant), and
//!   `kernel_change`, ||K~_L - K~_1||_F / ||K~_1||_F against the depth-1 kernel (0 when depth
//!   is inert);
//! - `kernel_test_error`: kernel regression with the analytic kernel, sign of
//!   K(test, train) K^-1 y on the test points;
//! - `trained_test_error`, `train_loss`: GD for the config's iterations (to its target loss),
//!   only up to depth `params.train_max_depth` (left undefined beyond), and `diverged` (1 if GD
//!   blew up).
//!
//! Values that overflow f64 (theta = 1 at large L) are left undefined.

use crate::ExperimentError;
use resgen_bounds::{analytic, predictor};
use resgen_models::to_host;
use resgen_train::StopReason;
use serde::Deserialize;

use super::params::Validate;
use super::shared::{load, names, net_at_init, relative_change, run_training, steps_work};
use super::{Context, ExperimentKind};
use crate::num::mean_sd;
use crate::record::Record;
use crate::spec::Cell;

/// theta's value at the cell's depth.
pub const THETA_VALUE: &str = "theta_value";
/// Mean `||h_L - h_1|| / ||h_1||` at initialization.
pub const H_CHANGE: &str = "h_change";
/// The sd of the normalized analytic kernel's off-diagonal training entries.
pub const OFFDIAG_SD: &str = "offdiag_sd";
/// `||K~_L - K~_1||_F / ||K~_1||_F`.
pub const KERNEL_CHANGE: &str = "kernel_change";
/// The analytic kernel regression's test error.
pub const KERNEL_TEST_ERROR: &str = "kernel_test_error";
/// The trained network's test error (up to `train_max_depth`).
pub const TRAINED_TEST_ERROR: &str = "trained_test_error";
/// Its training loss.
pub const TRAIN_LOSS: &str = "train_loss";
/// 1 if GD diverged.
pub const DIVERGED: &str = "diverged";

/// theta-phase trains up to this depth by default (`params.train_max_depth`).
pub const DEFAULT_TRAIN_MAX_DEPTH: usize = 32;

/// theta-phase's `[params]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// The largest depth that is trained.
    pub train_max_depth: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { train_max_depth: DEFAULT_TRAIN_MAX_DEPTH }
    }
}

impl Validate for Params {}

/// The theta-phase kind.
pub struct ThetaPhase;

impl ExperimentKind for ThetaPhase {
    type Params = Params;

    fn columns() -> Vec<String> {
        names(
            &[
                THETA_VALUE,
                H_CHANGE,
                OFFDIAG_SD,
                KERNEL_CHANGE,
                KERNEL_TEST_ERROR,
                TRAINED_TEST_ERROR,
                TRAIN_LOSS,
                DIVERGED,
            ],
            &[],
        )
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let (split, net) = net_at_init(cfg, ctx)?;
        let (n, d, m, nt) = (split.train.n, split.train.d, cfg.model.width, split.test.n);
        if nt == 0 {
            return Err(ExperimentError::Params(
                "theta-phase needs held-out points for the kernel regression: set data.n_test > 0".into(),
            ));
        }
        let theta = cfg.model.theta.value(cfg.model.depth)?;
        let fw = net.forward_states(net.upload(&split.train.x, n, d));
        let first = to_host(fw.hidden[0].clone());
        let last =
            to_host(fw.hidden.last().ok_or_else(|| ExperimentError::Measurement("no hidden layer".into()))?.clone());
        let h_change = last
            .chunks(m)
            .zip(first.chunks(m))
            .map(|(a, b)| {
                let diff = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
                diff / b.iter().map(|q| q * q).sum::<f64>().sqrt()
            })
            .sum::<f64>()
            / n as f64;
        // The analytic kernel on train + test points, and at depth 1.
        let all: Vec<f64> = split.train.x.iter().chain(&split.test.x).copied().collect();
        let na = n + nt;
        let k = analytic::ntk(&cfg.model, &all, na, d)?;
        let mut one = cfg.model.clone();
        one.depth = 1;
        let k1 = analytic::ntk(&one, &all, na, d)?;
        let normalize = |k: &resgen_bounds::Gram| -> Vec<f64> {
            (0..na * na)
                .map(|ij| k.data[ij] / (k.data[(ij / na) * (na + 1)] * k.data[(ij % na) * (na + 1)]).sqrt())
                .collect()
        };
        let (kn, k1n) = (normalize(&k), normalize(&k1));
        let off: Vec<f64> = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| kn[i * na + j])
            .collect();
        let offdiag_sd = mean_sd(&off).1.unwrap_or(f64::NAN);
        let kernel_change = relative_change(&kn, &k1n);
        // Kernel regression with the (unnormalized) analytic kernel.
        let (ktr, kcross) = predictor::split_kernel(&k, n);
        let kernel_test_error = predictor::kernel_regression(&ktr, &kcross, &split.train.y)
            .map_or(f64::NAN, |f| resgen_train::margin_stats(&f, &split.test.y).2);
        let mut r = Record::new(&[])
            .with(THETA_VALUE, theta)
            .with(H_CHANGE, h_change)
            .with(OFFDIAG_SD, offdiag_sd)
            .with(KERNEL_CHANGE, kernel_change)
            .with(KERNEL_TEST_ERROR, kernel_test_error);
        if cfg.model.depth <= p.train_max_depth {
            // A diverging run (theta = 1 at depth) is a measurement here, not a failed cell.
            let (_, rows, stop) = run_training(cfg, load(cfg)?, ctx.backend)?;
            let diverged = matches!(stop, StopReason::Diverged(_));
            let last = rows.last().filter(|_| !diverged);
            r = r
                .with(TRAINED_TEST_ERROR, last.map_or(f64::NAN, |l| l.test_error))
                .with(TRAIN_LOSS, last.map_or(f64::NAN, |l| l.train_loss))
                .with(DIVERGED, f64::from(u8::from(diverged)));
        } else {
            r = r.with(TRAINED_TEST_ERROR, f64::NAN).with(TRAIN_LOSS, f64::NAN).with(DIVERGED, f64::NAN);
        }
        Ok(vec![r])
    }

    fn work(cell: &Cell, p: &Params) -> (u64, f64) {
        let trained = cell.config.model.depth <= p.train_max_depth;
        steps_work(&cell.config, if trained { cell.config.train.iterations as u64 } else { 0 })
    }
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    use resgen_stats::Paired;
    let t = Table::main(r, "theta-phase", &ThetaPhase::columns())?;
    let c = Cells::load(r, "theta-phase", &ThetaPhase::columns())?;
    let at = |branch: &'static str| {
        let t = &t;
        move |theta: &str, depth: &str, col: &str| t.get(&[(BRANCH, branch), (THETA, theta), (DEPTH, depth)], col)
    };
    let seeds_at = |branch: &'static str| {
        let c = &c;
        move |theta: &str, depth: &str, col: &str| c.seeds(&[(BRANCH, branch), (THETA, theta), (DEPTH, depth)], col)
    };
    let (v, w) = (at("one-layer"), at("two-layer"));
    let (vs, ws) = (seeds_at("one-layer"), seeds_at("two-layer"));
    // An interval inside (-x, x): no change beyond x.
    let within = |p: Option<Paired>, x: f64| p.is_some_and(|p| p.seeds >= 2 && p.diff.lo > -x && p.diff.hi < x);
    let mean_above = |vals: Vec<(u64, f64)>, x: f64| {
        let v: Vec<f64> = vals.into_iter().map(|p| p.1).collect();
        v.len() >= 2 && mean_interval(&v).is_some_and(|i| i.lo > x)
    };
    // One-layer: degeneration at gamma = 0 by L = 256; a depth limit at theta = 1/L from L = 64
    // to 1024.
    let flat = paired_ratio(&vs("1", "256", OFFDIAG_SD)?, &vs("1/L", "256", OFFDIAG_SD)?);
    let degenerate = mean_above(vs("1", "256", KERNEL_TEST_ERROR)?, rule.num("chance_error_min")?)
        && below(flat, rule.num("degenerate_spread_max")?.ln());
    let (k64, k1024) = (v("1/L", "64", KERNEL_CHANGE)?, v("1/L", "1024", KERNEL_CHANGE)?);
    let (h64, h1024) = (v("1/L", "64", H_CHANGE)?, v("1/L", "1024", H_CHANGE)?);
    let dk = paired_diff(&vs("1/L", "1024", KERNEL_CHANGE)?, &vs("1/L", "64", KERNEL_CHANGE)?);
    let dh = paired_diff(&vs("1/L", "1024", H_CHANGE)?, &vs("1/L", "64", H_CHANGE)?);
    let limit = within(dk, rule.num("limit_kernel_drift_max")?)
        && mean_above(vs("1/L", "1024", KERNEL_CHANGE)?, rule.num("limit_kernel_change_min")?)
        && within(dh, rule.num("limit_h_drift_max")? * h64);
    // Two-layer (centred): the depth limit moves to 1/sqrt(L), and 1/L makes depth inert.
    let (s64, s1024) = (w("1/sqrt(L)", "64", KERNEL_CHANGE)?, w("1/sqrt(L)", "1024", KERNEL_CHANGE)?);
    let (i64_, i1024) = (w("1/L", "64", KERNEL_CHANGE)?, w("1/L", "1024", KERNEL_CHANGE)?);
    let ds = paired_diff(&ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?, &ws("1/sqrt(L)", "64", KERNEL_CHANGE)?);
    let di = paired_ratio(&ws("1/L", "1024", KERNEL_CHANGE)?, &ws("1/L", "64", KERNEL_CHANGE)?);
    let inert = paired_ratio(&ws("1/L", "1024", KERNEL_CHANGE)?, &ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?);
    // (Its limit kernel is close to the depth-1 kernel, about 0.09 away at m = 128 on MNIST, so
    // "not inert" is judged against 1/L's, which keeps shrinking.)
    let centred = within(ds, rule.num("centred_drift_max")? * s64)
        && mean_above(ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?, rule.num("centred_kernel_change_min")?)
        && below(di, 0.0)
        && below(inert, rule.num("inert_ratio_max")?.ln());
    Ok(Claim::new(
        "Residual scaling phases (beyond the paper)",
        "theta-phase",
        "theta = L^-gamma: small gamma degenerates as L grows (normalized kernel to a constant, kernel predictions to chance); the one-layer branch has its depth limit at theta = 1/L, the centred two-layer branch at 1/sqrt(L), where 1/L makes depth inert",
        format!(
            "one-layer, kernel-regression test error at L = 256: theta = 1 {}, L^-0.25 {}, 1/sqrt(L) {}, 1/L {}; off-diagonal spread of the normalized kernel at L = 256, theta = 1 over 1/L: {}; theta = 1/L from L = 64 to 1024: ||K~_L - K~_1|| / ||K~_1|| {} to {} (change {}), ||h_L - h_1|| / ||h_1|| {} to {} (change {}). Two-layer, L = 64 to 1024: kernel change at 1/sqrt(L) {} to {} (change {}), at 1/L {} to {} (ratio {}); 1/L over 1/sqrt(L) at L = 1024: {}; test error at L = 256, theta = 1: {}. 95% intervals over seeds; the rule's thresholds are in experiments/theta-phase.toml, [verdict]",
            mean_text(&vs("1", "256", KERNEL_TEST_ERROR)?.into_iter().map(|p| p.1).collect::<Vec<_>>()),
            g(v("L^-0.25", "256", KERNEL_TEST_ERROR)?),
            g(v("1/sqrt(L)", "256", KERNEL_TEST_ERROR)?),
            g(v("1/L", "256", KERNEL_TEST_ERROR)?),
            ratio_text(flat),
            g(k64),
            g(k1024),
            diff_text(dk),
            g(h64),
            g(h1024),
            diff_text(dh),
            g(s64),
            g(s1024),
            diff_text(ds),
            g(i64_),
            g(i1024),
            ratio_text(di),
            ratio_text(inert),
            g(w("1", "256", KERNEL_TEST_ERROR)?)
        ),
        Verdict::of(degenerate && limit && centred),
    ))
}
