//! Data for resgen: binary classification tasks with unit-norm inputs.
//!
//! The theory (Cao and Gu 2019; Frei, Cao and Gu 2019) assumes inputs on the unit sphere,
//! `||x||_2 = 1`, and labels `y in {-1, +1}`. Every source here ends in that form:
//!
//! - [`DataSource::Sphere`]: `x` uniform on the sphere in `R^d`, labels from a teacher
//!   (a half-space, a random ResNet or a random fully connected network), optional label flips.
//! - [`DataSource::Mnist`]: the bundled 5,000-digit MNIST subset (`data/mnist_5k.csv.gz`),
//!   as a digit pair (`3v5`) or `odd-even`.
//! - [`DataSource::Csv`]: a user's own file, features then label (label column configurable).
//!
//! [`output`] holds the file layer every crate above writes its results through: atomic writes
//! (a temporary file renamed into place, so a killed run never leaves a half-written file),
//! errors that name the file, and CSV text.
//!
//! All randomness (sampling, teachers, subsampling, the train/test split) comes from
//! [`rng`], a ChaCha8 stream keyed by the seed and a purpose, so a seed gives the same data on
//! every machine and backend.

mod config;
mod csvfile;
mod error;
pub mod output;
mod sphere;

pub use config::{BUNDLED_MNIST_SOURCE, DataConfig, DataSource, HeaderMode, Teacher};
pub use csvfile::{RawTable, read_table};
pub use error::DataError;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// A labelled data set held on the host, row-major, in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Number of examples.
    pub n: usize,
    /// Input dimension.
    pub d: usize,
    /// Inputs, `n * d` values, row `i` is example `i`.
    pub x: Vec<f64>,
    /// Labels in {-1, +1}.
    pub y: Vec<f64>,
}

impl Dataset {
    /// Row `i` of the inputs.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The examples at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(self.row(i));
            y.push(self.y[i]);
        }
        Dataset { n: idx.len(), d: self.d, x, y }
    }

    /// Fraction of labels equal to +1.
    pub fn positive_fraction(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        self.y.iter().filter(|&&v| v > 0.0).count() as f64 / self.n as f64
    }
}

/// A deterministic train/test pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Training set `S`.
    pub train: Dataset,
    /// Held-out test set, used to measure the generalization gap.
    pub test: Dataset,
}

/// Purposes of the independent random streams drawn from one seed.
///
/// Each purpose is its own ChaCha stream, so adding draws for one purpose never shifts another.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    /// Sphere inputs.
    Inputs = 1,
    /// Teacher network or half-space weights.
    Teacher = 2,
    /// Label-flip noise.
    Noise = 3,
    /// Subsampling and the train/test split.
    Split = 4,
    /// Initial network weights `W0` (used by `resgen-models`).
    Weights = 5,
    /// Mini-batch order for SGD (used by `resgen-train`).
    Batches = 6,
    /// Rademacher sign vectors (used by `resgen-bounds`).
    Signs = 7,
}

/// The type of [`rng`]'s streams.
pub type SeededRng = ChaCha8Rng;

/// The seeded host random stream for `purpose`: the same numbers on every machine and backend.
pub fn rng(seed: u64, purpose: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(purpose as u64);
    r
}

/// Builds the train/test split that `cfg` describes.
///
/// Inputs are standardized per feature (if asked, with statistics of the training split only)
/// and then scaled to unit norm.
pub fn load(cfg: &DataConfig) -> Result<Split, DataError> {
    cfg.validate()?;
    let mut split = match cfg.source {
        DataSource::Sphere => sphere::generate(cfg)?,
        DataSource::Mnist | DataSource::Csv => {
            let path = cfg.resolved_path();
            let table = read_table(&path, cfg.header_mode(), cfg.label_column)?;
            let full = table.to_binary(&path, cfg)?;
            split_by_seed(&full, cfg.n_train, cfg.n_test, cfg.seed, &path.display().to_string())?
        }
    };
    // Label noise corrupts the training labels only: the test set measures the clean task.
    sphere::flip_labels(&mut split.train, cfg.label_noise, cfg.seed);
    if cfg.standardize {
        standardize(&mut split);
    }
    normalize_rows(&mut split.train, "training set")?;
    normalize_rows(&mut split.test, "test set")?;
    check_two_classes(&split.train, "training set")?;
    Ok(split)
}

/// Shuffles `full` with the seed's split stream and takes `n_train` then `n_test` examples.
pub fn split_by_seed(full: &Dataset, n_train: usize, n_test: usize, seed: u64, what: &str) -> Result<Split, DataError> {
    if n_train + n_test > full.n {
        return Err(DataError::TooFew { what: what.to_string(), available: full.n, requested: n_train + n_test });
    }
    let mut idx: Vec<usize> = (0..full.n).collect();
    idx.shuffle(&mut rng(seed, Stream::Split));
    Ok(Split { train: full.select(&idx[..n_train]), test: full.select(&idx[n_train..n_train + n_test]) })
}

/// Per-feature standardization with the training split's mean and standard deviation.
/// Constant features (standard deviation 0) are centred only.
pub fn standardize(split: &mut Split) {
    let (n, d) = (split.train.n, split.train.d);
    let mut mean = vec![0.0; d];
    let mut var = vec![0.0; d];
    for i in 0..n {
        for (j, v) in split.train.row(i).iter().enumerate() {
            mean[j] += v / n as f64;
        }
    }
    for i in 0..n {
        for (j, v) in split.train.row(i).iter().enumerate() {
            var[j] += (v - mean[j]).powi(2) / n as f64;
        }
    }
    let sd: Vec<f64> = var.iter().map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 }).collect();
    for set in [&mut split.train, &mut split.test] {
        for row in set.x.chunks_mut(d) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - mean[j]) / sd[j];
            }
        }
    }
}

/// Scales every row to unit Euclidean norm; a zero row is an error naming it.
pub fn normalize_rows(set: &mut Dataset, what: &str) -> Result<(), DataError> {
    if set.d == 0 {
        return Ok(());
    }
    for (i, row) in set.x.chunks_mut(set.d).enumerate() {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm <= 0.0 || !norm.is_finite() {
            return Err(DataError::ZeroRow { what: what.to_string(), row: i });
        }
        row.iter_mut().for_each(|v| *v /= norm);
    }
    Ok(())
}

fn check_two_classes(set: &Dataset, what: &str) -> Result<(), DataError> {
    let pos = set.y.iter().filter(|&&v| v > 0.0).count();
    if set.n > 0 && (pos == 0 || pos == set.n) {
        let label = if pos == 0 { "-1" } else { "+1" };
        return Err(DataError::SingleClass { what: what.to_string(), label: label.to_string() });
    }
    Ok(())
}
