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
}

impl From<ExperimentError> for String {
    /// The message, for callers whose errors are still text.
    fn from(e: ExperimentError) -> String {
        e.to_string()
    }
}
