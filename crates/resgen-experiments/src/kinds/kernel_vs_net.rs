//! kernel-vs-net: the trained network against its kernel predictors, at the same iteration and
//! step size (beyond the paper).
//!
//! GD for the config's iterations (or to its target loss; `steps` says how many), then the
//! linearized network run for the same `steps` at the same `eta` in function space with the
//! empirical NTK at `W0` over the trained layers ([`predictor::linearized_gd`]), and kernel
//! regression on the labels with the analytic NTK (the infinite-width baseline). Per cell:
//! - `rmse_test`, `disagree_test`: root mean squared difference of the network's and the
//!   linearized network's test outputs, and the fraction of test points whose signs differ;
//!   `rmse_train` likewise on the training points;
//! - `rel_rmse_test`: `rmse_test` over the root mean square of the network's own output
//!   change on the test points, `f_T - f_0` (how much of the learned function the
//!   linearization misses);
//! - `net_test_error`, `lin_test_error`, `krr_test_error` and `krr_disagree_test` (the analytic
//!   kernel regression's sign disagreement with the network);
//! - `steps`, `eta`, `train_loss`.

use crate::ExperimentError;
use resgen_bounds::{analytic, predictor};
use resgen_models::{Net, Precision};

use super::shared::{names, steps_work, train};
use super::{Context, ExperimentKind, NoParams};
use crate::record::Record;
use crate::spec::Cell;

/// RMS difference of the network's and the linearized network's test outputs.
pub const RMSE_TEST: &str = "rmse_test";
/// The same over the RMS of the network's own output change on the test points.
pub const REL_RMSE_TEST: &str = "rel_rmse_test";
/// The fraction of test points whose signs differ.
pub const DISAGREE_TEST: &str = "disagree_test";
/// RMS difference on the training points.
pub const RMSE_TRAIN: &str = "rmse_train";
/// The trained network's test error.
pub const NET_TEST_ERROR: &str = "net_test_error";
/// The linearized network's test error.
pub const LIN_TEST_ERROR: &str = "lin_test_error";
/// The analytic-NTK kernel regression's test error.
pub const KRR_TEST_ERROR: &str = "krr_test_error";
/// Its sign disagreement with the network on the test points.
pub const KRR_DISAGREE_TEST: &str = "krr_disagree_test";
/// GD steps taken.
pub const STEPS: &str = "steps";
/// The step size.
pub const ETA: &str = "eta";
/// The final training loss.
pub const TRAIN_LOSS: &str = "train_loss";

/// The kernel-vs-net kind.
pub struct KernelVsNet;

impl ExperimentKind for KernelVsNet {
    type Params = NoParams;

    fn columns() -> Vec<String> {
        names(
            &[
                RMSE_TEST,
                REL_RMSE_TEST,
                DISAGREE_TEST,
                RMSE_TRAIN,
                NET_TEST_ERROR,
                LIN_TEST_ERROR,
                KRR_TEST_ERROR,
                KRR_DISAGREE_TEST,
                STEPS,
                ETA,
                TRAIN_LOSS,
            ],
            &[],
        )
    }

    fn measure(cell: &Cell, _: &NoParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let kdev = ctx.kernel_device()?;
        let (trainer, rows) = train(cfg, ctx.backend)?;
        let last = rows.last().ok_or_else(|| ExperimentError::Measurement("training logged no row".into()))?;
        let split = trainer.split().clone();
        let (n, d, nt) = (split.train.n, split.train.d, split.test.n);
        if nt == 0 {
            return Err(ExperimentError::Params("kernel-vs-net compares test outputs: set data.n_test > 0".into()));
        }
        let w0 = trainer.w0.host_weights();
        let net0 = Net::from_host(&cfg.model, d, &w0, Precision::F64, kdev);
        let (k, kx) = predictor::train_and_cross_kernels(&net0, &split.train.x, n, &split.test.x, nt);
        let f0 = net0.predict(net0.upload(&split.train.x, n, d));
        let f0t = net0.predict(net0.upload(&split.test.x, nt, d));
        let steps = last.iter;
        let eta = trainer.eta();
        let (lin, lin_t) = predictor::linearized_gd(&k, &kx, &split.train.y, (&f0, &f0t), eta, steps)
            .map_err(|step| resgen_reports::ReportError::LinearizedDiverged { step, eta })?;
        let net = &trainer.net;
        let f = net.predict(net.upload(&split.train.x, n, d));
        let ft = net.predict(net.upload(&split.test.x, nt, d));
        let (rmse_train, _) = predictor::agreement(&f, &lin);
        let (rmse_test, disagree_test) = predictor::agreement(&ft, &lin_t);
        let (moved, _) = predictor::agreement(&ft, &f0t);
        // The infinite-width baseline: kernel regression with the analytic NTK.
        let all: Vec<f64> = split.train.x.iter().chain(&split.test.x).copied().collect();
        let ka = analytic::ntk(&cfg.model, &all, n + nt, d)?;
        let (ka_train, ka_cross) = predictor::split_kernel(&ka, n);
        let krr = predictor::kernel_regression(&ka_train, &ka_cross, &split.train.y)?;
        let err = |f: &[f64]| resgen_train::margin_stats(f, &split.test.y).2;
        Ok(vec![
            Record::new(&[])
                .with(RMSE_TEST, rmse_test)
                .with(REL_RMSE_TEST, rmse_test / moved)
                .with(DISAGREE_TEST, disagree_test)
                .with(RMSE_TRAIN, rmse_train)
                .with(NET_TEST_ERROR, err(&ft))
                .with(LIN_TEST_ERROR, err(&lin_t))
                .with(KRR_TEST_ERROR, err(&krr))
                .with(KRR_DISAGREE_TEST, predictor::agreement(&ft, &krr).1)
                .with(STEPS, steps as f64)
                .with(ETA, eta)
                .with(TRAIN_LOSS, last.train_loss),
        ])
    }

    fn work(cell: &Cell, _: &NoParams) -> (u64, f64) {
        steps_work(&cell.config, cell.config.train.iterations as u64)
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
    use resgen_stats::Interval;
    let (exponent_max, ratio_max) = (rule.num("exponent_max")?, rule.num("ratio_max")?);
    let t = Table::main(r, "kernel-vs-net", &KernelVsNet::columns())?;
    let c = Cells::load(r, "kernel-vs-net", &KernelVsNet::columns())?;
    let widths = t.sorted_nums(WIDTH)?;
    let (w_lo, w_hi, l_hi) = (&widths[0], &widths[widths.len() - 1], t.max_num(DEPTH)?);
    let v = |a: &str, d: &str, w: &str, col: &str| t.get(&[(ARCH, a), (DEPTH, d), (WIDTH, w)], col);
    // The exponent of rmse_test in m, with its interval over seeds, per network and depth.
    let slope = |a: &str, d: &str| -> Result<Option<Interval>, ExperimentError> {
        Ok(log_slope(&width_points(&c, &widths, &[(ARCH, a), (DEPTH, d)], RMSE_TEST)?))
    };
    let mut falls = true;
    for a in [RESNET, FC] {
        for d in t.values(DEPTH)? {
            falls &= slope(a, &d)?.is_some_and(|s| s.hi < exponent_max);
        }
    }
    let at_hi = |a: &str| c.seeds(&[(ARCH, a), (DEPTH, &l_hi), (WIDTH, w_hi)], RMSE_TEST);
    let closer = paired_ratio(&at_hi(RESNET)?, &at_hi(FC)?);
    Ok(Claim::new(
        "Network vs its linearization (beyond the paper)",
        "kernel-vs-net",
        "after the same GD steps, the network's test outputs approach the linearized network's as m grows (exponent about -1/2 or steeper); the ResNet's closer than FC's",
        format!(
            "at L = {l_hi}, m = {w_lo} to {w_hi}: RMS output difference ResNet {} to {} (exponent in m {}), FC {} to {} (exponent {}); ResNet over FC at m = {w_hi}: {}; sign disagreement at m = {w_hi}: ResNet {}, FC {}; analytic-NTK kernel regression test error {} (ResNet) vs trained {}; 95% intervals over seeds (rule: every network's and depth's exponent interval below 0, the ratio's below 1 with every seed agreeing)",
            g(v(RESNET, &l_hi, w_lo, RMSE_TEST)?),
            g(v(RESNET, &l_hi, w_hi, RMSE_TEST)?),
            slope_text(slope(RESNET, &l_hi)?),
            g(v(FC, &l_hi, w_lo, RMSE_TEST)?),
            g(v(FC, &l_hi, w_hi, RMSE_TEST)?),
            slope_text(slope(FC, &l_hi)?),
            ratio_text(closer),
            g(v(RESNET, &l_hi, w_hi, DISAGREE_TEST)?),
            g(v(FC, &l_hi, w_hi, DISAGREE_TEST)?),
            g(v(RESNET, &l_hi, w_hi, KRR_TEST_ERROR)?),
            g(v(RESNET, &l_hi, w_hi, NET_TEST_ERROR)?)
        ),
        Verdict::of(falls && below(closer, ratio_max.ln())),
    ))
}
