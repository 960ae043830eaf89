//! Run configs: typed TOML with a default for every field, `--set key=value` overrides, and
//! errors that name the offending key.

use std::path::Path;

use resgen_data::DataConfig;
use resgen_models::{ModelConfig, Precision};
use serde::{Deserialize, Serialize};

/// The training algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Full-batch gradient descent on `L_S` (Frei, Cao and Gu), step `eta = nu / m`.
    Gd,
    /// Mini-batch SGD with reshuffling every epoch, step `eta = nu / m`.
    Sgd,
    /// Cao-Gu one-pass SGD: batch size 1, each example once, step
    /// `eta = kappa R / (m sqrt(n))`.
    OnePassSgd,
}

/// How the GD/SGD step size is scaled (`train.step_scale`).
///
/// With `eta = nu / m` for both networks, the FC network's function-space step grows with depth:
/// one GD step moves `f` by `-(eta / n) K l'`, and the FC kernel's diagonal is about
/// `m (1 + L / 2)` against about `m` for the ResNet at theta = 1/L. `ntk-trace` divides by the
/// kernel's own scale at `W0` instead, so that `eta K / n` has the same size for every network,
/// width and depth: the normalization used for every cross-architecture comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepScale {
    /// `eta = nu / m` (the theory's scaling; default).
    #[default]
    Width,
    /// `eta = nu / mean_i K(x_i, x_i)`, the empirical NTK's mean diagonal at `W0` over the
    /// training set (trained layers only): the trace normalization, `nu / (tr K0 / n)`.
    /// Chosen over `lambda_max(K0)` because it needs one backward pass, not a kernel.
    NtkTrace,
}

/// The `[train]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// `gd`, `sgd` or `one-pass-sgd`.
    pub algorithm: Algorithm,
    /// Step size constant: `eta = nu / m` for `gd` and `sgd` (see `step_scale`).
    pub nu: f64,
    /// `width` (`eta = nu / m`, default) or `ntk-trace` (`eta = nu / mean_i K0(x_i, x_i)`).
    pub step_scale: StepScale,
    /// One-pass SGD: `kappa` in `eta = kappa R / (m sqrt(n))`.
    pub kappa: f64,
    /// One-pass SGD: the radius `R` in the step size.
    pub radius: f64,
    /// Mini-batch size for `sgd`.
    pub batch_size: usize,
    /// Maximum number of iterations `K` (for one-pass SGD, also at most `n`).
    pub iterations: usize,
    /// Stop once the training loss is at most this (checked every step for `gd`, at logged
    /// iterations otherwise). `0` disables the check.
    pub target_loss: f64,
    /// Log metrics every this many iterations (and always at the first and last).
    pub log_every: usize,
    /// Tensor precision of the network: `f32` (default) or `f64`.
    pub precision: Precision,
    /// Save the initial and final weights (burnpack and safetensors).
    pub save_weights: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            algorithm: Algorithm::Gd,
            nu: 1.0,
            step_scale: StepScale::Width,
            kappa: 1.0,
            radius: 1.0,
            batch_size: 64,
            iterations: 200,
            target_loss: 0.0,
            log_every: 10,
            precision: Precision::F32,
            save_weights: true,
        }
    }
}

/// A whole run: data, model and training. Everything here determines the result; output
/// folders, verbosity and the backend are chosen on the command line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// The data set.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// The algorithm.
    pub train: TrainConfig,
}

/// A config that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Invalid TOML syntax.
    #[error("{path}: invalid TOML: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A key that does not exist or a value of the wrong type.
    #[error("{path}: key `{key}`: {message}")]
    Key {
        /// The file (or `--set`).
        path: String,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value outside its range.
    #[error("{0}")]
    Invalid(String),
}

impl RunConfig {
    /// Loads a TOML file and applies `key=value` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<RunConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: name.clone(), source })?;
        Self::from_toml_str(&text, &name, overrides)
    }

    /// Parses TOML text (`origin` names it in errors) and applies overrides.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<RunConfig, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax { path: origin.into(), message: e.to_string() })?;
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        let cfg: RunConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Key {
                path: if overrides.is_empty() { origin.into() } else { format!("{origin} (with --set)") },
                key: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges across all tables; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.data.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.model.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let t = &self.train;
        let bad = |k: &str, m: String| Err(ConfigError::Invalid(format!("train.{k}: {m}")));
        if !(t.nu.is_finite() && t.nu > 0.0) {
            return bad("nu", format!("{} must be a positive number", t.nu));
        }
        if t.algorithm == Algorithm::OnePassSgd && !(t.kappa > 0.0 && t.radius > 0.0) {
            return bad("kappa", "kappa and radius must be positive".into());
        }
        if t.algorithm == Algorithm::Sgd && t.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        if t.log_every == 0 {
            return bad("log_every", "must be at least 1".into());
        }
        if t.target_loss.is_nan() || t.target_loss < 0.0 {
            return bad("target_loss", format!("{} must be >= 0", t.target_loss));
        }
        Ok(())
    }

    /// The full resolved config as TOML: loadable to rerun the same run.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a RunConfig always serializes")
    }

    /// A stable 64-bit FNV-1a hash of the resolved config, as 16 hex digits. Every field here
    /// determines the result, so equal hashes mean equal runs.
    pub fn hash_hex(&self) -> String {
        fnv_hex(&self.to_toml())
    }

    /// Step size `eta` for this config and training set size `n`.
    pub fn step_size(&self, n: usize) -> f64 {
        let m = self.model.width as f64;
        match self.train.algorithm {
            Algorithm::Gd | Algorithm::Sgd => self.train.nu / m,
            Algorithm::OnePassSgd => self.train.kappa * self.train.radius / (m * (n as f64).sqrt()),
        }
    }
}

/// A stable 64-bit FNV-1a hash of `text`, as 16 hex digits (stable across platforms and
/// releases, unlike `std`'s hasher).
pub fn fnv_hex(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Applies `a.b.c=value`: the value is read as a TOML literal (`1024`, `true`, `"1/L"`,
/// `[1, 2]`), or as a plain string if it is not one (`theta=1/sqrt(L)`).
pub fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), ConfigError> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| ConfigError::Key {
        path: "--set".into(),
        key: assignment.into(),
        message: "expected key=value, e.g. model.width=1024".into(),
    })?;
    let key = key.trim();
    let value = parse_literal(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::Key { path: "--set".into(), key: key.into(), message: "empty key segment".into() });
    }
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(|| ConfigError::Key {
            path: "--set".into(),
            key: key.into(),
            message: format!("`{p}` is a value, not a table"),
        })?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

fn parse_literal(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}
