//! `resgen`: the command line of the resgen workspace.
//!
//! `resgen train --config experiments/<file>.toml [--set key=value ...] [--device ...] [--out DIR]`
//! trains one network and writes a run folder (see docs/guide.md).
//! `resgen run <experiment>|all [--profile quick|confirm|paper] [--shard k/N]` runs named
//! experiments into `results/quick/`, `results/` (confirm, the verdicts' run) or
//! `results/paper/`; `resgen merge` and `resgen plot` rebuild tables and figures, `resgen report`
//! the summary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resgen_experiments::{Experiment, SweepOptions};
use resgen_models::BackendKind;
use resgen_train::{RunConfig, RunOptions, StopReason, train_run};

#[derive(Parser)]
#[command(name = "resgen", version, about = "Generalization of deep residual vs fully connected networks, in numbers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one network and write its run folder.
    Train {
        /// The run config (TOML); every field has a default.
        #[arg(long)]
        config: PathBuf,
        /// Override a config field, e.g. `--set model.width=1024` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Backend: flex, ndarray, wgpu or cuda (default: the first compiled CPU backend).
        #[arg(long)]
        device: Option<BackendKind>,
        /// Run folder (default: runs/<config name>-<config hash>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Compute the empirical NTK (f64) of a config's network at init, or of a run's saved weights.
    ///
    /// Per layer and total, on the training set, with a summary (trace, lambda_min, condition
    /// number, complexity) and the Rademacher terms; `--analytic` adds the infinite-width NTK.
    Ntk {
        /// The run config (TOML); only `[data]` and `[model]` matter.
        #[arg(long, required_unless_present = "run", conflicts_with = "run")]
        config: Option<PathBuf>,
        /// A run folder written by `resgen train` instead of a config: its config and its saved
        /// weights (see --at).
        #[arg(long)]
        run: Option<PathBuf>,
        /// With --run: the kernel at the saved initialization (`init`) or at the trained
        /// weights (`final`).
        #[arg(long, default_value = "init", requires = "run", value_parser = ["init", "final"])]
        at: String,
        /// Override a config field (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Also the analytic infinite-width NTK (both networks).
        #[arg(long)]
        analytic: bool,
        /// Also the analytic NNGP kernel, the outputs' covariance at initialization in the
        /// infinite-width limit (`nngp_analytic.csv` or `.npy`; not divided by m).
        #[arg(long)]
        nngp: bool,
        /// Write the Gram matrices as NumPy .npy instead of CSV.
        #[arg(long)]
        npy: bool,
        /// A CPU backend (or cuda): kernels are computed in f64.
        #[arg(long)]
        device: Option<BackendKind>,
        /// Output folder (with --run, default RUN/ntk-<at>).
        #[arg(long, required_unless_present = "run")]
        out: Option<PathBuf>,
    },
    /// Compare a finished GD run with its linearization and analytic-NTK kernel regression.
    ///
    /// The linearized network is GD in function space with the empirical NTK at the saved W0,
    /// for the run's eta and steps; results per point go to RUN/kernel-predict.csv.
    KernelPredict {
        /// The run folder (trained with train.save_weights = true).
        #[arg(long)]
        run: PathBuf,
        /// A CPU backend (or cuda): kernels are computed in f64.
        #[arg(long)]
        device: Option<BackendKind>,
    },
    /// Compute every term and bound of a finished training run into RUN/bounds.csv.
    Bounds {
        /// The run folder written by `resgen train` (with its final weights).
        #[arg(long)]
        run: PathBuf,
        /// A CPU backend (or cuda): bounds are computed in f64.
        #[arg(long)]
        device: Option<BackendKind>,
        /// Failure probability delta of every bound.
        #[arg(long, default_value_t = 0.05)]
        delta: f64,
        /// Multiplier of eps_NTRF(R) in the eps_NTRF bounds.
        #[arg(long, default_value_t = 4.0)]
        c_eps: f64,
        /// c in c (L+1) R / sqrt(n) (Cao-Gu FC) and c R / sqrt(n) (Frei-Cao-Gu ResNet).
        #[arg(long, default_value_t = 1.0)]
        c_radius: f64,
        /// c' of the confidence term c' sqrt(log(1/delta) / n) of the Cao-Gu style bounds.
        #[arg(long, default_value_t = 1.0)]
        c_conf: f64,
        /// c of the NTK corollary c (L+1) sqrt(y^T K^-1 y / n).
        #[arg(long, default_value_t = 1.0)]
        c_ntk: f64,
    },
    /// Run named experiments into results/, skipping finished cells.
    ///
    /// Sweeps the profile's cells of experiments/<name>.toml (or of every experiment, "all"),
    /// then writes its table and figure (results/quick/<name>.csv and .svg for the default
    /// profile) and, for "all", the profile's summary.
    Run {
        /// Experiment names, "all", or paths to experiment files.
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        place: Place,
        /// Run only shard k of N (1-based), e.g. 3/8; merge later with `resgen merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Backend for training (kernels are computed in f64 on a CPU or CUDA device).
        #[arg(long)]
        device: Option<BackendKind>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Keep finished cells computed by other code or on another backend instead of
        /// computing them again (implies --allow-mixed; the tables' meta.json say so).
        #[arg(long)]
        reuse_stale: bool,
        /// Cells computed at once (default: 2, or 1 on a single core); the tables do not depend
        /// on it.
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Build the tables and plots of experiments from their finished cells.
    Merge {
        /// Experiment names, "all", or paths to experiment files.
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        place: Place,
        /// Merge cells of different code versions or backends into one table (recorded in
        /// its meta.json); without it that is an error.
        #[arg(long)]
        allow_mixed: bool,
    },
    /// Redraw the plots of experiments from their tables alone.
    Plot {
        /// Experiment names, "all", or paths to experiment files.
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        place: Place,
    },
    /// Write summary.md and summary.tex from a profile's tables (results/ for the confirm
    /// profile, whose run decides the verdicts; results/<profile>/ for the others).
    ///
    /// One row per claim: prediction, the fair comparison's numbers, verdict, and the run behind
    /// it. A row whose rule (its experiment file's [verdict] table) changed after its table was
    /// merged is not decided, and the command fails naming it (a row whose table is missing is
    /// written as not decided, and named). Also run by `resgen run all`.
    Report {
        /// Folder of the tables.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Folder of the experiment files (the rules).
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
        /// Whose tables: confirm (results/) or another profile (results/<profile>/).
        #[arg(long, default_value = resgen_experiments::spec::VERDICT_PROFILE)]
        profile: String,
    },
    /// List the experiments of --profile: cells, GD work bound, last run time and claim.
    List {
        #[command(flatten)]
        place: Place,
        /// Instead, one line per experiment of --profile, cheapest first: cells, GD steps at
        /// most and their TFLOP (an upper bound from the configs; kernels and bounds not
        /// counted). bench/gpu.sh runs the paper profile in this order.
        #[arg(long)]
        work: bool,
    },
    /// List the compiled backends, whether each works on this machine, and what each runs on.
    ///
    /// For CPU backends, the GEMM kernels in use; for GPU backends, the adapter.
    Devices,
    /// Benchmark one full-batch GD step of both networks, or the kernels (--ntk) or GEMMs (--gemm).
    ///
    /// Reports ms per step, GFLOP/s and peak memory, with the CPU model and GEMM kernels.
    Bench(resgen_bench::BenchArgs),
    /// Compare two runs of one config, metrics column by column; fail above --tol.
    ///
    /// Each column's largest difference |a - b| / max(1, |a|, |b|) over the logged iterations
    /// (e.g. `--device wgpu` against `--device flex`).
    Compare {
        /// A run folder (or its metrics.csv).
        a: PathBuf,
        /// The other run folder (or metrics.csv).
        b: PathBuf,
        /// The largest difference accepted, in any column.
        #[arg(long, default_value_t = 1e-4)]
        tol: f64,
    },
}

/// Where experiments, cells and tables live.
#[derive(clap::Args, Clone, Debug)]
struct Place {
    /// Profile: quick (CPU, minutes; results/quick/), confirm (the quick grids on fresh seeds,
    /// the verdicts' run; results/) or paper (GPU-sized; results/paper/).
    #[arg(long, default_value = "quick")]
    profile: String,
    /// Folder of experiment files.
    #[arg(long, default_value = "experiments")]
    experiments: PathBuf,
    /// Root of the cells' folders.
    #[arg(long, default_value = "runs")]
    runs: PathBuf,
    /// Folder of the tables and plots.
    #[arg(long, default_value = "results")]
    results: PathBuf,
}

impl Place {
    fn experiments(&self, names: &[String]) -> anyhow::Result<Vec<Experiment>> {
        let mut out = Vec::new();
        for n in names {
            if n == "all" {
                for name in resgen_experiments::spec::list(&self.experiments)? {
                    out.push(Experiment::find(&name, &self.experiments)?);
                }
            } else {
                out.push(Experiment::find(n, &self.experiments)?);
            }
        }
        Ok(out)
    }
}

/// Merges and plots one experiment, printing what was written.
fn merge_and_plot(exp: &Experiment, place: &Place, allow_mixed: bool) -> anyhow::Result<()> {
    let opts = resgen_experiments::MergeOptions { allow_mixed };
    let m = resgen_experiments::merge_with(exp, &place.profile, &place.runs, &place.results, &opts)?;
    let written: Vec<String> = m.written.iter().map(|p| p.display().to_string()).collect();
    if m.partial {
        eprintln!(
            "{}: {} of {} cells not finished: {}; the finished ones are in the partial table {} (the complete table, if any, is left as it was)",
            exp.name,
            m.missing.len(),
            m.cells,
            m.missing.iter().take(5).cloned().collect::<Vec<_>>().join("; "),
            written.first().map(String::as_str).unwrap_or("")
        );
        return Ok(());
    }
    let svgs = resgen_experiments::plot_experiment(exp, &place.profile, &place.results)?;
    println!(
        "{}: {} from {}/{} cells ({:.0} s of cell time), plot {}",
        exp.name,
        written.join(", "),
        m.found,
        m.cells,
        m.cell_seconds,
        svgs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The vendored gemm panics on an unknown RESGEN_GEMM at its first product: check it first.
    if let Err(e) = resgen_models::gemm_route() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    // The CPU step's settings are read deep inside training: a bad value is an error here.
    if let Err(e) = resgen_models::fused_step_enabled().and(resgen_models::parallel_min_work_setting()) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { config, set, device, out, quiet } => train(&config, &set, device, out, quiet),
        Command::Ntk { config, run, at, set, analytic, nngp, npy, device, out } => {
            ntk(NtkArgs { config, run, at, set, analytic, nngp, npy, device, out })
        }
        Command::KernelPredict { run, device } => {
            let kdev = kernel_device(device)?;
            let values = resgen_reports::kernel_predict_report(&run, &kdev)?;
            for (k, v) in values {
                println!("{k:20} {v:.6}");
            }
            println!("per point: {}", run.join("kernel-predict.csv").display());
            Ok(())
        }
        Command::Bounds { run, device, delta, c_eps, c_radius, c_conf, c_ntk } => {
            let kdev = kernel_device(device)?;
            let constants = resgen_bounds::formulas::BoundConstants { delta, c_eps, c_radius, c_conf, c_ntk };
            let values = resgen_reports::bounds_report(&run, &kdev, &constants)?;
            for (k, v) in values {
                println!("{k:28} {v:.6}");
            }
            println!("written to {}", run.join("bounds.csv").display());
            Ok(())
        }
        Command::Run { names, place, shard, device, quiet, reuse_stale, jobs } => {
            run_experiments(&names, &place, shard, device, quiet, reuse_stale, jobs)
        }
        Command::Merge { names, place, allow_mixed } => {
            for exp in place.experiments(&names)? {
                merge_and_plot(&exp, &place, allow_mixed)?;
            }
            Ok(())
        }
        Command::Plot { names, place } => {
            for exp in place.experiments(&names)? {
                for svg in resgen_experiments::plot_experiment(&exp, &place.profile, &place.results)? {
                    println!("{}", svg.display());
                }
            }
            Ok(())
        }
        Command::Report { results, experiments, profile } => {
            report(&results, &experiments, &profile)?;
            Ok(())
        }
        Command::List { place, work } => list(&place, work),
        Command::Devices => {
            devices();
            Ok(())
        }
        Command::Bench(args) => Ok(resgen_bench::bench(args)?),
        Command::Compare { a, b, tol } => compare(&a, &b, tol),
    }
}

/// `resgen train`: one training run, and a one-line summary of where it ended.
fn train(
    config: &std::path::Path,
    set: &[String],
    device: Option<BackendKind>,
    out: Option<std::path::PathBuf>,
    quiet: bool,
) -> anyhow::Result<()> {
    let cfg = RunConfig::load(config, set)?;
    let name = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let backend = device.unwrap_or_else(BackendKind::default_compiled);
    let opts = RunOptions { backend, out, quiet, name };
    let outcome = train_run(&cfg, &opts)?;
    let last = outcome.rows.last().expect("at least the first iteration is logged");
    let why = match outcome.stop {
        StopReason::TargetLoss => "target loss reached",
        StopReason::DataExhausted => "every example used once",
        _ => "iteration budget used",
    };
    println!(
        "{}: {} iterations in {:.1}s ({why}) on {backend}; train loss {:.4}, train error {:.4}, test error {:.4}, sqrt(m)*||W-W0|| {:.3}",
        outcome.dir.display(),
        last.iter,
        outcome.train_seconds,
        last.train_loss,
        last.train_error,
        last.test_error,
        last.dist_total() * (cfg.model.width as f64).sqrt(),
    );
    Ok(())
}

/// The arguments of `resgen ntk`.
struct NtkArgs {
    config: Option<std::path::PathBuf>,
    run: Option<std::path::PathBuf>,
    at: String,
    set: Vec<String>,
    analytic: bool,
    nngp: bool,
    npy: bool,
    device: Option<BackendKind>,
    out: Option<std::path::PathBuf>,
}

/// The f64 device the kernels of a report are computed on, for `--device` (default: the
/// first compiled backend).
fn kernel_device(device: Option<BackendKind>) -> anyhow::Result<resgen_models::Device> {
    Ok(resgen_bounds::kernel_device(device.unwrap_or_else(BackendKind::default_compiled))?)
}

/// `resgen ntk`: the kernels at W0 of a config, or at a saved point of a run.
fn ntk(a: NtkArgs) -> anyhow::Result<()> {
    let NtkArgs { config, run, at, set, analytic, nngp, npy, device, out } = a;
    let (cfg, weights, out) = match (config, run) {
        (Some(config), _) => (RunConfig::load(&config, &set)?, None, out.expect("clap requires --out")),
        (None, Some(run)) => {
            let cfg = RunConfig::load(&run.join("config.toml"), &set)?;
            let d = resgen_data::load(&cfg.data)?.train.d;
            let file = run.join(format!("weights_{at}.safetensors"));
            let w = resgen_reports::load_weights(&file, &cfg.model, d)?;
            (cfg, Some(w), out.unwrap_or_else(|| run.join(format!("ntk-{at}"))))
        }
        (None, None) => unreachable!("clap requires --config or --run"),
    };
    let kdev = kernel_device(device)?;
    let also = resgen_reports::Analytic { ntk: analytic, nngp };
    resgen_reports::ntk_report(&cfg, &kdev, also, npy, &out, weights.as_deref())?;
    println!("{}: summary.csv, rademacher.csv and the Gram matrices written", out.display());
    Ok(())
}

/// `resgen run`: sweeps the named experiments (or one shard of them), then merges, plots and
/// (for "all") writes the profile's summary.
fn run_experiments(
    names: &[String],
    place: &Place,
    shard: Option<String>,
    device: Option<BackendKind>,
    quiet: bool,
    reuse_stale: bool,
    jobs: Option<usize>,
) -> anyhow::Result<()> {
    let backend = device.unwrap_or_else(BackendKind::default_compiled);
    let shard = shard.map(|s| resgen_experiments::spec::parse_shard(&s)).transpose()?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)));
    let opts = SweepOptions { runs: place.runs.clone(), backend, shard, quiet, reuse_stale, jobs };
    let mut failed = Vec::new();
    for exp in place.experiments(names)? {
        let r = resgen_experiments::run_sweep(&exp, &place.profile, &opts)?;
        let raced = if r.raced > 0 {
            format!(" ({} finished first by another process; their results kept)", r.raced)
        } else {
            String::new()
        };
        println!(
            "{} ({}): {} cells, {} already finished, {} stale, {} run, {} failed, {:.1} s{raced}",
            exp.name,
            place.profile,
            r.cells,
            r.skipped,
            r.stale,
            r.ran,
            r.failed.len(),
            r.seconds
        );
        failed.extend(r.failed.iter().map(|(cell, e)| format!("{} [{cell}]: {e}", exp.name)));
        if shard.is_none() {
            merge_and_plot(&exp, place, reuse_stale)?;
        }
    }
    if shard.is_some() {
        println!("shard done; when every shard has finished, run `resgen merge` on the combined runs folder");
    } else if failed.is_empty() && names.iter().any(|n| n == "all") {
        report(&place.results, &place.experiments, &place.profile)?;
    }
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("failed: {f}");
        }
        anyhow::bail!(
            "{} cell(s) failed (the other cells finished; rerun to retry only the failed ones)",
            failed.len()
        );
    }
    Ok(())
}

/// Writes a profile's summary and says which run decides the verdicts; fails naming the rows
/// it could not decide.
fn report(results: &std::path::Path, experiments: &std::path::Path, profile: &str) -> anyhow::Result<()> {
    use resgen_experiments::spec::VERDICT_PROFILE;
    let w = resgen_experiments::report::write_report(results, experiments, profile)?;
    for p in &w.paths {
        println!("{}", p.display());
    }
    if profile == VERDICT_PROFILE {
        println!(
            "the summary's verdicts come from the {VERDICT_PROFILE} profile (fresh seeds, rules fixed before it ran)"
        );
    } else {
        println!(
            "this summary is the {profile} profile's, exploratory; the verdicts that count are in {}, from --profile {VERDICT_PROFILE}",
            results.join("summary.md").display()
        );
    }
    for u in &w.missing {
        eprintln!("not decided: {u}");
    }
    if !w.refused.is_empty() {
        for u in &w.refused {
            eprintln!("not decided: {u}");
        }
        anyhow::bail!("{} row(s) of the summary not decided: their rule changed after their data", w.refused.len());
    }
    Ok(())
}

/// `resgen compare`: prints each metrics column's largest difference and fails above `tol`.
fn compare(a: &std::path::Path, b: &std::path::Path, tol: f64) -> anyhow::Result<()> {
    let d = resgen_train::compare::compare_metrics(a, b)?;
    println!("| column | largest difference | at iteration | {} | {} |", a.display(), b.display());
    println!("|---|---|---|---|---|");
    for c in &d.columns {
        println!("| {} | {:.2e} | {} | {} | {} |", c.column, c.diff, c.iter, c.a, c.b);
    }
    let worst = d.worst().ok_or_else(|| anyhow::anyhow!("no metrics columns to compare"))?;
    anyhow::ensure!(
        worst.diff <= tol,
        "{} differs by {:.2e} at iteration {} ({} vs {}), above --tol {tol:e}",
        worst.column,
        worst.diff,
        worst.iter,
        worst.a,
        worst.b
    );
    println!(
        "{} logged iterations agree: largest difference {:.2e} ({}), within --tol {tol:e}",
        d.rows, worst.diff, worst.column
    );
    Ok(())
}

/// `resgen list`: every experiment with its claim and cell counts per profile.
fn list(place: &Place, work: bool) -> anyhow::Result<()> {
    if work {
        let mut rows = Vec::new();
        for exp in place.experiments(&["all".into()])? {
            let w = resgen_experiments::estimate::profile_work(&exp, &place.profile)?;
            rows.push((exp.name.clone(), w));
        }
        rows.sort_by(|a, b| a.1.gflop.total_cmp(&b.1.gflop).then(a.1.cells.cmp(&b.1.cells)));
        println!(
            "# profile {}: GD training at most (train.iterations or max_iterations per cell, every width of a search), cheapest first; kernels and bounds not counted",
            place.profile
        );
        println!("# {:<20} {:>6} {:>12} {:>12}", "experiment", "cells", "gd_steps", "train_tflop");
        for (name, w) in rows {
            println!("{name:<22} {:>6} {:>12} {:>12.3}", w.cells, w.steps, w.gflop / 1e3);
        }
        return Ok(());
    }
    // Each experiment's claim and its rough cost on --profile: cells, the GD work bound, and
    // the wall time of its committed table's run where one exists (from its meta.json).
    println!(
        "# profile {}: experiment, cells, GD training at most (TFLOP), last run (first to last cell), claim",
        place.profile
    );
    for exp in place.experiments(&["all".into()])? {
        let w = resgen_experiments::estimate::profile_work(&exp, &place.profile)?;
        let table = resgen_experiments::table::table_path(&place.results, &exp, &place.profile);
        let meta: Option<serde_json::Value> = std::fs::read_to_string(resgen_experiments::table::meta_path(&table))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let last = meta
            .and_then(|m| {
                let (first, end) = (m["first_cell_finished"].as_str()?.to_string(), m["last_cell_finished"].as_str()?);
                let secs = seconds_between(&first, end)?;
                let cpu = m["cpus"].get(0).and_then(|c| c.as_str()).unwrap_or("CPU not recorded").to_string();
                Some(format!("{secs} s on {cpu}, {}", &first[..10.min(first.len())]))
            })
            .unwrap_or_else(|| "not run".into());
        println!("{:<20} {:>5} cells  {:>10.3} TFLOP  {:<44}  {}", exp.name, w.cells, w.gflop / 1e3, last, exp.claim);
    }
    Ok(())
}

/// Seconds from one `YYYY-MM-DDTHH:MM:SSZ` time to a later one (the same or the next days).
fn seconds_between(a: &str, b: &str) -> Option<i64> {
    let parse = |t: &str| -> Option<i64> {
        let (date, time) = t.trim_end_matches('Z').split_once('T')?;
        let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
        let h: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
        // Days from the civil date (Howard Hinnant's algorithm), then seconds.
        let (y, m, day) = (d[0] - i64::from(d[1] <= 2), d[1], d[2]);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(days * 86_400 + h[0] * 3600 + h[1] * 60 + h[2])
    };
    Some(parse(b)? - parse(a)?)
}

/// `resgen devices`: which backends this build has, whether each works here, and the GEMM
/// kernels of the CPU ones.
fn devices() {
    for b in BackendKind::ALL {
        let state = if !b.is_compiled() {
            format!("not compiled (enable the Cargo feature `{}`)", b.feature())
        } else {
            match b.checked_device(resgen_models::Precision::F32) {
                Ok(d) => match resgen_models::gpu_identity(&d) {
                    Some(adapter) => format!("compiled in, usable; adapter: {adapter}"),
                    None => "compiled in, usable".to_string(),
                },
                Err(e) => format!("compiled in, unusable here: {e}"),
            }
        };
        let kernels =
            b.cpu_gemm_kernels().filter(|_| b.is_compiled()).map_or(String::new(), |k| format!("; GEMM kernels: {k}"));
        println!("{:8} {state}{kernels}", b.name());
    }
}
