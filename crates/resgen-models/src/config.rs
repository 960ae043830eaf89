//! The `[model]` table of a run config, and the residual scaling `theta`.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Which network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// The residual network of Frei, Cao and Gu (one-layer branches scaled by theta).
    Resnet,
    /// The fully connected network of Cao and Gu.
    Fc,
    /// Beyond the paper: the ResNet with a trained scalar residual scale per block,
    /// `h_l = h_{l-1} + alpha_l relu(W_l h_{l-1})` with `alpha_l = theta` at initialization (the
    /// SkipInit / ReZero family). It exists only as a Burn module and trains by autodiff
    /// (`crate::LearnedScaleNet`).
    ResnetLearnedScale,
}

impl Arch {
    /// Short name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Resnet => "resnet",
            Arch::Fc => "fc",
            Arch::ResnetLearnedScale => "resnet-learned-scale",
        }
    }

    /// Whether the network has the written-out backward pass and factorized kernel ([`crate::Net`]);
    /// every other one trains and is measured through Burn's autodiff ([`crate::Network`]).
    pub fn has_fast_path(self) -> bool {
        matches!(self, Arch::Resnet | Arch::Fc)
    }

    /// Whether the network has residual blocks `h_l = h_{l-1} + (scale) relu(W_l h_{l-1})`.
    pub fn is_residual(self) -> bool {
        matches!(self, Arch::Resnet | Arch::ResnetLearnedScale)
    }
}

/// The residual branch (ResNet only).
///
/// - `one-layer` (default): `h_l = h_{l-1} + theta relu(W_l h_{l-1})`, as in Frei, Cao and Gu.
/// - `two-layer`: `h_l = h_{l-1} + theta V_l relu(W_l h_{l-1})`, with `V_l` (`m x m`) entries
///   `N(0, 1/m)` at initialization (a fixed choice, documented in docs/theory.md): with `W_l`'s
///   `N(0, 2/m)`, `E ||V_l relu(W_l h)||^2 = ||h||^2`, so the branch adds a centred term of the
///   stream's own size and `||h_L||^2 -> (1 + theta^2)^{L-1} ||h_1||^2`. Depth-free forward
///   passes then need only `theta = O(1/sqrt(L))` (Marion et al.; Hayou et al.).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Branch {
    /// `theta relu(W_l h)`.
    #[default]
    OneLayer,
    /// `theta V_l relu(W_l h)`.
    TwoLayer,
}

impl Branch {
    /// Whether this is the default (one-layer) branch.
    pub fn is_default(&self) -> bool {
        *self == Branch::OneLayer
    }

    /// The name used in configs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Branch::OneLayer => "one-layer",
            Branch::TwoLayer => "two-layer",
        }
    }
}

/// Initialization variance of the two-layer branch's output matrices `V_l`, times `m`.
pub const BRANCH_OUT_VARIANCE: f64 = 1.0;

/// Variance of the residual layers' entries `W_2..W_L` at initialization (ResNet only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ResidualVariance {
    /// `N(0, 2/m)`, as for the other hidden layers (default; reconstructed).
    #[default]
    #[serde(rename = "2/m")]
    TwoOverM,
    /// `N(0, 1/m)`.
    #[serde(rename = "1/m")]
    OneOverM,
}

/// The residual branch scaling, written as in docs/theory.md.
///
/// Accepted forms: `"1/L"` (default), `"c/L"` for a number `c` (e.g. `"2/L"`), `"1/sqrt(L)"`,
/// `"c/sqrt(L)"`, `"L^-g"` (e.g. `"L^-0.25"`), or a plain number (`"1"`, `"0.05"`). Reconstructed: the paper's exact
/// choice was not available; `1/L` is the Cao-Gu-style default. For the one-layer branch a
/// depth-free forward pass needs `theta = O(1/L)`; `1/sqrt(L)` is the threshold of the centred
/// two-layer branch (docs/derivations.md, section 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Theta(pub String);

impl Default for Theta {
    fn default() -> Self {
        Theta("1/L".into())
    }
}

impl Theta {
    /// The value of theta at depth `l` (number of hidden layers), or why the text is invalid
    /// ([`resgen_kernels::theta::value`]).
    pub fn value(&self, depth: usize) -> Result<f64, ModelError> {
        Ok(resgen_kernels::theta::value(&self.0, depth)?)
    }
}

/// The `[model]` table: the network and its initialization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// `resnet` or `fc`.
    pub arch: Arch,
    /// Width `m` of every hidden layer.
    pub width: usize,
    /// Number of hidden layers `L`; the network has `L + 1` weight matrices.
    pub depth: usize,
    /// Residual scaling (ResNet only), see [`Theta`].
    pub theta: Theta,
    /// Initialization variance of the residual layers (ResNet only; reconstructed option).
    pub residual_variance: ResidualVariance,
    /// The residual branch (ResNet only), see [`Branch`]. Left out of the serialized config
    /// when it is the default, so one-layer configs (and their cell hashes) read as before.
    #[serde(skip_serializing_if = "Branch::is_default")]
    pub branch: Branch,
    /// Keep `W_1` at its initialization (not trained).
    pub freeze_input: bool,
    /// Keep `W_{L+1}` at its initialization (not trained).
    pub freeze_output: bool,
    /// Seed of the initial weights `W0`.
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::Resnet,
            width: 256,
            depth: 4,
            theta: Theta::default(),
            residual_variance: ResidualVariance::default(),
            branch: Branch::default(),
            freeze_input: false,
            freeze_output: false,
            seed: 0,
        }
    }
}

impl ModelConfig {
    /// Checks every field; the error names it as `model.<field>`.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.width == 0 {
            return Err(ModelError::ZeroWidth);
        }
        if self.depth == 0 {
            return Err(ModelError::ZeroDepth);
        }
        self.theta.value(self.depth).map_err(|e| ModelError::Theta(Box::new(e)))?;
        if self.arch == Arch::ResnetLearnedScale && self.branch != Branch::OneLayer {
            return Err(ModelError::Unsupported {
                field: "branch",
                message: "resnet-learned-scale has one-layer branches only".into(),
            });
        }
        Ok(())
    }

    /// Whether the network has two-layer branches (and so the matrices `V_2..V_L`).
    pub fn two_layer(&self) -> bool {
        self.arch == Arch::Resnet && self.branch == Branch::TwoLayer
    }

    /// Theta at this config's depth (0 for the fully connected network, which has no branches;
    /// the learned scales' value at initialization for `resnet-learned-scale`).
    pub fn theta_value(&self) -> f64 {
        match self.arch {
            Arch::Resnet | Arch::ResnetLearnedScale => self.theta.value(self.depth).unwrap_or(f64::NAN),
            Arch::Fc => 0.0,
        }
    }
}
