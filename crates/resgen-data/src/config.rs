//! The `[data]` table of a run config.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DataError;

/// Where the examples come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// Uniform on the unit sphere with teacher labels.
    Sphere,
    /// The bundled MNIST subset.
    Mnist,
    /// A user's CSV file.
    Csv,
}

/// The labelling rule for sphere data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Teacher {
    /// `y = sign(<w*, x>)` with `w*` uniform on the sphere: linearly separable.
    Halfspace,
    /// `y = sign(f(x))` for a random ResNet at Gaussian initialization (theta = 1/L).
    Resnet,
    /// `y = sign(f(x))` for a random fully connected ReLU network at initialization.
    Fc,
}

/// Whether a CSV file's first row is a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderMode {
    /// A header if any field of the first row is not a number.
    Auto,
    /// The first row is a header.
    Yes,
    /// There is no header.
    No,
}

/// The `[data]` table. Every field has a default; fields that do not apply to the chosen
/// `source` are ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// `sphere`, `mnist` or `csv`.
    pub source: DataSource,
    /// Training examples `n`.
    pub n_train: usize,
    /// Held-out test examples.
    pub n_test: usize,
    /// Seed for sampling, teachers, label noise and the split.
    pub seed: u64,
    /// Sphere: input dimension `d`.
    pub d: usize,
    /// Sphere: the labelling rule.
    pub teacher: Teacher,
    /// Sphere: hidden width of a network teacher.
    pub teacher_width: usize,
    /// Sphere: hidden layers of a network teacher.
    pub teacher_depth: usize,
    /// Probability that each training label is flipped, in [0, 0.5] (any source); test labels
    /// stay clean. 0.5 makes the training labels independent of the inputs (a corrupted
    /// fraction c, each label replaced by a random one with probability c, is c / 2 here).
    pub label_noise: f64,
    /// MNIST: `"AvB"` for digit A (+1) against digit B (-1), or `"odd-even"` (odd = +1).
    pub task: String,
    /// MNIST and CSV: the file (`.csv` or `.csv.gz`). MNIST defaults to the bundled subset.
    pub path: Option<PathBuf>,
    /// CSV: whether the first row is a header.
    pub header: HeaderMode,
    /// CSV: the label column, 0-based; negative counts from the end (-1 = last).
    pub label_column: i64,
    /// CSV: label values of the +1 class.
    pub positive: Vec<String>,
    /// CSV: label values of the -1 class; empty means "every other label".
    pub negative: Vec<String>,
    /// Standardize each feature with the training split's mean and standard deviation before
    /// scaling rows to unit norm (for tabular data with mixed scales).
    pub standardize: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            source: DataSource::Mnist,
            n_train: 500,
            n_test: 500,
            seed: 0,
            d: 20,
            teacher: Teacher::Halfspace,
            teacher_width: 32,
            teacher_depth: 2,
            label_noise: 0.0,
            task: "3v5".into(),
            path: None,
            header: HeaderMode::Auto,
            label_column: -1,
            positive: Vec::new(),
            negative: Vec::new(),
            standardize: false,
        }
    }
}

/// How the bundled subset (`data/mnist_5k.csv.gz` in the workspace) is named when no `path`
/// is given: it is read from the copy compiled
/// into the library, so a `resgen` binary works from any directory and after the source tree
/// moves.
pub const BUNDLED_MNIST_SOURCE: &str = "<bundled>/mnist_5k.csv.gz";

impl DataConfig {
    /// Checks ranges and the fields the chosen source needs.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |field, message: String| Err(DataError::Config { field, message });
        if self.n_train == 0 {
            return bad("n_train", "must be at least 1".into());
        }
        if !(0.0..=0.5).contains(&self.label_noise) {
            return bad("label_noise", format!("{} is outside [0, 0.5]", self.label_noise));
        }
        match self.source {
            DataSource::Sphere => {
                if self.d < 2 {
                    return bad("d", format!("{} is too small; the sphere needs d >= 2", self.d));
                }
                if self.teacher != Teacher::Halfspace && (self.teacher_width == 0 || self.teacher_depth == 0) {
                    return bad("teacher_width", "a network teacher needs width and depth >= 1".into());
                }
            }
            DataSource::Mnist => {
                self.mnist_classes()?;
            }
            DataSource::Csv => {
                if self.path.is_none() {
                    return bad("path", "source = \"csv\" needs a file".into());
                }
                if self.positive.is_empty() {
                    return bad("positive", "list the label values of the +1 class".into());
                }
            }
        }
        Ok(())
    }

    /// The (positive, negative) digit sets of the MNIST task.
    pub fn mnist_classes(&self) -> Result<(Vec<u8>, Vec<u8>), DataError> {
        let task = self.task.trim();
        if task == "odd-even" {
            return Ok((vec![1, 3, 5, 7, 9], vec![0, 2, 4, 6, 8]));
        }
        let digit = |s: &str| s.trim().parse::<u8>().ok().filter(|d| *d <= 9);
        match task.split_once('v') {
            Some((a, b)) => match (digit(a), digit(b)) {
                (Some(a), Some(b)) if a != b => Ok((vec![a], vec![b])),
                _ => Err(DataError::Config {
                    field: "task",
                    message: format!("'{task}': expected two different digits like \"3v5\", or \"odd-even\""),
                }),
            },
            None => Err(DataError::Config {
                field: "task",
                message: format!("'{task}': expected \"AvB\" (digits) or \"odd-even\""),
            }),
        }
    }

    /// The file to read: `path`, or the bundled MNIST subset ([`BUNDLED_MNIST_SOURCE`], the
    /// compiled-in copy). A relative path that does not exist from the working directory is
    /// also tried from the workspace root.
    pub fn resolved_path(&self) -> PathBuf {
        let Some(p) = self.path.clone() else {
            return PathBuf::from(BUNDLED_MNIST_SOURCE);
        };
        if p.is_relative() && !p.exists() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let alt = root.join(&p);
            if alt.exists() {
                return alt;
            }
        }
        p
    }

    /// How to treat the first CSV row. MNIST files have no header.
    pub fn header_mode(&self) -> HeaderMode {
        match self.source {
            DataSource::Mnist => HeaderMode::No,
            _ => self.header,
        }
    }
}
