//! Running a sweep: each cell once, resumably.
//!
//! A cell is finished when `<runs>/<kind>/<hash>/result.json` exists; it is written atomically
//! (temporary file, then rename) as the cell's last act, so a process killed mid-cell leaves
//! no result and the cell reruns next time, while finished cells are skipped. A failing cell
//! (an error or a panic) writes `error.txt`, is reported at the end, and does not stop the rest.
//!
//! A finished cell is reused only when its [`Provenance`] matches this run: the same code
//! identity (a hash of the sources, see [`crate::provenance`]) and the same backend. A cell
//! computed by other code or on another backend is stale and is computed again (its result is
//! replaced), unless [`SweepOptions::reuse_stale`] says to keep it; the table's provenance
//! sidecar then lists every code version and backend behind it.

use crate::ExperimentError;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use resgen_data::output::{io_err, write_atomic, write_atomic_new};
use resgen_models::BackendKind;
use serde::{Deserialize, Serialize};

use crate::kinds::Context;
use crate::provenance::Provenance;
use crate::record::Record;
use crate::spec::{Cell, Experiment};

/// What a finished cell stores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellResult {
    /// The measured rows.
    pub rows: Vec<Record>,
    /// Wall seconds the measurement took.
    pub seconds: f64,
    /// The backend it ran on.
    pub backend: String,
    /// resgen's version.
    pub version: String,
    /// The code, backend, machine and time that produced it (empty in results written before
    /// provenance was recorded: such cells are stale).
    #[serde(default)]
    pub provenance: Provenance,
}

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The runs root (default `runs/`).
    pub runs: PathBuf,
    /// Backend for training (kernels use its f64 CPU/CUDA device).
    pub backend: BackendKind,
    /// Only shard `k` of `n`.
    pub shard: Option<(usize, usize)>,
    /// No progress bar.
    pub quiet: bool,
    /// Keep finished cells computed by other code or on another backend instead of computing
    /// them again (the table's sidecar then says so).
    pub reuse_stale: bool,
    /// Cells computed at once (worker threads; each cell's own GEMMs also use the thread pool).
    pub jobs: usize,
}

/// The outcome of a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    /// Cells in this sweep (this shard).
    pub cells: usize,
    /// Cells found finished and skipped (cells sharing a hash with another run once, and
    /// count in neither this nor `ran`).
    pub skipped: usize,
    /// Finished cells from other code or another backend, computed again (0 with
    /// `reuse_stale`).
    pub stale: usize,
    /// Cells run now.
    pub ran: usize,
    /// Cells run now whose result another process (an overlapping shard or resubmission)
    /// wrote first: its result is kept and this one is dropped (counted in `ran` too).
    pub raced: usize,
    /// Failed cells: label and error.
    pub failed: Vec<(String, String)>,
    /// Wall seconds.
    pub seconds: f64,
}

/// The result file of a cell.
pub fn result_path(cell: &Cell, runs: &Path) -> PathBuf {
    cell.dir(runs).join("result.json")
}

/// Reads a finished cell's result, `None` if it has not finished.
pub fn read_result(cell: &Cell, runs: &Path) -> Result<Option<CellResult>, ExperimentError> {
    let p = result_path(cell, runs);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
    serde_json::from_str(&text).map(Some).map_err(|e| ExperimentError::table(&p, e.to_string()))
}

/// Runs every unfinished cell of `exp`'s `profile` (or of one shard of it).
pub fn run_sweep(exp: &Experiment, profile: &str, opts: &SweepOptions) -> Result<SweepReport, ExperimentError> {
    let start = Instant::now();
    let mut cells = exp.cells(profile)?;
    if let Some((k, n)) = opts.shard {
        cells = crate::spec::shard(cells, k, n);
    }
    let mut report = SweepReport { cells: cells.len(), ..Default::default() };
    let backend = resgen_models::backend_identity(opts.backend);
    let (finished, stale) = finished_and_stale(&cells, opts, &backend);
    report.skipped = cells.iter().filter(|c| finished.contains(&c.hash)).count();
    report.stale = stale.len();
    if !stale.is_empty() && !opts.quiet {
        eprintln!(
            "{}: {} finished cell(s) came from other code or another backend than this run ({}, {backend}); computing them again (--reuse-stale keeps them)",
            exp.name,
            stale.len(),
            crate::provenance::code_id()
        );
    }
    // Cells with equal hashes (e.g. FC cells that differ only in theta) run once.
    let mut seen = HashSet::new();
    let todo: Vec<&Cell> =
        cells.iter().filter(|c| !finished.contains(&c.hash) && seen.insert(c.hash.clone())).collect();
    let bar = sweep_bar(opts.quiet, todo.len(), format!("{} ({profile})", exp.name));
    bar.set_message(format!("{} already done, 0 failed", report.skipped));
    // Test hook for the resume tests: `RESGEN_ABORT_AFTER_CELLS=k` exits the process once k
    // cells of a sweep have finished, without cleanup: a kill at a known point.
    let abort_after: Option<usize> = std::env::var("RESGEN_ABORT_AFTER_CELLS").ok().and_then(|v| v.parse().ok());
    let report = std::sync::Mutex::new(report);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let first_error: std::sync::Mutex<Option<ExperimentError>> = std::sync::Mutex::new(None);
    // `jobs` workers take the next unfinished cell until none is left (or an I/O error stops
    // them); each cell's arithmetic does not depend on which worker runs it.
    let worker = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if i >= todo.len() || first_error.lock().expect("not poisoned").is_some() {
                return;
            }
            let cell = todo[i];
            // While every core has a cell, the fused step keeps each cell on its own thread.
            let slot = resgen_models::CellSlot::take();
            let result = run_cell(exp, profile, cell, opts, &backend, stale.contains(&cell.hash));
            drop(slot);
            match result {
                Ok(Ok(raced)) => {
                    let mut r = report.lock().expect("not poisoned");
                    r.ran += 1;
                    r.raced += usize::from(raced);
                    if abort_after.is_some_and(|k| r.ran >= k) {
                        // The test hook: stop like a killed process (no unwinding, no
                        // destructors, so no cleanup), with a killed process's exit status.
                        std::process::exit(137);
                    }
                }
                Ok(Err(e)) => {
                    bar.suspend(|| eprintln!("cell {} failed: {e}", cell.label()));
                    report.lock().expect("not poisoned").failed.push((cell.label(), e.to_string()));
                }
                Err(e) => {
                    first_error.lock().expect("not poisoned").get_or_insert(e);
                    return;
                }
            }
            bar.inc(1);
            let r = report.lock().expect("not poisoned");
            bar.set_message(format!("{} already done, {} failed", r.skipped, r.failed.len()));
        }
    };
    let jobs = opts.jobs.max(1).min(todo.len().max(1));
    if jobs == 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(worker);
            }
        });
    }
    if let Some(e) = first_error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut report = report.into_inner().expect("not poisoned");
    bar.finish_and_clear();
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// The cells' hashes with a reusable result (from this code on this backend, or any with
/// `reuse_stale`), and those with a result to compute again (other code, another backend, or
/// unreadable).
fn finished_and_stale(cells: &[Cell], opts: &SweepOptions, backend: &str) -> (HashSet<String>, HashSet<String>) {
    let mut stale = HashSet::new();
    let mut finished = HashSet::new();
    for c in cells {
        match read_result(c, &opts.runs) {
            Ok(None) => {}
            Ok(Some(r)) if opts.reuse_stale || r.provenance.reusable_for(backend) => {
                finished.insert(c.hash.clone());
            }
            _ => {
                stale.insert(c.hash.clone());
            }
        }
    }
    (finished, stale)
}

/// The sweep's progress bar over `len` cells (hidden when quiet).
fn sweep_bar(quiet: bool, len: usize, prefix: String) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len as u64) };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} cells, {msg} [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// Runs one cell and writes its result (or `error.txt`). `Ok(Ok(raced))`: finished, `raced`
/// if another process wrote the result first; `Ok(Err(e))`: the cell failed; `Err`: an I/O
/// error that stops the sweep.
fn run_cell(
    exp: &Experiment,
    profile: &str,
    cell: &Cell,
    opts: &SweepOptions,
    backend: &str,
    stale: bool,
) -> Result<Result<bool, ExperimentError>, ExperimentError> {
    let dir = cell.dir(&opts.runs);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let cfg_path = dir.join("cell.toml");
    let about = format!(
        "# {} cell of experiment '{}': {}\n# kind = {}\n# params = {}\n\n{}",
        profile,
        exp.name,
        cell.label(),
        cell.kind.name(),
        toml::to_string(&cell.params).unwrap_or_default().replace('\n', " "),
        cell.config.to_toml()
    );
    write_atomic(&cfg_path, about.as_bytes()).map_err(io_err(&cfg_path))?;
    if stale {
        let p = result_path(cell, &opts.runs);
        std::fs::remove_file(&p)
            .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
            .map_err(io_err(&p))?;
    }
    let t = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cell.kind.measure(cell, &Context::new(opts.backend, &dir))
    }))
    .unwrap_or_else(|p| Err(ExperimentError::Panicked(resgen_models::panic_message(&*p, "unknown panic"))));
    let err_path = dir.join("error.txt");
    match outcome {
        Ok(rows) => {
            let res = CellResult {
                rows,
                seconds: t.elapsed().as_secs_f64(),
                backend: backend.to_string(),
                version: env!("CARGO_PKG_VERSION").into(),
                provenance: Provenance::current(backend, precision_name(cell)),
            };
            let p = result_path(cell, &opts.runs);
            let text = serde_json::to_string_pretty(&res).map_err(|e| ExperimentError::table(&p, e.to_string()))?;
            // Never replace a finished result: of two processes racing on a cell, the first to
            // finish wins. A stale result was removed before the cell started.
            let written = write_atomic_new(&p, text.as_bytes()).map_err(io_err(&p))?;
            let _ = std::fs::remove_file(&err_path);
            Ok(Ok(!written))
        }
        Err(e) => {
            let _ = write_atomic(&err_path, format!("{}\n{e}\n", cell.label()).as_bytes());
            Ok(Err(e))
        }
    }
}

/// The training precision of a cell, as the sidecar names it.
fn precision_name(cell: &Cell) -> &'static str {
    match cell.config.train.precision {
        resgen_models::Precision::F32 => "f32",
        resgen_models::Precision::F64 => "f64",
    }
}
