//! resgen's named experiments: one per theorem-level claim of Frei, Cao and Gu (2019) against
//! the fully connected baseline of Cao and Gu (2019) (docs/theory.md, "What each experiment
//! measures").
//!
//! - [`error`]: what can be wrong with an experiment file, naming the file and the key.
//! - [`spec`]: the experiment files `experiments/<name>.toml`, their profiles, and the cells
//!   of a sweep (hashed by what determines their result).
//! - [`record`]: what a cell stores (records, and numbers as keys).
//! - [`kinds`]: one file per experiment kind (its parameters, its measurement of one cell, its
//!   work estimate, its derived table and the columns it writes), and the registry of kinds.
//! - [`sweep`]: running cells resumably, skipping finished ones, reporting failures, sharding.
//! - [`table`]: merging finished cells into `results/<name>.csv` (mean and sd over seeds),
//!   with the provenance sidecar `results/<name>.meta.json`.
//! - [`provenance`]: the code identity, backend, machine and time behind each cell.
//! - [`fit`]: the statistics of the derived tables (min-width's log-vs-power growth laws,
//!   rank correlations).
//! - [`stats`]: bootstrap intervals over seeds and the depth exponent of the width.
//! - [`estimate`]: the training work of a profile, from each kind's estimate.
//! - [`num`]: how tables display numbers.
//! - [`plot`]: SVG figures from the tables alone.
//! - [`report`]: `results/summary.md` and `.tex`, one row per claim with its verdict.

pub mod error;
pub mod estimate;
pub mod fit;
pub mod kinds;
pub mod num;
pub mod plot;
pub mod provenance;
pub mod record;
pub mod report;
pub mod spec;
pub mod stats;
pub mod sweep;
pub mod table;

pub use error::ExperimentError;
pub use kinds::{ExperimentKind, Kind};
pub use spec::{Cell, Experiment, Profile};
pub use sweep::{SweepOptions, SweepReport, run_sweep};
pub use table::{MergeOptions, MergeReport, merge, merge_with};

use std::path::Path;

/// The figure next to a table: `results/<name>.svg` (or under `results/<profile>/`).
pub fn plot_path(results: &Path, exp: &Experiment, profile: &str) -> std::path::PathBuf {
    table::table_path(results, exp, profile).with_extension("svg")
}

/// The caption line under a figure's title: the profile, the sizes every cell shares (n, m, L,
/// data, when they are not a column of the grid), and what the error bars are.
pub fn caption(exp: &Experiment, profile: &str) -> Result<String, ExperimentError> {
    let cells = exp.cells(profile)?;
    let Some(first) = cells.first() else { return Ok(format!("{profile} profile")) };
    let grid: Vec<String> = first.coords.iter().map(|(k, _)| k.clone()).collect();
    let c = &first.config;
    let mut parts = vec![format!("{profile} profile")];
    let fixed = [
        ("dataset", "data", format!("{:?}", c.data.source).to_lowercase()),
        ("n_train", "n", c.data.n_train.to_string()),
        ("width", "m", c.model.width.to_string()),
        ("depth", "L", c.model.depth.to_string()),
    ];
    for (col, name, v) in fixed {
        // min-width searches over the width itself.
        let searched = col == "width" && exp.kind == Kind::MinWidth;
        if !searched && !grid.iter().any(|g| g == col) {
            parts.push(format!("{name} = {v}"));
        }
    }
    let seeds: std::collections::BTreeSet<u64> = cells.iter().map(|c| c.seed).collect();
    parts.push(match seeds.len() {
        1 => "one seed (no error bars)".to_string(),
        k => format!("error bars: sd over {k} seeds"),
    });
    Ok(parts.join("; "))
}

/// Draws the experiment's figure from its table.
pub fn plot_experiment(
    exp: &Experiment,
    profile: &str,
    results: &Path,
) -> Result<Vec<std::path::PathBuf>, ExperimentError> {
    let table = table::table_path(results, exp, profile);
    let out = plot_path(results, exp, profile);
    let title = match (&exp.plot.title, exp.claim.is_empty()) {
        (Some(t), _) => format!("{}: {t}", exp.name),
        (None, true) => exp.name.clone(),
        (None, false) => format!("{}: {}", exp.name, exp.claim),
    };
    let caption = caption(exp, profile)?;
    plot::plot(&table, &out, &exp.plot, &title, &caption)?;
    let mut written = vec![out];
    for (figure, spec) in &exp.figures {
        let with_suffix = |p: &Path, suffix: &str, ext: &str| p.with_file_name(format!("{}-{suffix}.{ext}", exp.name));
        let source = match &spec.table {
            Some(derived) => with_suffix(&table, derived, "csv"),
            None => table.clone(),
        };
        let out = with_suffix(&table, figure, "svg");
        let title = match &spec.title {
            Some(t) => format!("{}: {t}", exp.name),
            None => title.clone(),
        };
        // A further figure of a derived table with nothing to draw (e.g. every cell censored,
        // so no width was found) is left out; the main figure is always drawn.
        if plot::has_points(&source, spec)? {
            plot::plot(&source, &out, spec, &title, &caption)?;
            written.push(out);
        } else if out.exists() {
            std::fs::remove_file(&out).map_err(resgen_train::output::io_err(&out))?;
        }
    }
    Ok(written)
}
