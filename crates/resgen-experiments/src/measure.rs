//! The measurement of each experiment kind on one cell: what the claim's table needs.
//!
//! Each returns records (key columns, value columns); the merge step aggregates them over
//! seeds. Kernel quantities are computed in f64 on a CPU (or CUDA) device; training runs on the
//! selected backend in the config's precision.

use std::path::Path;

use resgen_bounds::report::{DELTA, SOLVER_LIMITS, kernel_device, radius_grid};
use resgen_bounds::{analytic, features, formulas, linalg, ntk, ntrf, rademacher};
use resgen_data::Split;
use resgen_models::{Arch, BackendKind, Net, Precision, to_host};
use resgen_train::{RunConfig, StopReason, Trainer};
use serde::{Deserialize, Serialize};

use crate::spec::{Cell, Kind};

/// One row of a cell's result: key columns (e.g. `layer`) and values (`None` = not defined).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Key columns, in order.
    pub keys: Vec<(String, String)>,
    /// Value columns, in order.
    pub values: Vec<(String, Option<f64>)>,
}

impl Record {
    fn new(keys: &[(&str, String)]) -> Record {
        Record { keys: keys.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), values: vec![] }
    }

    fn with(mut self, name: &str, v: f64) -> Record {
        self.values.push((name.into(), if v.is_finite() { Some(v) } else { None }));
        self
    }
}

fn key(name: &str, v: impl ToString) -> (&str, String) {
    (name, v.to_string())
}

fn param<T: for<'de> Deserialize<'de>>(cell: &Cell, name: &str, default: T) -> Result<T, String> {
    match cell.params.get(name) {
        None => Ok(default),
        Some(v) => v.clone().try_into().map_err(|e| format!("params.{name}: {e}")),
    }
}

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
            let (_, rows) = train(cfg, backend)?;
            let sm = (cfg.model.width as f64).sqrt();
            Ok(rows
                .iter()
                .map(|r| {
                    Record::new(&[key("iter", r.iter)])
                        .with("train_loss", r.train_loss)
                        .with("train_surrogate", r.train_surrogate)
                        .with("train_error", r.train_error)
                        .with("test_error", r.test_error)
                        .with("dist_max_scaled", sm * r.dist.iter().fold(0.0f64, |a, b| a.max(*b)))
                })
                .collect())
        }
        Kind::DistanceFromInit => {
            check_params(cell, &[])?;
            let (_, rows) = train(cfg, backend)?;
            let last = rows.last().ok_or("training logged nothing")?;
            let sm = (cfg.model.width as f64).sqrt();
            let mut out: Vec<Record> = last
                .dist
                .iter()
                .enumerate()
                .map(|(l, d)| Record::new(&[key("layer", l + 1)]).with("dist_scaled", sm * d))
                .collect();
            out.push(
                Record::new(&[key("layer", "max")])
                    .with("dist_scaled", sm * last.dist.iter().fold(0.0f64, |a, b| a.max(*b)))
                    .with("train_loss", last.train_loss),
            );
            Ok(out)
        }
        Kind::Linearization => {
            check_params(cell, &[])?;
            let (t, rows) = train(cfg, backend)?;
            let last = rows.last().ok_or("training logged nothing")?;
            let kdev = kernel_device(backend)?;
            let split = t.split();
            let (n, d) = (split.train.n, split.train.d);
            let net0 = Net::init(&cfg.model, d, Precision::F64, &kdev)?;
            let (max, mean) = features::linearization_error(&net0, &t.net.host_weights(), &split.train.x, n);
            Ok(vec![
                Record::default()
                    .with("eps_lin_max", max)
                    .with("eps_lin_mean", mean)
                    .with("train_loss", last.train_loss),
            ])
        }
        Kind::MinWidth => min_width(cell, backend),
        Kind::Rademacher => {
            check_params(cell, &["radius", "samples"])?;
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
            Ok(out)
        }
        Kind::NtkComplexity => {
            check_params(cell, &["analytic"])?;
            let with_analytic: bool = param(cell, "analytic", true)?;
            let (split, k, _) = init_kernels(cfg, backend)?;
            let (n, d) = (split.train.n, split.train.d);
            let mut kernels = vec![("empirical", k.normalized())];
            if with_analytic {
                kernels.push(("analytic", analytic::ntk(&cfg.model, &split.train.x, n, d)?));
            }
            let cg_depth = cfg.model.depth + 1;
            kernels
                .into_iter()
                .map(|(name, kern)| {
                    let s = linalg::kernel_stats(&kern, &split.train.y)?;
                    Ok(Record::new(&[key("kernel", name)])
                        .with("lambda_min", s.lambda_min)
                        .with("condition", s.condition)
                        .with("complexity", s.complexity)
                        .with("cao_gu_ntk_bound", formulas::cao_gu_ntk(s.complexity, cg_depth, n, DELTA, 1.0, 1.0))
                        .with("ridge", s.ridge))
                })
                .collect()
        }
        Kind::NtrfBound => {
            check_params(cell, &[])?;
            let (split, k, f0) = init_kernels(cfg, backend)?;
            let n = split.train.n;
            let problem =
                ntrf::NtrfProblem { per_layer: &k.per_layer, f0: &f0, y: &split.train.y, width: cfg.model.width };
            let grid = ntrf::solve_grid(problem, &radius_grid(), SOLVER_LIMITS);
            let cg_depth = cfg.model.depth + 1;
            let fc = |s: &ntrf::NtrfSolution| formulas::cao_gu_fc(s.loss, cg_depth, s.radius, n, DELTA, 1.0, 1.0);
            let res = |s: &ntrf::NtrfSolution| formulas::frei_cao_gu_resnet(s.loss, s.radius, n, DELTA, 4.0, 1.0, 1.0);
            let own = |s: &ntrf::NtrfSolution| match cfg.model.arch {
                Arch::Fc => fc(s),
                Arch::Resnet => res(s),
            };
            let record = |radius: String, s: &ntrf::NtrfSolution| {
                Record::new(&[key("radius", radius)])
                    .with("eps_ntrf", s.loss)
                    .with("bound_cao_gu_fc", fc(s))
                    .with("bound_frei_cao_gu_resnet", res(s))
                    .with("bound_own", own(s))
                    .with("kkt_residual", s.kkt_residual)
                    .with("duality_gap", s.gap)
            };
            let mut out: Vec<Record> = grid.iter().map(|s| record(crate::table::fmt(s.radius), s)).collect();
            let best = grid.iter().min_by(|a, b| own(a).total_cmp(&own(b))).ok_or("empty radius grid")?;
            out.push(record("best".into(), best).with("r_star", best.radius));
            Ok(out)
        }
        Kind::Generalization => {
            check_params(cell, &[])?;
            let run_dir = dir.join("run");
            let opts =
                resgen_train::RunOptions { backend, out: Some(run_dir.clone()), quiet: true, name: "cell".into() };
            let outcome = resgen_train::train_run(cfg, &opts)?;
            if let StopReason::Diverged(e) = outcome.stop {
                return Err(e.to_string());
            }
            let values = resgen_bounds::report::bounds_report(&run_dir, backend)?;
            let get = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| *v).unwrap_or(f64::NAN);
            let own = match cfg.model.arch {
                Arch::Fc => get("bound_cao_gu_fc"),
                Arch::Resnet => get("bound_frei_cao_gu_resnet"),
            };
            let mut r = Record::default();
            for (k, v) in &values {
                if !matches!(k.as_str(), "n" | "width" | "depth_L") {
                    r = r.with(k, *v);
                }
            }
            Ok(vec![r.with("bound_own", own)])
        }
    }
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

fn forward_scale(cfg: &RunConfig, backend: BackendKind) -> Result<Vec<Record>, String> {
    let (split, net) = net_at_init(cfg, backend)?;
    let (n, d, m) = (split.train.n, split.train.d, cfg.model.width);
    let fw = net.forward_states(net.upload(&split.train.x, n, d));
    let row_norm = |h: Vec<f64>| -> f64 {
        h.chunks(m).map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).sum::<f64>() / n as f64
    };
    let norms: Vec<f64> = fw.hidden.into_iter().map(|h| row_norm(to_host(h))).collect();
    let f = to_host(fw.output);
    let f_abs = f.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    let mut out: Vec<Record> =
        norms.iter().enumerate().map(|(l, v)| Record::new(&[key("layer", l + 1)]).with("h_norm", *v)).collect();
    out.push(
        Record::new(&[key("layer", "last")]).with("h_norm", *norms.last().unwrap_or(&f64::NAN)).with("f_abs", f_abs),
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

/// Doubling from `min_width` until the target is reached within the step budget, then
/// bisection down to a resolution of one eighth. Not monotone in general (a width may succeed
/// where a larger one fails by chance); the search reports the first boundary it finds.
fn min_width(cell: &Cell, backend: BackendKind) -> Result<Vec<Record>, String> {
    check_params(cell, &["target_loss", "max_iterations", "min_width", "max_width"])?;
    let target: f64 = param(cell, "target_loss", 0.1)?;
    let budget: usize = param(cell, "max_iterations", 500)?;
    let lo_w: usize = param(cell, "min_width", 8)?;
    let hi_w: usize = param(cell, "max_width", 2048)?;
    if target.is_nan() || target <= 0.0 || budget == 0 || lo_w == 0 || hi_w < lo_w {
        return Err("params: need target_loss > 0, max_iterations >= 1, 1 <= min_width <= max_width".into());
    }
    let mut trainings = 0usize;
    // Every training of the search uses the same data: load it once.
    let split = load(&cell.config)?;
    let mut reaches = |m: usize| -> Result<bool, String> {
        trainings += 1;
        let mut cfg = cell.config.clone();
        cfg.model.width = m;
        cfg.train.iterations = budget;
        cfg.train.target_loss = target;
        cfg.train.log_every = budget;
        let (_, _, stop) = run_training(&cfg, split.clone(), backend)?;
        Ok(stop == StopReason::TargetLoss)
    };
    let mut hi = lo_w;
    let mut lo = 0;
    loop {
        if reaches(hi)? {
            break;
        }
        lo = hi;
        if hi >= hi_w {
            return Ok(vec![
                Record::default().with("min_width", f64::NAN).with("reached", 0.0).with("trainings", trainings as f64),
            ]);
        }
        hi = (hi * 2).min(hi_w);
    }
    while lo > 0 && hi - lo > (hi / 8).max(1) {
        let mid = (lo + hi) / 2;
        if reaches(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(vec![Record::default().with("min_width", hi as f64).with("reached", 1.0).with("trainings", trainings as f64)])
}
