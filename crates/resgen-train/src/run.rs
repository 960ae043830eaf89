//! A training run and its folder: config, metadata, metrics, distances and weights.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use resgen_models::{BackendKind, Model, save_burnpack, save_safetensors};

use crate::{Metrics, RunConfig, StopReason, TrainError, Trainer, metrics_header};
use resgen_data::output::{csv_text, io_err, num, write_atomic, write_atomic_with};

/// What does not change a run's result: where it goes and how it reports.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The backend to train on.
    pub backend: BackendKind,
    /// The run folder; `None` means `runs/<name>-<hash>`.
    pub out: Option<PathBuf>,
    /// No progress bar.
    pub quiet: bool,
    /// A name for the run (the config file's stem), used in the default folder name.
    pub name: String,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub dir: PathBuf,
    /// Every logged row.
    pub rows: Vec<Metrics>,
    /// Why it stopped.
    pub stop: StopReason,
    /// Seconds spent training (excluding data loading and saving).
    pub train_seconds: f64,
}

/// `runs/<name>-<first 12 hex digits of the config hash>`.
pub fn run_folder_name(cfg: &RunConfig, name: &str) -> PathBuf {
    PathBuf::from("runs").join(format!("{name}-{}", &cfg.hash_hex()[..12]))
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn write_metrics(dir: &Path, net: &Model, rows: &[Metrics]) -> Result<(), TrainError> {
    let header = metrics_header(net);
    let body: Vec<Vec<String>> = rows.iter().map(|r| r.csv_row(net.cfg().width)).collect();
    let path = dir.join("metrics.csv");
    write_atomic(&path, csv_text(&header, &body).as_bytes()).map_err(io_err(&path))?;
    Ok(())
}

fn write_distances(dir: &Path, net: &Model, last: Option<&Metrics>) -> Result<(), TrainError> {
    let header: Vec<String> =
        ["layer", "trained", "fro_dist", "sqrt_m_fro_dist"].iter().map(|s| s.to_string()).collect();
    let Some(last) = last else { return Ok(()) };
    let sm = (net.cfg().width as f64).sqrt();
    let rows: Vec<Vec<String>> = last
        .dist
        .iter()
        .zip(net.names())
        .enumerate()
        .map(|(i, (d, name))| vec![name, net.is_trained(i + 1).to_string(), num(*d), num(d * sm)])
        .collect();
    let path = dir.join("distances.csv");
    write_atomic(&path, csv_text(&header, &rows).as_bytes()).map_err(io_err(&path))?;
    Ok(())
}

/// Safetensors for every network; burnpack too for the paper networks.
fn save_weights(dir: &Path, net: &Model, stem: &str) -> Result<(), TrainError> {
    let st = dir.join(format!("{stem}.safetensors"));
    write_atomic_with(&st, |tmp| save_safetensors(net, tmp)).map_err(io_err(&st))?;
    if let Some(net) = net.as_net() {
        let bp = dir.join(format!("{stem}.bpk"));
        write_atomic_with(&bp, |tmp| save_burnpack(net, tmp).map_err(std::io::Error::other)).map_err(io_err(&bp))?;
    }
    Ok(())
}

/// Trains `cfg` and writes its run folder. A diverging run still writes everything it logged
/// and its metadata, then returns the divergence as the error.
pub fn train_run(cfg: &RunConfig, opts: &RunOptions) -> Result<RunOutcome, TrainError> {
    let started = Instant::now();
    let device = opts.backend.checked_device(cfg.train.precision)?;
    let split = resgen_data::load(&cfg.data)?;
    let dir = opts.out.clone().unwrap_or_else(|| run_folder_name(cfg, &opts.name));
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    write_config(&dir, cfg)?;

    let mut trainer = Trainer::new(cfg, split, &device)?;
    trainer.use_backend(opts.backend);
    let mut meta = serde_json::json!({
        "resgen_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
        "config_hash": cfg.hash_hex(),
        "backend": resgen_models::backend_identity(opts.backend),
        "device": format!("{device:?}"),
        "precision": cfg.train.precision,
        "n_train": trainer.split().train.n,
        "n_test": trainer.split().test.n,
        "d": trainer.split().train.d,
        "train_positive_fraction": trainer.split().train.positive_fraction(),
        "eta": trainer.eta(),
        "theta": trainer.net.theta(),
        "status": "running",
    });
    let meta_path = dir.join("meta.json");
    let write_meta = |meta: &serde_json::Value| {
        write_atomic(&meta_path, serde_json::to_string_pretty(meta).expect("json").as_bytes())
            .map_err(io_err(&meta_path))
    };
    write_meta(&meta)?;
    if cfg.train.save_weights {
        save_weights(&dir, &trainer.net, "weights_init")?;
    }

    let bar = progress_bar(opts.quiet, trainer.planned_iterations());
    let t0 = Instant::now();
    let mut last_flush = Instant::now();
    let net_for_flush = trainer.net.clone();
    let mut partial: Vec<Metrics> = Vec::new();
    let (rows, stop) = trainer.train(|m, _| {
        bar.set_position(m.iter as u64);
        bar.set_message(format!("loss {:.4} err {:.3} test err {:.3}", m.train_loss, m.train_error, m.test_error));
        partial.push(m.clone());
        // Long runs keep a readable metrics.csv on disk; meta.json says it is not finished.
        if last_flush.elapsed() > Duration::from_secs(15) {
            let _ = write_metrics(&dir, &net_for_flush, &partial);
            last_flush = Instant::now();
        }
    });
    let train_seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();

    write_metrics(&dir, &trainer.net, &rows)?;
    write_distances(&dir, &trainer.net, rows.last())?;
    let diverged = matches!(stop, StopReason::Diverged(_));
    if cfg.train.save_weights && !diverged {
        save_weights(&dir, &trainer.net, "weights_final")?;
    }
    finish_meta(&mut meta, &stop, rows.last(), train_seconds, started.elapsed().as_secs_f64());
    write_meta(&meta)?;
    if let StopReason::Diverged(e) = &stop {
        return Err(TrainError::Diverged { divergence: e.clone(), dir });
    }
    Ok(RunOutcome { dir, rows, stop, train_seconds })
}

/// `config.toml`: the resolved config, every field, headed by the command that reruns it.
fn write_config(dir: &Path, cfg: &RunConfig) -> Result<(), TrainError> {
    let cfg_path = dir.join("config.toml");
    let header = format!(
        "# resgen run config (resolved, every field). Rerun with:\n#   resgen train --config {}\n",
        cfg_path.display()
    );
    write_atomic(&cfg_path, format!("{header}{}", cfg.to_toml()).as_bytes()).map_err(io_err(&cfg_path))?;
    Ok(())
}

/// The run's progress bar (hidden when quiet).
fn progress_bar(quiet: bool, planned: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(planned as u64);
    b.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} it, ETA {eta} {msg}")
            .expect("template"),
    );
    b
}

/// meta.json's closing fields: how the run stopped, where it ended, and how long it took.
fn finish_meta(meta: &mut serde_json::Value, stop: &StopReason, last: Option<&Metrics>, train_s: f64, wall_s: f64) {
    meta["status"] = match stop {
        StopReason::Diverged(e) => format!("diverged: {e}").into(),
        _ => "completed".into(),
    };
    meta["stop_reason"] = format!("{stop:?}").into();
    meta["iterations_done"] = last.map(|m| m.iter).into();
    meta["final_train_loss"] = last.map(|m| m.train_loss).into();
    meta["final_train_error"] = last.map(|m| m.train_error).into();
    meta["final_test_error"] = last.map(|m| m.test_error).into();
    meta["train_seconds"] = train_s.into();
    meta["wall_seconds"] = wall_s.into();
}
