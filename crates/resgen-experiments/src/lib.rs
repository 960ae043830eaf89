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
//! - [`fits`]: the derived tables' fits and their columns (depth exponents, min-width's growth
//!   laws, Spearman tables), computed with the `resgen-stats` crate.
//! - [`estimate`]: the training work of a profile, from each kind's estimate.
//! - [`num`]: how tables display numbers.
//! - [`plot`]: SVG figures from the tables alone.
//! - [`results`]: the result tables read back for verdicts, typed at load.
//! - [`verdict`]: a claim's row and its verdict, the paired-comparison rules and number formats
//!   every experiment's verdict uses.
//! - [`report`]: `results/summary.md` and `.tex`, one row per claim with its verdict.

pub mod error;
pub mod estimate;
pub mod fits;
pub mod kinds;
pub mod num;
pub mod plot;
pub mod provenance;
pub mod record;
pub mod report;
pub mod results;
pub mod spec;
pub mod sweep;
pub mod table;
pub mod verdict;

pub use error::ExperimentError;
pub use kinds::{ExperimentKind, Kind};
pub use plot::{caption, plot_experiment, plot_path};
pub use spec::{Cell, Experiment, Profile};
pub use sweep::{SweepOptions, SweepReport, run_sweep};
pub use table::{MergeOptions, MergeReport, merge, merge_with};
