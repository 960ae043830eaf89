//! What can go wrong with a network's config or its weight files; each message names the
//! field or the file.

use std::path::PathBuf;

/// An error of a model config or a weight file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A theta coefficient that is not a number (`x/L`).
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// A theta exponent that is not a number (`L^-x`).
    #[error("'{text}': the exponent '{exponent}' is not a number")]
    Exponent {
        /// The theta text.
        text: String,
        /// Its exponent.
        exponent: String,
    },
    /// A theta text of none of the known forms.
    #[error("'{0}': expected \"1/L\", \"c/L\", \"1/sqrt(L)\", \"c/sqrt(L)\", \"L^-g\" or a number")]
    ThetaForm(String),
    /// A theta that is negative or not finite at the depth.
    #[error("'{text}' gives theta = {value}; it must be finite and >= 0")]
    ThetaValue {
        /// The theta text.
        text: String,
        /// Its value.
        value: f64,
    },
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
