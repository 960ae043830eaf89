//! What can be wrong with an experiment file or its sweep; each error names the file, and the
//! key where there is one.

use std::path::PathBuf;

use resgen_train::ConfigError;

/// An error of an experiment file, its profiles or its cells.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The file (or folder) could not be read, or is not TOML.
    #[error("{}: {message}", path.display())]
    File {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A key of the file that is unknown, missing or of the wrong type.
    #[error("{}: key `{key}`: {message}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// No experiment of that name in the folder.
    #[error("no experiment '{name}' ({} not found); known: {}", path.display(), known.join(", "))]
    NotFound {
        /// The name asked for.
        name: String,
        /// The file looked for.
        path: PathBuf,
        /// The experiments the folder has.
        known: Vec<String>,
    },
    /// No profile of that name in the file.
    #[error("{}: no profile '{name}' (it has: {})", path.display(), known.join(", "))]
    NoProfile {
        /// The file.
        path: PathBuf,
        /// The profile asked for.
        name: String,
        /// The profiles the file has.
        known: Vec<String>,
    },
    /// A profile's grid or settings that do not make a run config (`origin` is
    /// `<file> [profiles.<name>]`).
    #[error("{origin}: {message}")]
    Profile {
        /// The file and profile.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A cell's run config that does not load (the error names the file and profile).
    #[error("{0}")]
    Config(Box<ConfigError>),
    /// A cell of a sweep whose config is invalid.
    #[error("{error} (cell {cell})")]
    Cell {
        /// The cell's grid coordinates (`arch=fc depth=8`).
        cell: String,
        /// What is wrong with its config.
        error: Box<ExperimentError>,
    },
    /// A folder entry that could not be read.
    #[error("{0}")]
    Io(std::io::Error),
    /// A `--shard` that is not `k/N`.
    #[error("--shard '{0}': expected k/N with 1 <= k <= N, e.g. 2/8")]
    Shard(String),
    /// A kind's `[params]` (or the cell's config) that it cannot measure with; the message
    /// names the key.
    #[error("{0}")]
    Params(String),
    /// A result table (or a cell's result file) that is missing, malformed, or lacks a column
    /// or row that is asked for.
    #[error("{}: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line or column where there is one.
        message: String,
    },
    /// An experiment whose finished cells come from more than one code version or backend.
    #[error(
        "{experiment}: its finished cells come from {} code version(s) ({}) and {} backend(s) ({}); rerun the experiment to recompute the stale cells, or merge with --allow-mixed (recorded in the table's meta.json)",
        codes.len(),
        codes.join(", "),
        backends.len(),
        backends.join(", ")
    )]
    MixedProvenance {
        /// The experiment.
        experiment: String,
        /// The code versions (`unrecorded` where a cell has none).
        codes: Vec<String>,
        /// The backends.
        backends: Vec<String>,
    },
    /// A command report (bounds of a trained run) failed.
    #[error(transparent)]
    Report(#[from] resgen_reports::ReportError),
    /// A training run of a cell diverged.
    #[error(transparent)]
    Diverged(#[from] resgen_train::Divergence),
    /// A measurement that could not be made (what is missing).
    #[error("{0}")]
    Measurement(String),
    /// A cell's measurement panicked (the panic's message).
    #[error("panicked: {0}")]
    Panicked(String),
    /// A training run failed.
    #[error(transparent)]
    Train(#[from] resgen_train::TrainError),
    /// A kernel or bound computation failed.
    #[error(transparent)]
    Bounds(#[from] resgen_bounds::BoundsError),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] resgen_data::DataError),
    /// The network's config is invalid.
    #[error(transparent)]
    Model(#[from] resgen_models::ModelError),
    /// The backend cannot be used here.
    #[error(transparent)]
    Backend(#[from] resgen_models::BackendError),
    /// A file could not be written or read.
    #[error(transparent)]
    FileIo(#[from] resgen_data::output::FileError),
}

impl ExperimentError {
    /// A [`ExperimentError::Table`] error on `path`.
    pub fn table(path: &std::path::Path, message: impl Into<String>) -> ExperimentError {
        ExperimentError::Table { path: path.to_path_buf(), message: message.into() }
    }
}

/// The Burn-free kernel arithmetic's errors, as the bounds' ones.
impl From<resgen_bounds::KernelError> for ExperimentError {
    fn from(e: resgen_bounds::KernelError) -> Self {
        ExperimentError::Bounds(e.into())
    }
}
