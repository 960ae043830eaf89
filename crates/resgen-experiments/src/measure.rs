//! The measurement of each experiment kind on one cell: what the claim's table needs.
//!
//! Each returns records (key columns, value columns); the merge step aggregates them over
//! seeds. Kernel quantities are computed in f64 on a CPU (or CUDA) device; training runs on the
//! selected backend in the config's precision.

use std::path::Path;

use resgen_bounds::formulas::BoundConstants;
use resgen_bounds::report::{QP_MAX_SWEEPS, RAD_SAMPLES, SOLVER_LIMITS, kernel_device, radius_grid};
use resgen_bounds::{analytic, evaluate, features, formulas, linalg, ntk, predictor, qp, rademacher};
use resgen_data::Split;
use resgen_models::{BackendKind, Net, Precision, to_host};
use resgen_train::{RunConfig, StopReason, Trainer};
use serde::Deserialize;

use crate::num::mean_sd;
pub use crate::record::Record;
use crate::record::{key, key_number};
use crate::spec::{Cell, Kind};

fn param<T: for<'de> Deserialize<'de>>(cell: &Cell, name: &str, default: T) -> Result<T, String> {
    match cell.params.get(name) {
        None => Ok(default),
        Some(v) => v.clone().try_into().map_err(|e| format!("params.{name}: {e}")),
    }
}

/// A number parameter; TOML integers (`c_eps = 2`) are accepted as numbers.
fn param_f64(cell: &Cell, name: &str, default: f64) -> Result<f64, String> {
    match cell.params.get(name) {
        None => Ok(default),
        Some(toml::Value::Integer(i)) => Ok(*i as f64),
        Some(toml::Value::Float(f)) => Ok(*f),
        Some(other) => Err(format!("params.{name}: expected a number, found {other}")),
    }
}

/// Parameter defaults shared with the work estimate (`estimate.rs`), so the two cannot drift:
/// theta-phase trains up to this depth; a matched-loss view trains at most this many steps;
/// min-width's search tries widths from `DEFAULT_MIN_WIDTH` to `DEFAULT_MAX_WIDTH`, each for at
/// most `DEFAULT_WIDTH_SEARCH_BUDGET` steps.
pub const DEFAULT_TRAIN_MAX_DEPTH: usize = 32;
pub const DEFAULT_MATCHED_BUDGET: usize = 5000;
pub const DEFAULT_WIDTH_SEARCH_BUDGET: usize = 500;
pub const DEFAULT_MIN_WIDTH: usize = 8;
pub const DEFAULT_MAX_WIDTH: usize = 2048;

fn check_params(cell: &Cell, known: &[&str]) -> Result<(), String> {
    for k in cell.params.keys() {
        if !known.contains(&k.as_str()) {
            return Err(format!(
                "params.{k}: unknown parameter for kind {} (known: {})",
                cell.kind.name(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ));
        }
    }
    Ok(())
}

/// Runs the cell's measurement. `dir` is its folder (the generalization kind keeps its
/// training run there).
pub fn measure(cell: &Cell, backend: BackendKind, dir: &Path) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    match cell.kind {
        Kind::ForwardScale => {
            check_params(cell, &[])?;
            forward_scale(cfg, backend)
        }
        Kind::GradFeatures => {
            check_params(cell, &[])?;
            grad_features(cfg, backend)
        }
        Kind::GdDynamics => {
            check_params(cell, &[])?;
            gd_dynamics(cfg, backend)
        }
        Kind::DistanceFromInit => {
            check_params(cell, &VIEW_PARAMS)?;
            distance_from_init(cell, backend)
        }
        Kind::Linearization => {
            check_params(cell, &VIEW_PARAMS)?;
            linearization(cell, backend)
        }
        Kind::MinWidth => min_width(cell, backend),
        Kind::Rademacher => {
            check_params(cell, &["radius", "samples", "trained_radius", "target_loss", "max_iterations"])?;
            rademacher_table(cell, backend)
        }
        Kind::NtkComplexity => {
            check_params(cell, &with_constants(&["analytic"]))?;
            ntk_complexity(cell, backend)
        }
        Kind::KernelMotion => {
            check_params(cell, &VIEW_PARAMS)?;
            kernel_motion(cell, backend)
        }
        Kind::KernelVsNet => {
            check_params(cell, &[])?;
            kernel_vs_net(cfg, backend)
        }
        Kind::ThetaPhase => {
            check_params(cell, &["train_max_depth"])?;
            let train_max: usize = param(cell, "train_max_depth", DEFAULT_TRAIN_MAX_DEPTH)?;
            theta_phase(cfg, backend, train_max)
        }
        Kind::NtkFluctuation => {
            check_params(cell, &["inits"])?;
            let inits: usize = param(cell, "inits", 30)?;
            ntk_fluctuation(cfg, backend, inits)
        }
        Kind::NtrfBound => {
            check_params(cell, &with_constants(&["rad_samples"]))?;
            ntrf_bound(cell, backend)
        }
        Kind::Generalization | Kind::LabelNoise => {
            check_params(cell, &with_constants(&[]))?;
            generalization(cell, backend, dir)
        }
    }
}

/// gd-dynamics: the logged training curve, one record per logged iteration.
fn gd_dynamics(cfg: &RunConfig, backend: BackendKind) -> Result<Vec<Record>, String> {
    let (_, rows) = train(cfg, backend)?;
    Ok(rows
        .iter()
        .map(|r| {
            Record::new(&[key("iter", r.iter)])
                .with("train_loss", r.train_loss)
                .with("train_surrogate", r.train_surrogate)
                .with("train_error", r.train_error)
                .with("test_error", r.test_error)
                .with("dist_max_scaled", r.radius(cfg.model.width))
        })
        .collect())
}

/// distance-from-init: per-layer `sqrt(m) ||W_l - W0_l||_F` and their max, per view (fixed
/// steps, matched loss).
fn distance_from_init(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let sm = (cfg.model.width as f64).sqrt();
    let mut out = Vec::new();
    for v in train_views(cell, backend, true)?.1 {
        let last = &v.last;
        for (l, d) in last.dist.iter().enumerate() {
            out.push(Record::new(&[key("view", v.name), key("layer", l + 1)]).with("dist_scaled", sm * d));
        }
        out.push(
            Record::new(&[key("view", v.name), key("layer", "max")])
                .with("dist_scaled", last.radius(cfg.model.width))
                .with_all(v.progress()),
        );
    }
    Ok(out)
}

/// linearization: the gap between the trained network and its linearization at W0, on the
/// training and the held-out points, per view.
fn linearization(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let kdev = kernel_device(backend)?;
    let mut out = Vec::new();
    let (split, views) = train_views(cell, backend, true)?;
    let (n, d) = (split.train.n, split.train.d);
    let net0 = Net::init(&cfg.model, d, Precision::F64, &kdev)?;
    for v in views {
        let w = &v.weights;
        let (max, mean) = features::linearization_error(&net0, w, &split.train.x, n);
        let (test_max, _) = if split.test.n > 0 {
            features::linearization_error(&net0, w, &split.test.x, split.test.n)
        } else {
            (f64::NAN, f64::NAN)
        };
        out.push(
            Record::new(&[key("view", v.name)])
                .with("eps_lin_max", max)
                .with("eps_lin_mean", mean)
                .with("eps_lin_test_max", test_max)
                .with_all(v.progress()),
        );
    }
    Ok(out)
}

/// rademacher: the complexity of the linearized ball per layer and in total at `params.radius`
/// (closed form and Monte Carlo), and with `trained_radius` at the radius GD reaches.
fn rademacher_table(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let radius: f64 = param(cell, "radius", 1.0)?;
    let samples: usize = param(cell, "samples", 200)?;
    let (_, k, _) = init_kernels(cfg, backend)?;
    let r = rademacher::rademacher(&k.per_layer, radius, cfg.model.width, samples, cfg.data.seed);
    let mut out: Vec<Record> = (0..k.per_layer.len())
        .map(|l| {
            Record::new(&[key("layer", l + 1)])
                .with("closed_form", r.bound_per_layer[l])
                .with("monte_carlo", r.mc_per_layer[l])
        })
        .collect();
    out.push(
        Record::new(&[key("layer", "total")])
            .with("closed_form", r.bound)
            .with("monte_carlo", r.mc)
            .with("mc_stderr", r.mc_stderr),
    );
    // The same terms at the radius GD actually reaches (trained to the matched target
    // loss): R = sqrt(m) max_l ||W_l - W0_l||_F. Rad is linear in R.
    if param(cell, "trained_radius", false)? {
        let v = train_views(cell, backend, false)?.1.remove(0);
        let rt = v.last.radius(cfg.model.width);
        let s = rt / radius;
        out.push(
            Record::new(&[key("layer", "total-at-trained-R")])
                .with("closed_form", s * r.bound)
                .with("monte_carlo", s * r.mc)
                .with("mc_stderr", s * r.mc_stderr)
                .with("trained_radius", rt)
                .with_all(v.progress()),
        );
    }
    Ok(out)
}

/// ntk-complexity: spectrum, `sqrt(y^T K^-1 y / n)`, its infimum over relabelings and the
/// Cao-Gu corollary, for the empirical and (optionally) the analytic kernel.
fn ntk_complexity(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let with_analytic: bool = param(cell, "analytic", true)?;
    let constants = bound_constants(cell)?;
    let (split, k, _) = init_kernels(cfg, backend)?;
    let (n, d) = (split.train.n, split.train.d);
    let mut kernels = vec![("empirical", k.normalized())];
    if with_analytic {
        kernels.push(("analytic", analytic::ntk(&cfg.model, &split.train.x, n, d)?));
    }
    let cg_depth = formulas::cao_gu_depth(cfg.model.depth);
    kernels
        .into_iter()
        .map(|(name, kern)| {
            let s = linalg::kernel_stats(&kern, &split.train.y)?;
            let inf = qp::infimum_relabeling(&kern, &split.train.y, 1e-9, QP_MAX_SWEEPS)?;
            Ok(Record::new(&[key("kernel", name), key("constants", constants.describe())])
                .with("lambda_min", s.lambda_min)
                .with("condition", s.condition)
                .with("complexity", s.complexity)
                .with("complexity_inf", inf.complexity())
                .with("qp_duality_gap", inf.gap)
                .with("cao_gu_ntk_bound", formulas::cao_gu_ntk(s.complexity, cg_depth, n, &constants))
                .with("cao_gu_ntk_inf_bound", formulas::cao_gu_ntk(inf.complexity(), cg_depth, n, &constants))
                .with("ridge", s.ridge))
        })
        .collect()
}

/// ntrf-bound: eps_NTRF over the radius grid with every bound formula, and each formula
/// minimized over R on its own (`radius = best`).
fn ntrf_bound(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let constants = bound_constants(cell)?;
    let samples: usize = param(cell, "rad_samples", RAD_SAMPLES)?;
    let (split, k, f0) = init_kernels(cfg, backend)?;
    let eval = evaluate::eps_ntrf_bounds(
        &k.per_layer,
        &f0,
        &split.train.y,
        cfg.model.width,
        cfg.model.depth,
        &radius_grid(),
        SOLVER_LIMITS,
        &constants,
        samples,
        cfg.data.seed,
    );
    let c = constants.describe();
    let mut out: Vec<Record> = eval
        .rows
        .iter()
        .map(|row| {
            let s = &row.solution;
            let mut r = Record::new(&[key("radius", key_number(s.radius)), key("constants", c.clone())])
                .with("eps_ntrf", s.loss)
                .with("kkt_residual", s.kkt_residual)
                .with("duality_gap", s.gap)
                .with("rad_mc", row.rad_mc)
                .with("rad_mc_stderr", row.rad_mc_stderr)
                .with("rad_cf", row.rad_cf);
            for (f, b) in evaluate::FORMULAS.iter().zip(&row.bounds) {
                r = r.with(&format!("bound_{f}"), *b);
            }
            r
        })
        .collect();
    // "best": each formula minimized over R on its own, with its own r_star.
    let mut best = Record::new(&[key("radius", "best"), key("constants", c)]);
    for b in &eval.best {
        best = best.with(&format!("bound_{}", b.formula), b.value).with(&format!("r_star_{}", b.formula), b.r_star);
    }
    out.push(best);
    Ok(out)
}

/// generalization and label-noise: a full training run in the folder of the cell and its bounds
/// report; label-noise adds the steps to the target loss and the analytic NTK complexity.
fn generalization(cell: &Cell, backend: BackendKind, dir: &Path) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let constants = bound_constants(cell)?;
    let run_dir = dir.join("run");
    let opts = resgen_train::RunOptions { backend, out: Some(run_dir.clone()), quiet: true, name: "cell".into() };
    let outcome = resgen_train::train_run(cfg, &opts)?;
    if let StopReason::Diverged(e) = outcome.stop {
        return Err(e.to_string());
    }
    let values = resgen_bounds::report::bounds_report(&run_dir, backend, &constants)?;
    let mut r = Record::new(&[key("constants", constants.describe())]);
    for (k, v) in &values {
        if !matches!(k.as_str(), "n" | "width" | "depth_L") {
            r = r.with(k, *v);
        }
    }
    if cell.kind == Kind::LabelNoise {
        // Steps to the target training loss (the budget if not reached), and the
        // analytic (infinite-width) NTK complexity on the same noisy training labels.
        let last = outcome.rows.last().ok_or("training logged nothing")?;
        r = r
            .with("steps", last.iter as f64)
            .with("reached", f64::from(u8::from(outcome.stop == StopReason::TargetLoss)));
        let split = load(cfg)?;
        let (n, d) = (split.train.n, split.train.d);
        let a = analytic::ntk(&cfg.model, &split.train.x, n, d)?;
        r = r.with("analytic_sqrt_yKinvy_over_n", linalg::ntk_complexity(&a, &split.train.y)?);
    }
    Ok(vec![r])
}

/// The bound constants a kind accepts as parameters, beside its own.
fn with_constants<'a>(own: &[&'a str]) -> Vec<&'a str> {
    let mut v = own.to_vec();
    v.extend(["delta", "c_eps", "c_radius", "c_conf", "c_ntk"]);
    v
}

/// The cell's bound constants: `[params]` `delta`, `c_eps`, `c_radius`, `c_conf`, `c_ntk`
/// (defaults of [`BoundConstants`]).
fn bound_constants(cell: &Cell) -> Result<BoundConstants, String> {
    let d = BoundConstants::default();
    let k = BoundConstants {
        delta: param_f64(cell, "delta", d.delta)?,
        c_eps: param_f64(cell, "c_eps", d.c_eps)?,
        c_radius: param_f64(cell, "c_radius", d.c_radius)?,
        c_conf: param_f64(cell, "c_conf", d.c_conf)?,
        c_ntk: param_f64(cell, "c_ntk", d.c_ntk)?,
    };
    k.validate().map_err(|e| format!("params.{e}"))?;
    Ok(k)
}

fn load(cfg: &RunConfig) -> Result<Split, String> {
    resgen_data::load(&cfg.data).map_err(|e| e.to_string())
}

/// Trains `cfg` on `split` to the end of its budget: the trainer, its logged rows, and why it
/// stopped.
fn run_training(
    cfg: &RunConfig,
    split: Split,
    backend: BackendKind,
) -> Result<(Trainer, Vec<resgen_train::Metrics>, StopReason), String> {
    let device = backend.checked_device(cfg.train.precision).map_err(|e| e.to_string())?;
    let mut t = Trainer::new(cfg, split, &device)?;
    t.set_device_loss(!backend.is_cpu());
    let (rows, stop) = t.train(|_, _| {});
    Ok((t, rows, stop))
}

/// Trains the cell's run to the end; a diverging run is an error.
fn train(cfg: &RunConfig, backend: BackendKind) -> Result<(Trainer, Vec<resgen_train::Metrics>), String> {
    let (t, rows, stop) = run_training(cfg, load(cfg)?, backend)?;
    if let StopReason::Diverged(e) = stop {
        return Err(e.to_string());
    }
    Ok((t, rows))
}

/// Parameters of the kinds that compare a fixed number of steps with a matched training loss.
const VIEW_PARAMS: [&str; 2] = ["target_loss", "max_iterations"];

/// A trained network seen at one stopping rule.
struct View {
    /// `fixed-steps` (the config's `train.iterations`) or `matched-loss` (trained until the
    /// training loss reaches `params.target_loss`, at most `params.max_iterations` steps).
    name: &'static str,
    /// The weights at that point (host, per layer).
    weights: Vec<Vec<f64>>,
    last: resgen_train::Metrics,
    /// GD steps taken.
    steps: usize,
    /// 1 if the stopping rule's target was met (always 1 for the fixed view), else 0.
    reached: f64,
}

impl View {
    /// Where training stood at this view: the training loss, the steps taken, and whether
    /// the stopping rule's target was met (the last columns of every view's record).
    fn progress(&self) -> [(&'static str, f64); 3] {
        [("train_loss", self.last.train_loss), ("steps", self.steps as f64), ("reached", self.reached)]
    }
}

/// `params.target_loss` (default 0.1) and `params.max_iterations` (default 5000).
fn matched_target(cell: &Cell) -> Result<(f64, usize), String> {
    let target: f64 = param_f64(cell, "target_loss", 0.1)?;
    let budget: usize = param(cell, "max_iterations", DEFAULT_MATCHED_BUDGET)?;
    if target.is_nan() || target <= 0.0 || budget == 0 {
        return Err("params: need target_loss > 0 and max_iterations >= 1".into());
    }
    Ok((target, budget))
}

/// Continues training `t` for `steps` more GD steps (stopping early at `target`, 0 = never);
/// returns the last metrics (with `iter` counted from `offset`) and whether the target was met.
fn continue_training(
    t: &mut Trainer,
    steps: usize,
    target: f64,
    offset: usize,
) -> Result<(resgen_train::Metrics, bool), String> {
    t.cfg.train.iterations = steps;
    t.cfg.train.target_loss = target;
    t.cfg.train.log_every = steps.max(1);
    let (rows, stop) = t.train(|_, _| {});
    if let StopReason::Diverged(e) = stop {
        return Err(e.to_string());
    }
    let mut last = rows.last().ok_or("training logged nothing")?.clone();
    last.iter += offset;
    Ok((last, stop == StopReason::TargetLoss))
}

/// One GD run of the cell, seen at two stopping rules: after the config's `train.iterations`
/// steps (`fixed-steps`), and when the training loss first reaches `params.target_loss`
/// within `params.max_iterations` steps (`matched-loss`): widths and depths are then compared
/// at the same fit, not at a step count where their losses differ. GD is deterministic, so one
/// run serves both: it is checkpointed at whichever rule fires first. With `fixed = false` only
/// the matched view is returned.
fn train_views(cell: &Cell, backend: BackendKind, fixed: bool) -> Result<(Split, Vec<View>), String> {
    let (target, budget) = matched_target(cell)?;
    let cfg = &cell.config;
    let split = load(cfg)?;
    let device = backend.checked_device(cfg.train.precision).map_err(|e| e.to_string())?;
    let mut t = Trainer::new(cfg, split.clone(), &device)?;
    t.set_device_loss(!backend.is_cpu());
    let k_fixed = if fixed { cfg.train.iterations.min(budget) } else { budget };
    let view = |name, t: &Trainer, last: resgen_train::Metrics, reached: bool| View {
        name,
        weights: t.net.host_weights(),
        steps: last.iter,
        last,
        reached: if reached { 1.0 } else { 0.0 },
    };
    // Phase 1: up to the fixed step count, stopping early at the target.
    let (last, hit) = continue_training(&mut t, k_fixed, target, 0)?;
    let mut views = Vec::new();
    if hit {
        let at = last.iter;
        views.push(view("matched-loss", &t, last, true));
        if fixed {
            let (last, _) = continue_training(&mut t, k_fixed - at, 0.0, at)?;
            views.insert(0, view("fixed-steps", &t, last, true));
        }
    } else {
        let at = last.iter;
        if fixed {
            views.push(view("fixed-steps", &t, last, true));
        }
        let (last, hit) = continue_training(&mut t, budget - at, target, at)?;
        views.push(view("matched-loss", &t, last, hit));
    }
    Ok((split, views))
}

/// The cell's data and its network at W0, in f64 on the kernel device.
fn net_at_init(cfg: &RunConfig, backend: BackendKind) -> Result<(Split, Net), String> {
    let kdev = kernel_device(backend)?;
    let split = load(cfg)?;
    let net = Net::init(&cfg.model, split.train.d, Precision::F64, &kdev)?;
    Ok((split, net))
}

/// Data, the empirical NTK at W0 (f64) and the outputs `f_W0(x_i)`.
fn init_kernels(cfg: &RunConfig, backend: BackendKind) -> Result<(Split, ntk::EmpiricalNtk, Vec<f64>), String> {
    let (split, net) = net_at_init(cfg, backend)?;
    let (n, d) = (split.train.n, split.train.d);
    let k = ntk::empirical_ntk(&net, &split.train.x, n);
    let f0 = net.predict(net.upload(&split.train.x, n, d));
    Ok((split, k, f0))
}

/// Kernel motion under GD: the empirical NTK (`K = NTK / m`, training points, f64) at `W0`
/// and at the weights where the training loss first reaches `params.target_loss` (at most
/// `params.max_iterations` steps): the relative change `||K_T - K_0||_F / ||K_0||_F`, the
/// alignment of the two kernels `<K_T, K_0>_F / (||K_T||_F ||K_0||_F)`, and each kernel's
/// alignment with the labels `y^T K y / (n ||K||_F)` (1 for `K = y y^T`), with the steps taken,
/// the loss reached and the radius `sqrt(m) max_l ||W_l - W0_l||_F`.
fn kernel_motion(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    let cfg = &cell.config;
    let kdev = kernel_device(backend)?;
    let (split, mut views) = train_views(cell, backend, false)?;
    let v = views.remove(0);
    let (n, d) = (split.train.n, split.train.d);
    let net0 = Net::init(&cfg.model, d, Precision::F64, &kdev)?;
    let net_t = Net::from_host(&cfg.model, d, &v.weights, Precision::F64, &kdev);
    let k0 = ntk::empirical_ntk(&net0, &split.train.x, n).normalized();
    let kt = ntk::empirical_ntk(&net_t, &split.train.x, n).normalized();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let fro = |a: &[f64]| dot(a, a).sqrt();
    let target_alignment = |k: &resgen_bounds::Gram| k.quad(&split.train.y) / (n as f64 * fro(&k.data));
    Ok(vec![
        Record::new(&[])
            .with("kernel_change", relative_change(&kt.data, &k0.data))
            .with("kernel_alignment", dot(&kt.data, &k0.data) / (fro(&kt.data) * fro(&k0.data)))
            .with("target_alignment_init", target_alignment(&k0))
            .with("target_alignment_final", target_alignment(&kt))
            .with("trace_ratio", kt.trace() / k0.trace())
            .with("radius", v.last.radius(cfg.model.width))
            .with_all(v.progress()),
    ])
}

/// The trained network against its kernel predictors, at the same iteration and step size:
/// GD for the config's iterations (or to its target loss; `steps` says how many), then the
/// linearized network run for the same `steps` at the same `eta` in function space with the
/// empirical NTK at `W0` over the trained layers ([`predictor::linearized_gd`]), and kernel
/// regression on the labels with the analytic NTK (the infinite-width baseline). Per cell:
/// - `rmse_test`, `disagree_test`: root mean squared difference of the network's and the
///   linearized network's test outputs, and the fraction of test points whose signs differ;
///   `rmse_train` likewise on the training points;
/// - `rel_rmse_test`: `rmse_test` over the root mean square of the network's own output
///   change on the test points, `f_T - f_0` (how much of the learned function the
///   linearization misses);
/// - `net_test_error`, `lin_test_error`, `krr_test_error` and `krr_disagree_test` (the analytic
///   kernel regression's sign disagreement with the network);
/// - `steps`, `eta`, `train_loss`.
fn kernel_vs_net(cfg: &RunConfig, backend: BackendKind) -> Result<Vec<Record>, String> {
    let kdev = kernel_device(backend)?;
    let (trainer, rows) = train(cfg, backend)?;
    let last = rows.last().ok_or("training logged no row")?;
    let split = trainer.split().clone();
    let (n, d, nt) = (split.train.n, split.train.d, split.test.n);
    if nt == 0 {
        return Err("kernel-vs-net compares test outputs: set data.n_test > 0".into());
    }
    let w0: Vec<Vec<f64>> = trainer.w0.iter().map(|w| to_host(w.clone())).collect();
    let net0 = Net::from_host(&cfg.model, d, &w0, Precision::F64, &kdev);
    let (k, kx) = predictor::train_and_cross_kernels(&net0, &split.train.x, n, &split.test.x, nt);
    let f0 = net0.predict(net0.upload(&split.train.x, n, d));
    let f0t = net0.predict(net0.upload(&split.test.x, nt, d));
    let steps = last.iter;
    let eta = trainer.eta();
    let (lin, lin_t) = predictor::linearized_gd(&k, &kx, &split.train.y, (&f0, &f0t), eta, steps)
        .map_err(|s| format!("the linearized network diverged at step {s} (eta = {eta})"))?;
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
            .with("rmse_test", rmse_test)
            .with("rel_rmse_test", rmse_test / moved)
            .with("disagree_test", disagree_test)
            .with("rmse_train", rmse_train)
            .with("net_test_error", err(&ft))
            .with("lin_test_error", err(&lin_t))
            .with("krr_test_error", err(&krr))
            .with("krr_disagree_test", predictor::agreement(&ft, &krr).1)
            .with("steps", steps as f64)
            .with("eta", eta)
            .with("train_loss", last.train_loss),
    ])
}

/// One point of the theta = L^-gamma phase diagram (the ResNet of the cell's config):
/// - `h_change`: mean over training points of ||h_L - h_1|| / ||h_1|| at initialization (the
///   cell's width; 0 = depth inert, order 1 = real depth dynamics, large = explosion);
/// - from the analytic kernel on training and test points together, normalized to unit
///   diagonal (K~_ij = K_ij / sqrt(K_ii K_jj)): `offdiag_sd`, the standard deviation of its
///   off-diagonal training entries (0 when the kernel degenerates to a constant), and
///   `kernel_change`, ||K~_L - K~_1||_F / ||K~_1||_F against the depth-1 kernel (0 when depth
///   is inert);
/// - `kernel_test_error`: kernel regression with the analytic kernel, sign of
///   K(test, train) K^-1 y on the test points;
/// - `trained_test_error`, `train_loss`: GD for the config's iterations (to its target loss),
///   only up to depth `train_max` (left undefined beyond), and `diverged` (1 if GD blew up).
///
/// Values that overflow f64 (theta = 1 at large L) are left undefined.
fn theta_phase(cfg: &RunConfig, backend: BackendKind, train_max: usize) -> Result<Vec<Record>, String> {
    let (split, net) = net_at_init(cfg, backend)?;
    let (n, d, m, nt) = (split.train.n, split.train.d, cfg.model.width, split.test.n);
    if nt == 0 {
        return Err("theta-phase needs held-out points for the kernel regression: set data.n_test > 0".into());
    }
    let theta = cfg.model.theta.value(cfg.model.depth)?;
    let fw = net.forward_states(net.upload(&split.train.x, n, d));
    let first = to_host(fw.hidden[0].clone());
    let last = to_host(fw.hidden.last().ok_or("no hidden layer")?.clone());
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
        .with("theta_value", theta)
        .with("h_change", h_change)
        .with("offdiag_sd", offdiag_sd)
        .with("kernel_change", kernel_change)
        .with("kernel_test_error", kernel_test_error);
    if cfg.model.depth <= train_max {
        // A diverging run (theta = 1 at depth) is a measurement here, not a failed cell.
        let (_, rows, stop) = run_training(cfg, load(cfg)?, backend)?;
        let diverged = matches!(stop, StopReason::Diverged(_));
        let last = rows.last().filter(|_| !diverged);
        r = r
            .with("trained_test_error", last.map_or(f64::NAN, |l| l.test_error))
            .with("train_loss", last.map_or(f64::NAN, |l| l.train_loss))
            .with("diverged", f64::from(u8::from(diverged)));
    } else {
        r = r.with("trained_test_error", f64::NAN).with("train_loss", f64::NAN).with("diverged", f64::NAN);
    }
    Ok(vec![r])
}

/// Coefficient of variation (sample sd / |mean|) of samples.
fn coefficient_of_variation(xs: &[f64]) -> f64 {
    match mean_sd(xs) {
        (Some(mean), Some(sd)) => sd / mean.abs(),
        _ => f64::NAN,
    }
}

/// `||new - base||_F / ||base||_F` of two matrices stored as flat slices.
fn relative_change(new: &[f64], base: &[f64]) -> f64 {
    let diff = new.iter().zip(base).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    diff / base.iter().map(|b| b * b).sum::<f64>().sqrt()
}

/// The empirical NTK `K = NTK / m` at `inits` independent initializations on one fixed
/// training set (the cell's data seed): the coefficient of variation over initializations of
/// each diagonal entry `K(x_i, x_i)` (averaged over i), of each off-diagonal entry
/// `K(x_i, x_j)` (averaged over i < j), and of `y^T K^{-1} y`, with their means. The
/// initializations of cell seed `s` use model seeds `1_000_003 s + i`, i < inits.
fn ntk_fluctuation(cfg: &RunConfig, backend: BackendKind, inits: usize) -> Result<Vec<Record>, String> {
    if inits < 2 {
        return Err(format!("params.inits = {inits}: a coefficient of variation needs at least 2 initializations"));
    }
    let device = kernel_device(backend)?;
    let split = resgen_data::load(&cfg.data).map_err(|e| e.to_string())?;
    let (n, d) = (split.train.n, split.train.d);
    if n < 2 {
        return Err(format!("data.n_train = {n}: off-diagonal entries need at least 2 points"));
    }
    // entries[e][t]: entry e (diagonal first, then i < j) at initialization t.
    let pairs: Vec<(usize, usize)> =
        (0..n).map(|i| (i, i)).chain((0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)))).collect();
    let mut entries = vec![Vec::with_capacity(inits); pairs.len()];
    let mut yky = Vec::with_capacity(inits);
    for t in 0..inits {
        let mut model = cfg.model.clone();
        model.seed = cfg.model.seed.wrapping_mul(1_000_003).wrapping_add(t as u64);
        let net = Net::init(&model, d, Precision::F64, &device)?;
        let k = ntk::empirical_ntk(&net, &split.train.x, n).normalized();
        for (e, &(i, j)) in pairs.iter().enumerate() {
            entries[e].push(k.data[i * n + j]);
        }
        let c = linalg::ntk_complexity(&k, &split.train.y)?;
        yky.push(c * c * n as f64);
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let cvs: Vec<f64> = entries.iter().map(|xs| coefficient_of_variation(xs)).collect();
    let means: Vec<f64> = entries.iter().map(|xs| mean(xs)).collect();
    let l_over_m = cfg.model.depth as f64 / cfg.model.width as f64;
    Ok(vec![
        Record::new(&[key("l_over_m", key_number(l_over_m))])
            .with("cv_diag", mean(&cvs[..n]))
            .with("cv_offdiag", mean(&cvs[n..]))
            .with("cv_yky", coefficient_of_variation(&yky))
            .with("mean_diag", mean(&means[..n]))
            .with("mean_offdiag", mean(&means[n..]))
            .with("mean_yky", mean(&yky))
            .with("inits", inits as f64),
    ])
}

fn forward_scale(cfg: &RunConfig, backend: BackendKind) -> Result<Vec<Record>, String> {
    let (split, net) = net_at_init(cfg, backend)?;
    let (n, d, m) = (split.train.n, split.train.d, cfg.model.width);
    let fw = net.forward_states(net.upload(&split.train.x, n, d));
    let hidden: Vec<Vec<f64>> = fw.hidden.into_iter().map(to_host).collect();
    let mean_row_norm =
        |h: &[f64]| -> f64 { h.chunks(m).map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).sum::<f64>() / n as f64 };
    // ||h_l(x) - h_1(x)|| / ||h_1(x)||, averaged over examples: an identity map (depth inert)
    // gives 0, real depth dynamics a ratio of order 1, an explosion a large one.
    let mean_rel_change = |h: &[f64]| -> f64 {
        h.chunks(m)
            .zip(hidden[0].chunks(m))
            .map(|(a, b)| {
                let diff: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
                let base: f64 = b.iter().map(|q| q * q).sum();
                (diff / base.max(f64::MIN_POSITIVE)).sqrt()
            })
            .sum::<f64>()
            / n as f64
    };
    let norms: Vec<f64> = hidden.iter().map(|h| mean_row_norm(h)).collect();
    let changes: Vec<f64> = hidden.iter().map(|h| mean_rel_change(h)).collect();
    let predicted = analytic::forward_prediction(&cfg.model)?;
    let f = to_host(fw.output);
    let f_abs = f.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    let mut out: Vec<Record> = norms
        .iter()
        .enumerate()
        .map(|(l, v)| {
            Record::new(&[key("layer", l + 1)])
                .with("h_norm", *v)
                .with("h_norm_analytic", predicted[l].0)
                .with("h_change", changes[l])
                .with("h_change_analytic", predicted[l].1)
        })
        .collect();
    let last = norms.len() - 1;
    out.push(
        Record::new(&[key("layer", "last")])
            .with("h_norm", norms[last])
            .with("h_norm_analytic", predicted[last].0)
            .with("h_change", changes[last])
            .with("h_change_analytic", predicted[last].1)
            .with("f_abs", f_abs),
    );
    Ok(out)
}

fn grad_features(cfg: &RunConfig, backend: BackendKind) -> Result<Vec<Record>, String> {
    let (split, net) = net_at_init(cfg, backend)?;
    let (n, d, m) = (split.train.n, split.train.d, cfg.model.width as f64);
    let feat = features::grad_features(&net, net.upload(&split.train.x, n, d));
    let per: Vec<f64> = features::layer_grad_sq_norms(&feat)
        .iter()
        .map(|v| v.iter().map(|s| s.max(0.0).sqrt()).sum::<f64>() / n as f64 / m.sqrt())
        .collect();
    let mut out: Vec<Record> =
        per.iter().enumerate().map(|(l, v)| Record::new(&[key("layer", l + 1)]).with("grad_norm", *v)).collect();
    // The hidden (residual) layers W_2..W_L: where theta enters.
    let hidden = &per[1..per.len() - 1];
    if !hidden.is_empty() {
        out.push(
            Record::new(&[key("layer", "hidden-mean")])
                .with("grad_norm", hidden.iter().sum::<f64>() / hidden.len() as f64),
        );
    }
    Ok(out)
}

/// The width search of the min-width experiment, on a geometric grid `min_width * 2^k` up to
/// `max_width`. At each width GD trains to `target_loss` within `max_iterations` steps; a width
/// that reaches it is *trainable*. It is *lazy* at `(tau, eps)` if, in addition, the relative
/// kernel motion `||K_T - K_0||_F / ||K_0||_F` (empirical NTK on the training points at the
/// final and initial weights) is at most `tau` and the relative linearization error on held-out
/// points, `mean_i |f_W(x_i) - f_lin(x_i)| / mean_i |f_W(x_i) - f_W0(x_i)|` over the test split
/// (the share of the learned change the linearization misses), is at most `eps`: the kernel
/// regime the theorems' width requirement is about. Reported per criterion: the smallest width meeting it
/// (`min_width`, undefined if none up to `max_width`). Every width tried gets its own record
/// with the outcome: `diverged`, `out_of_budget` (target not reached), `kernel_change`,
/// `eps_lin_test` and the steps taken, so a reader sees which condition failed. The search stops
/// at the first width meeting every criterion. Widths are not monotone in general (a width may
/// succeed where a larger one fails by chance); each criterion reports the first success.
///
/// `max_step_gflop` (optional) caps the compute: a width whose GD step costs more than that
/// many GFLOP ([`step_gflop`]) is not tried, so the search ends there (censored), and every
/// criterion row records the largest width tried (`largest_width_tried`). Beside each measured
/// lazy criterion comes its *extrapolated* width (criterion `... extrapolated`): the kernel
/// change and the linearization error are fitted as power laws in `m` over the
/// [`EXTRAPOLATION_WINDOW`] largest widths tried (each must have reached the target) ([`power_crossing`]), and
/// the width where both fits fall to `(tau, eps)` is reported with the fitted exponents
/// (`kernel_slope`, `lin_slope`), up to [`EXTRAPOLATION_LIMIT`] times the largest width tried
/// (past that, `beyond_limit` = 1 and no width). It is a model-based estimate, labelled as
/// such, that lets depths whose lazy width is just beyond the compute budget still be compared.
fn min_width(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    check_params(
        cell,
        &["target_loss", "max_iterations", "min_width", "max_width", "tau", "eps_lin", "max_step_gflop"],
    )?;
    let target: f64 = param_f64(cell, "target_loss", 0.1)?;
    let budget: usize = param(cell, "max_iterations", DEFAULT_WIDTH_SEARCH_BUDGET)?;
    let lo_w: usize = param(cell, "min_width", DEFAULT_MIN_WIDTH)?;
    let hi_w: usize = param(cell, "max_width", DEFAULT_MAX_WIDTH)?;
    let taus: Vec<f64> = param(cell, "tau", vec![0.1, 0.2])?;
    let epss: Vec<f64> = param(cell, "eps_lin", vec![0.1, 0.2])?;
    let cap: f64 = param_f64(cell, "max_step_gflop", f64::INFINITY)?;
    if cap.is_nan() || cap <= 0.0 {
        return Err("params.max_step_gflop: must be a positive number of GFLOP".into());
    }
    if target.is_nan() || target <= 0.0 || budget == 0 || lo_w == 0 || hi_w < lo_w {
        return Err("params: need target_loss > 0, max_iterations >= 1, 1 <= min_width <= max_width".into());
    }
    if taus.is_empty() || epss.is_empty() || taus.iter().chain(&epss).any(|v| v.is_nan() || *v <= 0.0) {
        return Err("params: tau and eps_lin must be non-empty lists of positive numbers".into());
    }
    // Every training of the search uses the same data: load it once.
    let split = load(&cell.config)?;
    if split.test.n == 0 {
        return Err("min-width needs held-out points for the linearization criterion: set data.n_test > 0".into());
    }
    let kdev = kernel_device(backend)?;
    // Criteria: trainable, then lazy at every (tau, eps).
    let mut criteria: Vec<(String, Option<(f64, f64)>)> = vec![("trainable".into(), None)];
    for &t in &taus {
        for &e in &epss {
            criteria.push((format!("lazy tau={t} eps={e}"), Some((t, e))));
        }
    }
    let mut found: Vec<Option<usize>> = vec![None; criteria.len()];
    let mut tried = Vec::new();
    // (width, kernel change, linearization error) of every width tried (NaN where the target
    // was not reached).
    let mut curve: Vec<(f64, f64, f64)> = Vec::new();
    let (n_train, d_in, depth) = (split.train.n, split.train.d, cell.config.model.depth);
    let mut m = lo_w;
    loop {
        let mut cfg = cell.config.clone();
        cfg.model.width = m;
        cfg.train.iterations = budget;
        cfg.train.target_loss = target;
        cfg.train.log_every = budget;
        // A width whose kernel vanishes at W0 (every ReLU path dead) cannot be trained with a
        // kernel-normalized step: it fails there, and the search goes on.
        let (trainer, rows, stop) = match run_training(&cfg, split.clone(), backend) {
            Err(e) if e.starts_with(resgen_train::DEAD_AT_INIT) => (None, Vec::new(), None),
            other => other.map(|(t, r, s)| (Some(t), r, Some(s)))?,
        };
        let dead = stop.is_none();
        let diverged = matches!(stop, Some(StopReason::Diverged(_)));
        let reached = stop == Some(StopReason::TargetLoss);
        let steps = rows.last().map_or(0, |r| r.iter);
        let (mut kchange, mut lin) = (f64::NAN, f64::NAN);
        if let (true, Some(trainer)) = (reached, &trainer) {
            let (n, d) = (split.train.n, split.train.d);
            let net0 = Net::init(&cfg.model, d, Precision::F64, &kdev)?;
            let w = trainer.net.host_weights();
            let net_t = Net::from_host(&cfg.model, d, &w, Precision::F64, &kdev);
            let k0 = ntk::empirical_ntk(&net0, &split.train.x, n).total;
            let kt = ntk::empirical_ntk(&net_t, &split.train.x, n).total;
            kchange = relative_change(&kt.data, &k0.data);
            // Relative to how far the function moved: the share of the learned change
            // f_W - f_W0 on held-out points that the linearization misses.
            let (nt, xt) = (split.test.n, &split.test.x);
            let feat = features::grad_features(&net0, net0.upload(xt, nt, d));
            let f_lin = features::linearized_outputs(&net0, &feat, &w);
            let ft = net_t.predict(net_t.upload(xt, nt, d));
            let mean_abs = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).abs()).sum::<f64>() / nt as f64;
            lin = mean_abs(&ft, &f_lin) / mean_abs(&ft, &feat.output).max(f64::MIN_POSITIVE);
        }
        curve.push((m as f64, kchange, lin));
        for (slot, (_, crit)) in found.iter_mut().zip(&criteria) {
            let ok = reached && crit.is_none_or(|(t, e)| kchange <= t && lin <= e);
            if ok && slot.is_none() {
                *slot = Some(m);
            }
        }
        let (t0, e0) = (taus[0], epss[0]);
        tried.push(
            Record::new(&[key("criterion", "tried"), key("tried_width", m)])
                .with("diverged", if diverged { 1.0 } else { 0.0 })
                .with("dead_at_init", if dead { 1.0 } else { 0.0 })
                .with("out_of_budget", if !dead && !diverged && !reached { 1.0 } else { 0.0 })
                .with("kernel_moved", if reached && (kchange.is_nan() || kchange > t0) { 1.0 } else { 0.0 })
                .with("linearization_failed", if reached && (lin.is_nan() || lin > e0) { 1.0 } else { 0.0 })
                .with("kernel_change", kchange)
                .with("eps_lin_test_rel", lin)
                .with("steps", steps as f64),
        );
        let next = (m * 2).min(hi_w);
        if found.iter().all(Option::is_some) || m >= hi_w || step_gflop(n_train, d_in, next, depth) > cap {
            break;
        }
        m = next;
    }
    let largest = m as f64;
    let mut out: Vec<Record> = Vec::new();
    for ((name, crit), w) in criteria.iter().zip(&found) {
        out.push(
            Record::new(&[key("criterion", name), key("tried_width", "")])
                .with("min_width", w.map_or(f64::NAN, |v| v as f64))
                .with("found", if w.is_some() { 1.0 } else { 0.0 })
                .with("largest_width_tried", largest),
        );
        let Some((t, e)) = *crit else { continue };
        let pts = |pick: fn(&(f64, f64, f64)) -> f64| curve.iter().map(|c| (c.0, pick(c))).collect::<Vec<_>>();
        let fk = power_crossing(&pts(|c| c.1), EXTRAPOLATION_WINDOW, t);
        let fl = power_crossing(&pts(|c| c.2), EXTRAPOLATION_WINDOW, e);
        let slope = |f: Option<(f64, Option<f64>)>| f.map_or(f64::NAN, |v| v.0);
        let width = match (fk, fl) {
            (Some((_, Some(a))), Some((_, Some(b)))) => a.max(b),
            _ => f64::NAN,
        };
        // Far beyond the widths tried the fitted exponents (pre-asymptotic) mean little: no
        // estimate past EXTRAPOLATION_LIMIT times the largest width, only the fact.
        let beyond = width > EXTRAPOLATION_LIMIT * largest;
        let width = if beyond { f64::NAN } else { width };
        out.push(
            Record::new(&[key("criterion", format!("{name} extrapolated")), key("tried_width", "")])
                .with("min_width", width)
                .with("found", if width.is_nan() { 0.0 } else { 1.0 })
                .with("beyond_limit", if beyond { 1.0 } else { 0.0 })
                .with("largest_width_tried", largest)
                .with("kernel_slope", slope(fk))
                .with("lin_slope", slope(fl)),
        );
    }
    out.extend(tried);
    Ok(out)
}

/// How many of the largest widths tried the extrapolated lazy width fits.
pub const EXTRAPOLATION_WINDOW: usize = 3;

/// The farthest the extrapolated lazy width reaches, as a multiple of the largest width tried:
/// beyond it the criterion row says `beyond_limit` and gives no width.
pub const EXTRAPOLATION_LIMIT: f64 = 8.0;

/// The cost of one full-batch GD step in GFLOP: `6 n (d m + (L - 1) m^2 + m)` (forward,
/// input-gradient and weight-gradient products of every layer; the benchmark's count).
/// E.g. n = 100, d = 20, m = 128, L = 64: 6 * 100 * (2560 + 63 * 16384 + 128) / 1e9 = 0.621.
pub fn step_gflop(n: usize, d: usize, m: usize, depth: usize) -> f64 {
    let (n, d, m, l) = (n as f64, d as f64, m as f64, depth as f64);
    6.0 * n * (d * m + (l - 1.0) * m * m + m) / 1e9
}

/// Least squares `ln y = c + s ln m` over the `window` largest widths of `points` (width, y):
/// `(s, m*)` with `m*` the width where the fit reaches `threshold` (`None` unless `s < 0`).
/// `None` with fewer than `window` points, or if any of the `window` largest has no positive,
/// finite `y` (a width that did not reach the target breaks the curve: no estimate is made
/// across it).
pub fn power_crossing(points: &[(f64, f64)], window: usize, threshold: f64) -> Option<(f64, Option<f64>)> {
    let mut pts: Vec<(f64, f64)> = points.to_vec();
    if window < 2 || pts.len() < window {
        return None;
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let top = &pts[pts.len() - window..];
    if top.iter().any(|(m, y)| !(*m > 0.0 && y.is_finite() && *y > 0.0)) {
        return None;
    }
    let lx: Vec<f64> = top.iter().map(|p| p.0.ln()).collect();
    let ly: Vec<f64> = top.iter().map(|p| p.1.ln()).collect();
    let (c, s) = crate::fit::linear_fit(&lx, &ly)?;
    Some((s, (s < 0.0).then(|| ((threshold.ln() - c) / s).exp())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_cost_is_the_benchmark_count() {
        // 6 * 100 * (20 * 128 + 63 * 128^2 + 128) = 600 * (2560 + 1032192 + 128) = 620_928_000.
        assert!((step_gflop(100, 20, 128, 64) - 0.620928).abs() < 1e-12);
        // One layer (L = 1) has no m x m product: 6 * 10 * (5 * 4 + 4) = 1440.
        assert!((step_gflop(10, 5, 4, 1) - 1.44e-6).abs() < 1e-18);
    }

    #[test]
    fn power_crossing_recovers_a_known_law_from_the_largest_widths() {
        // y = 2 m^(-1/2) at m = 64, 128, 256 reaches 0.1 at m = (2 / 0.1)^2 = 400. A small width
        // far off the law (m = 4, y = 100) is outside the window and must not enter the fit.
        let pts = [(256.0, 0.125), (4.0, 100.0), (64.0, 0.25), (128.0, 2.0 / 128f64.sqrt())];
        let (s, m) = power_crossing(&pts, 3, 0.1).unwrap();
        assert!((s + 0.5).abs() < 1e-12, "slope {s}");
        assert!((m.unwrap() - 400.0).abs() < 1e-9, "crossing {m:?}");
        // A largest width without a value (it did not reach the target) breaks the curve.
        let mut broken = pts.to_vec();
        broken.push((512.0, f64::NAN));
        assert!(power_crossing(&broken, 3, 0.1).is_none());
        // Below the window's size there is no estimate; a flat or rising law never crosses.
        assert!(power_crossing(&pts[..2], 3, 0.1).is_none());
        let (s, m) = power_crossing(&[(8.0, 1.0), (16.0, 1.0), (32.0, 2.0)], 3, 0.1).unwrap();
        assert!(s > 0.0 && m.is_none());
    }
}
