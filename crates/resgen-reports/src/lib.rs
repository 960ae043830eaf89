//! The `resgen ntk`, `resgen bounds` and `resgen kernel-predict` reports: kernels,
//! complexities, bound values and kernel predictors as CSV (and NumPy `.npy` for the Gram
//! matrices), written atomically.
//!
//! Each takes the f64 device the kernels are computed on ([`resgen_bounds::kernel_device`]),
//! worked out once by its caller.

use std::path::Path;

use resgen_bounds::defaults::{QP_MAX_SWEEPS, RAD_SAMPLES, SOLVER_LIMITS, radius_grid};
use resgen_bounds::formulas::BoundConstants;
use resgen_bounds::linalg::kernel_stats;
use resgen_bounds::ntk::{EmpiricalNtk, empirical_ntk};
use resgen_bounds::{Gram, analytic, evaluate, features, formulas, rademacher};
use resgen_data::Split;
use resgen_data::output::{FileError, csv_text, io_err as io, num, write_atomic};
use resgen_models::{Device, Net, Precision};
use resgen_train::RunConfig;

/// What can go wrong writing a command's report; each message names the file or the quantity.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run's config is invalid.
    #[error(transparent)]
    Config(#[from] resgen_train::ConfigError),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] resgen_data::DataError),
    /// The network's config or weight file is invalid.
    #[error(transparent)]
    Model(#[from] resgen_models::ModelError),
    /// A kernel or bound computation failed.
    #[error(transparent)]
    Bounds(#[from] resgen_bounds::BoundsError),
    /// A file could not be written or read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A kernel's statistics failed (`name` is the kernel).
    #[error("{name}: {source}")]
    Kernel {
        /// The kernel.
        name: String,
        /// Why.
        source: resgen_bounds::BoundsError,
    },
    /// A run folder's file that is missing, unreadable or does not match its config.
    #[error("{}: {message}", path.display())]
    RunFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The linearized network's outputs became non-finite.
    #[error("the linearized network diverged at step {step} (eta = {eta})")]
    LinearizedDiverged {
        /// The step.
        step: usize,
        /// The step size.
        eta: f64,
    },
}

/// The Burn-free kernel arithmetic's errors, as the bounds' ones.
impl From<resgen_bounds::KernelError> for ReportError {
    fn from(e: resgen_bounds::KernelError) -> Self {
        ReportError::Bounds(e.into())
    }
}

/// A Gram matrix as a NumPy `.npy` file (f64, C order), by `npyz`.
pub fn npy_bytes(k: &Gram) -> Vec<u8> {
    matrix_npy(&k.data, k.n, k.n)
}

/// A row-major `rows x cols` f64 matrix as NumPy `.npy` bytes.
pub fn matrix_npy(data: &[f64], rows: usize, cols: usize) -> Vec<u8> {
    use npyz::WriterBuilder;
    let mut out = Vec::with_capacity(128 + 8 * data.len());
    let shape = [rows as u64, cols as u64];
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut out)
        .begin_nd()
        .expect("writing to memory cannot fail");
    w.extend(data.iter().copied()).expect("writing to memory cannot fail");
    w.finish().expect("writing to memory cannot fail");
    out
}

fn gram_csv(k: &Gram) -> String {
    k.data.chunks(k.n).map(|r| r.iter().map(|v| num(*v)).collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\n")
        + "\n"
}

fn write_gram(dir: &Path, stem: &str, k: &Gram, npy: bool) -> Result<(), ReportError> {
    let p = dir.join(format!("{stem}.{}", if npy { "npy" } else { "csv" }));
    let bytes = if npy { npy_bytes(k) } else { gram_csv(k).into_bytes() };
    write_atomic(&p, &bytes).map_err(io(&p))?;
    Ok(())
}

/// Which analytic kernels `resgen ntk` adds to the empirical one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Analytic {
    /// The infinite-width NTK (`K / m`), `ntk_analytic`, also in the summary.
    pub ntk: bool,
    /// The NNGP kernel (the outputs' covariance at initialization), `nngp_analytic`.
    pub nngp: bool,
}

/// `resgen ntk`: the empirical NTK at `W0` of the config's network on its training set (and
/// the analytic kernels asked for), per layer and total, plus a summary and the
/// Rademacher terms at `R = 1`.
///
/// With `weights` (host matrices, e.g. a run's `weights_final.safetensors` read by
/// [`load_weights`]) the kernel is that network's instead of the one at initialization.
pub fn ntk_report(
    cfg: &RunConfig,
    device: &Device,
    analytic_too: Analytic,
    npy: bool,
    dir: &Path,
    weights: Option<&[Vec<f64>]>,
) -> Result<(), ReportError> {
    let split = resgen_data::load(&cfg.data)?;
    let (n, d) = (split.train.n, split.train.d);
    let net = match weights {
        Some(w) => Net::from_host(&cfg.model, d, w, Precision::F64, device),
        None => Net::init(&cfg.model, d, Precision::F64, device)?,
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let cfg_path = dir.join("config.toml");
    write_atomic(&cfg_path, cfg.to_toml().as_bytes()).map_err(io(&cfg_path))?;
    let ntk = empirical_ntk(&net, &split.train.x, n);
    let m = cfg.model.width as f64;
    if npy {
        // The points the Gram matrices are over, in their order (inputs after unit-norm
        // scaling, labels +-1), so a kernel computed elsewhere can be compared entry by entry.
        for (stem, data, cols) in [("x_train", &split.train.x, d), ("y_train", &split.train.y, 1)] {
            let p = dir.join(format!("{stem}.npy"));
            write_atomic(&p, &matrix_npy(data, n, cols)).map_err(io(&p))?;
        }
    }
    write_gram(dir, "ntk_total", &ntk.total, npy)?;
    for (l, k) in ntk.per_layer.iter().enumerate() {
        write_gram(dir, &format!("ntk_{}", Net::matrix_name(cfg.model.depth, l + 1)), k, npy)?;
    }
    let mut kernels: Vec<(String, Gram)> = vec![("empirical".into(), ntk.normalized())];
    for (l, k) in ntk.per_layer.iter().enumerate() {
        kernels.push((format!("empirical_{}", Net::matrix_name(cfg.model.depth, l + 1)), k.scale(1.0 / m)));
    }
    if analytic_too.ntk {
        let a = analytic::ntk(&cfg.model, &split.train.x, n, d)?;
        write_gram(dir, "ntk_analytic", &a, npy)?;
        kernels.push(("analytic".into(), a));
    }
    if analytic_too.nngp {
        write_gram(dir, "nngp_analytic", &analytic::nngp(&cfg.model, &split.train.x, n, d)?, npy)?;
    }
    write_kernel_summary(&dir.join("summary.csv"), &kernels, &split.train.y, cfg.model.depth)?;
    write_rademacher_table(&dir.join("rademacher.csv"), &ntk, cfg)
}

/// `summary.csv` of `resgen ntk`: the spectrum, complexity and Cao-Gu bound of each kernel.
fn write_kernel_summary(p: &Path, kernels: &[(String, Gram)], y: &[f64], depth: usize) -> Result<(), ReportError> {
    let n = y.len();
    let header: Vec<String> = [
        "kernel",
        "normalization",
        "n",
        "trace",
        "lambda_min",
        "lambda_max",
        "condition",
        "sqrt_yKinvy_over_n",
        "ridge",
        "cao_gu_depth",
        "cao_gu_ntk_bound",
        "lambda_max_upper",
        "eig_converged",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    // Cao-Gu count the FC network's depth as L + 1 (its number of weight matrices).
    let cg_depth = formulas::cao_gu_depth(depth);
    for (name, k) in kernels {
        let s =
            kernel_stats(k, y).map_err(|source| ReportError::Kernel { name: name.clone(), source: source.into() })?;
        rows.push(vec![
            name.clone(),
            "K/m".into(),
            n.to_string(),
            num(s.trace),
            num(s.lambda_min),
            num(s.lambda_max),
            num(s.condition),
            num(s.complexity),
            num(s.ridge),
            cg_depth.to_string(),
            num(formulas::cao_gu_ntk(s.complexity, cg_depth, n, &BoundConstants::default())),
            num(s.lambda_max_upper),
            s.eig_converged.to_string(),
        ]);
    }
    write_atomic(p, csv_text(&header, &rows).as_bytes()).map_err(io(p))?;
    Ok(())
}

/// `rademacher.csv` of `resgen ntk`: the linearized ball's complexity at R = 1, per layer and in total.
fn write_rademacher_table(p: &Path, ntk: &EmpiricalNtk, cfg: &RunConfig) -> Result<(), ReportError> {
    let rad = rademacher::rademacher(&ntk.per_layer, 1.0, cfg.model.width, RAD_SAMPLES, cfg.data.seed);
    let header: Vec<String> = ["layer", "radius", "trace_K_l", "closed_form_bound", "monte_carlo", "mc_stderr_total"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows: Vec<Vec<String>> = ntk
        .per_layer
        .iter()
        .enumerate()
        .map(|(l, k)| {
            vec![
                Net::matrix_name(cfg.model.depth, l + 1),
                "1".into(),
                num(k.trace()),
                num(rad.bound_per_layer[l]),
                num(rad.mc_per_layer[l]),
                String::new(),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        "1".into(),
        num(ntk.total.trace()),
        num(rad.bound),
        num(rad.mc),
        num(rad.mc_stderr),
    ]);
    write_atomic(p, csv_text(&header, &rows).as_bytes()).map_err(io(p))?;
    Ok(())
}

/// Reads a run's weight file and checks it against the config: one matrix per weight matrix
/// (`L + 1`, plus `V_2..V_L` for two-layer branches), each of the config's shape. A missing file or a mismatch is an error naming the
/// file, the matrix and both shapes.
pub fn load_weights(path: &Path, model: &resgen_models::ModelConfig, d: usize) -> Result<Vec<Vec<f64>>, ReportError> {
    if !path.exists() {
        return Err(ReportError::RunFile {
            path: path.into(),
            message: "not found; `resgen bounds` needs the run's saved weights (train with train.save_weights = true)"
                .into(),
        });
    }
    let tensors = resgen_models::load_safetensors(path)?;
    if tensors.len() != Net::matrix_count(model) {
        return Err(ReportError::RunFile {
            path: path.into(),
            message: format!(
                "{} matrices, but config.toml's network (depth {}, {} branches) has {}",
                tensors.len(),
                model.depth,
                model.branch.name(),
                Net::matrix_count(model)
            ),
        });
    }
    let mut out = Vec::with_capacity(tensors.len());
    for (i, (name, shape, values)) in tensors.into_iter().enumerate() {
        let want = Net::layer_shape(model, d, i + 1);
        if shape != want || values.len() != want[0] * want[1] {
            return Err(ReportError::RunFile {
                path: path.into(),
                message: format!(
                    "{name} has shape {shape:?}, but config.toml (width {}, d = {d}) gives {want:?}",
                    model.width
                ),
            });
        }
        out.push(values);
    }
    Ok(out)
}

/// `resgen bounds`: for a finished run, the measured terms (distance radius, linearization
/// error, NTK complexity, Rademacher terms, `eps_NTRF(R)` on a grid) and every bound, beside
/// the measured test error and gap. Writes `bounds.csv` and `ntrf.csv` in the run folder.
pub fn bounds_report(
    run_dir: &Path,
    device: &Device,
    constants: &BoundConstants,
) -> Result<Vec<(String, f64)>, ReportError> {
    constants.validate()?;
    let cfg = RunConfig::load(&run_dir.join("config.toml"), &[])?;
    let split: Split = resgen_data::load(&cfg.data)?;
    let (n, d) = (split.train.n, split.train.d);
    cfg.model.validate()?;
    // W0 is the run's own saved initialization, not a re-draw from the seed.
    let w0 = load_weights(&run_dir.join("weights_init.safetensors"), &cfg.model, d)?;
    let w = load_weights(&run_dir.join("weights_final.safetensors"), &cfg.model, d)?;
    let net0 = Net::from_host(&cfg.model, d, &w0, Precision::F64, device);
    let trained = Net::from_host(&cfg.model, d, &w, Precision::F64, device);
    let sm = (cfg.model.width as f64).sqrt();
    let dists = trained.distances(&net0.tensors());
    let radius = sm * dists.iter().fold(0.0f64, |a, b| a.max(*b));
    let (lin_max, lin_mean) = features::linearization_error(&net0, &w, &split.train.x, n);
    let ntk = empirical_ntk(&net0, &split.train.x, n);
    let stats = kernel_stats(&ntk.normalized(), &split.train.y)?;
    let margins = |net: &Net, x: &[f64], y: &[f64]| -> (f64, f64) {
        let (_, surrogate, err) = resgen_train::margin_stats(&net.predict(net.upload(x, y.len(), d)), y);
        (surrogate, err)
    };
    let (surrogate, train_err) = margins(&trained, &split.train.x, &split.train.y);
    let (_, test_err) = margins(&trained, &split.test.x, &split.test.y);
    let cg_depth = formulas::cao_gu_depth(cfg.model.depth);
    // eps_NTRF(R) on the grid, and every eps_NTRF bound, each minimized over it on its own.
    let f0 = net0.predict(net0.upload(&split.train.x, n, d));
    let radii = radius_grid();
    let eval = evaluate::eps_ntrf_bounds(
        &ntk.per_layer,
        &f0,
        &split.train.y,
        cfg.model.width,
        cfg.model.depth,
        &radii,
        SOLVER_LIMITS,
        constants,
        RAD_SAMPLES,
        cfg.data.seed,
    );
    write_ntrf_table(&run_dir.join("ntrf.csv"), &eval, cfg.model.depth)?;
    // The Rademacher route at the trained network's radius, rounded up to the grid's sequence,
    // with a union bound over the radii up to it.
    let (route_r, route_g) = evaluate::grid_radius_at_least(radius, &radii);
    // Rad_S is linear in R: the terms at R = 1 that the bound evaluation already drew, scaled.
    let rad = &eval.rad_unit;
    let (rad_cf, rad_mc, rad_se) = (route_r * rad.bound, route_r * rad.mc, route_r * rad.mc_stderr);
    let relabel = resgen_bounds::qp::infimum_relabeling(&ntk.normalized(), &split.train.y, 1e-9, QP_MAX_SWEEPS)?;
    let mut values: Vec<(String, f64)> = vec![
        ("n".into(), n as f64),
        ("width".into(), cfg.model.width as f64),
        ("depth_L".into(), cfg.model.depth as f64),
        ("train_error".into(), train_err),
        ("test_error".into(), test_err),
        ("generalization_gap".into(), test_err - train_err),
        ("train_surrogate_E_S".into(), surrogate),
        ("radius_R_measured".into(), radius),
        ("eps_lin_max".into(), lin_max),
        ("eps_lin_mean".into(), lin_mean),
        ("route_radius".into(), route_r),
        ("rademacher_closed_form".into(), rad_cf),
        ("rademacher_monte_carlo".into(), rad_mc),
        ("rademacher_mc_stderr".into(), rad_se),
        ("ntk_lambda_min".into(), stats.lambda_min),
        ("ntk_sqrt_yKinvy_over_n".into(), stats.complexity),
        ("ntk_ridge".into(), stats.ridge),
        ("ntk_complexity_inf".into(), relabel.complexity()),
        ("ntk_inf_duality_gap".into(), relabel.gap),
        ("bound_cao_gu_ntk".into(), formulas::cao_gu_ntk(stats.complexity, cg_depth, n, constants)),
        ("bound_cao_gu_ntk_inf".into(), formulas::cao_gu_ntk(relabel.complexity(), cg_depth, n, constants)),
        (
            "bound_rademacher_route".into(),
            formulas::rademacher_route(surrogate, rad_mc, lin_max, n, route_g, constants.delta),
        ),
    ];
    for b in &eval.best {
        values.push((format!("bound_{}", b.formula), b.value));
        values.push((format!("r_star_{}", b.formula), b.r_star));
    }
    let header: Vec<String> = ["quantity", "value"].iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<Vec<String>> = values.iter().map(|(k, v)| vec![k.clone(), num(*v)]).collect();
    rows.push(vec!["note".into(), format!("{}; K normalized as K/m; R = sqrt(m) max_l ||W_l - W0_l||_F; the theorems' width requirements are not met at this width; each bound_<formula> is that formula minimized over R = 2^(k/2), k = -4..15 on its own, at r_star_<formula> (see ntrf.csv); Cao-Gu depth = L + 1; the Rademacher route uses the grid radius route_radius >= R with a union bound over the radii up to it, eps_lin on the training points, Rad by Monte Carlo over {RAD_SAMPLES} sign vectors", constants.describe())]);
    let p = run_dir.join("bounds.csv");
    write_atomic(&p, csv_text(&header, &rows).as_bytes()).map_err(io(&p))?;
    Ok(values)
}

/// `ntrf.csv`: eps_NTRF and every bound formula at each radius of the grid.
fn write_ntrf_table(p: &Path, eval: &evaluate::Evaluation, depth: usize) -> Result<(), ReportError> {
    let mut header: Vec<String> = ["radius", "eps_ntrf", "kkt_residual", "duality_gap", "iterations", "active_layers"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(["rad_mc", "rad_mc_stderr", "rad_cf"].iter().map(|s| s.to_string()));
    header.extend(evaluate::FORMULAS.iter().map(|f| format!("bound_{f}")));
    let rows: Vec<Vec<String>> = eval
        .rows
        .iter()
        .map(|row| {
            let s = &row.solution;
            let active: Vec<String> =
                s.active.iter().enumerate().filter(|(_, a)| **a).map(|(l, _)| Net::matrix_name(depth, l + 1)).collect();
            let mut r = vec![
                num(s.radius),
                num(s.loss),
                num(s.kkt_residual),
                num(s.gap),
                s.iterations.to_string(),
                active.join(" "),
                num(row.rad_mc),
                num(row.rad_mc_stderr),
                num(row.rad_cf),
            ];
            r.extend(row.bounds.iter().map(|b| num(*b)));
            r
        })
        .collect();
    write_atomic(p, csv_text(&header, &rows).as_bytes()).map_err(io(p))?;
    Ok(())
}

/// `resgen kernel-predict --run DIR`: the run's trained network against its kernel predictors
/// at the same iteration, per point, into `DIR/kernel-predict.csv` (`split`, `index`, `y`,
/// `f_net`, `f_lin`, `f_krr`, `f_init`) and a summary `DIR/kernel-predict-summary.csv`.
///
/// `f_lin` is the linearized network at `W0` (the run's saved initialization) trained by GD in
/// function space for the run's `iterations_done` steps at its `eta` (both from meta.json),
/// with the empirical NTK over the trained layers ([`resgen_bounds::predictor`]); `f_krr` is kernel
/// regression on the labels with the analytic NTK. Full-batch GD runs only (the linearized
/// dynamics of SGD depend on the batch order). Returns the summary's `(name, value)` pairs.
pub fn kernel_predict_report(run_dir: &Path, device: &Device) -> Result<Vec<(String, f64)>, ReportError> {
    use resgen_bounds::predictor::{agreement, kernel_regression, linearized_gd, train_and_cross_kernels};
    let cfg = RunConfig::load(&run_dir.join("config.toml"), &[])?;
    if cfg.train.algorithm != resgen_train::Algorithm::Gd {
        return Err(ReportError::RunFile {
            path: run_dir.join("config.toml"),
            message: format!(
                "train.algorithm = {:?}; kernel-predict follows full-batch GD (\"gd\") only",
                cfg.train.algorithm
            ),
        });
    }
    let meta_path = run_dir.join("meta.json");
    let meta: serde_json::Value =
        std::fs::read_to_string(&meta_path).map_err(io(&meta_path)).map_err(ReportError::from).and_then(|t| {
            serde_json::from_str(&t)
                .map_err(|e| ReportError::RunFile { path: meta_path.clone(), message: e.to_string() })
        })?;
    let field = |k: &str| {
        meta[k].as_f64().ok_or_else(|| ReportError::RunFile {
            path: meta_path.clone(),
            message: format!("no number `{k}` (is the run finished?)"),
        })
    };
    let (eta, steps) = (field("eta")?, field("iterations_done")? as usize);
    let split: Split = resgen_data::load(&cfg.data)?;
    let (n, d, nt) = (split.train.n, split.train.d, split.test.n);
    let w0 = load_weights(&run_dir.join("weights_init.safetensors"), &cfg.model, d)?;
    let w = load_weights(&run_dir.join("weights_final.safetensors"), &cfg.model, d)?;
    let net0 = Net::from_host(&cfg.model, d, &w0, Precision::F64, device);
    let trained = Net::from_host(&cfg.model, d, &w, Precision::F64, device);
    let (k, kx) = train_and_cross_kernels(&net0, &split.train.x, n, &split.test.x, nt);
    let out = |net: &Net, x: &[f64], rows: usize| {
        if rows == 0 { Vec::new() } else { net.predict(net.upload(x, rows, d)) }
    };
    let (f0, f0t) = (out(&net0, &split.train.x, n), out(&net0, &split.test.x, nt));
    let (lin, lin_t) = linearized_gd(&k, &kx, &split.train.y, (&f0, &f0t), eta, steps)
        .map_err(|step| ReportError::LinearizedDiverged { step, eta })?;
    let (f, ft) = (out(&trained, &split.train.x, n), out(&trained, &split.test.x, nt));
    let all: Vec<f64> = split.train.x.iter().chain(&split.test.x).copied().collect();
    let na = n + nt;
    let ka = analytic::ntk(&cfg.model, &all, na, d)?;
    let (ka_train, ka_cross) = resgen_bounds::predictor::split_kernel(&ka, n);
    let (krr, krr_t) = (
        kernel_regression(&ka_train, &ka_train.data, &split.train.y)?,
        kernel_regression(&ka_train, &ka_cross, &split.train.y)?,
    );
    let header: Vec<String> =
        ["split", "index", "y", "f_net", "f_lin", "f_krr", "f_init"].iter().map(|s| s.to_string()).collect();
    let mut rows = Vec::with_capacity(na);
    for (name, y, fnet, flin, fkrr, finit) in
        [("train", &split.train.y, &f, &lin, &krr, &f0), ("test", &split.test.y, &ft, &lin_t, &krr_t, &f0t)]
    {
        for i in 0..y.len() {
            rows.push(vec![
                name.to_string(),
                i.to_string(),
                num(y[i]),
                num(fnet[i]),
                num(flin[i]),
                num(fkrr[i]),
                num(finit[i]),
            ]);
        }
    }
    let path = run_dir.join("kernel-predict.csv");
    write_atomic(&path, csv_text(&header, &rows).as_bytes()).map_err(io(&path))?;
    let err = |f: &[f64], y: &[f64]| resgen_train::margin_stats(f, y).2;
    let (rmse_train, disagree_train) = agreement(&f, &lin);
    let (rmse_test, disagree_test) = agreement(&ft, &lin_t);
    let summary = vec![
        ("steps".to_string(), steps as f64),
        ("eta".into(), eta),
        ("rmse_train".into(), rmse_train),
        ("disagree_train".into(), disagree_train),
        ("rmse_test".into(), rmse_test),
        ("disagree_test".into(), disagree_test),
        ("net_test_error".into(), err(&ft, &split.test.y)),
        ("lin_test_error".into(), err(&lin_t, &split.test.y)),
        ("krr_test_error".into(), err(&krr_t, &split.test.y)),
        ("krr_disagree_test".into(), agreement(&ft, &krr_t).1),
    ];
    let path = run_dir.join("kernel-predict-summary.csv");
    let body: Vec<Vec<String>> = summary.iter().map(|(k, v)| vec![k.clone(), num(*v)]).collect();
    write_atomic(&path, csv_text(&["quantity".to_string(), "value".to_string()], &body).as_bytes())
        .map_err(io(&path))?;
    Ok(summary)
}
