//! What can go wrong with a network's config or its weight files; each message names the
//! field or the file.

use std::path::PathBuf;

/// An error of a model config or a weight file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A theta text that does not parse or gives a value that is not allowed.
    #[error(transparent)]
    ThetaText(#[from] resgen_kernels::theta::ThetaError),
    /// `model.width = 0`.
    #[error("model.width: must be at least 1")]
    ZeroWidth,
    /// `model.depth = 0`.
    #[error("model.depth: must be at least 1 hidden layer")]
    ZeroDepth,
    /// A network with no written-out backward pass asked for one (only the two paper networks
    /// have it; [`crate::Model`] takes every architecture).
    #[error("model.arch = \"{0}\" has no written-out backward pass; it runs on the general (autodiff) path only")]
    NoFastPath(&'static str),
    /// A setting that this architecture does not have.
    #[error("model.{field}: {message}")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// An invalid `model.theta`.
    #[error("model.theta: {0}")]
    Theta(Box<ModelError>),
    /// A weight file that could not be written or read.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
