//! Reading numeric CSV files (plain or gzip) with errors that name file, line and column.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::{DataConfig, DataError, DataSource, Dataset, HeaderMode};

/// A CSV file's numeric features and its label column, kept as text until the task assigns
/// labels to classes.
#[derive(Clone, Debug)]
pub struct RawTable {
    /// Features per row (all columns but the label).
    pub d: usize,
    /// `rows * d` feature values.
    pub features: Vec<f64>,
    /// The label field of each row, trimmed.
    pub labels: Vec<String>,
    /// The 1-based file line of each row, for error messages.
    pub lines: Vec<u64>,
}

/// The bundled MNIST subset, compiled into the library (1.1 MB gzip), so an installed binary
/// needs no source tree.
static BUNDLED_MNIST_GZ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist_5k.csv.gz"));

fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    if path == Path::new(crate::config::BUNDLED_MNIST_SOURCE) {
        return Ok(Box::new(GzDecoder::new(BUNDLED_MNIST_GZ)));
    }
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(GzDecoder::new(BufReader::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// Reads `path`: every column but `label_column` must be a finite number, and every row must
/// have as many fields as the first.
pub fn read_table(path: &Path, header: HeaderMode, label_column: i64) -> Result<RawTable, DataError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(open(path)?);
    let pb = || path.to_path_buf();
    let mut table = RawTable { d: 0, features: Vec::new(), labels: Vec::new(), lines: Vec::new() };
    let mut width: Option<usize> = None;
    let mut label_idx = 0usize;
    let mut first = true;
    for rec in reader.records() {
        let rec = rec.map_err(|e| DataError::Csv {
            path: pb(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec[0].trim().is_empty() {
            continue; // blank line
        }
        if first {
            first = false;
            let is_header = match header {
                HeaderMode::Yes => true,
                HeaderMode::No => false,
                HeaderMode::Auto => {
                    // A header has no number outside the label column; a label column of
                    // words ("cat") alone does not make a header, and a row of numbers with a
                    // missing value ("NA") is data (and an error naming the field below).
                    let li = resolve_label(label_column, rec.len(), path, line)?;
                    rec.iter().enumerate().all(|(j, f)| j == li || !is_number(f))
                }
            };
            if is_header {
                continue;
            }
        }
        match width {
            None => {
                if rec.len() < 2 {
                    return Err(DataError::Csv {
                        path: pb(),
                        line,
                        message: "a row needs at least one feature and a label".into(),
                    });
                }
                width = Some(rec.len());
                label_idx = resolve_label(label_column, rec.len(), path, line)?;
                table.d = rec.len() - 1;
            }
            Some(w) if w != rec.len() => {
                return Err(DataError::Ragged { path: pb(), line, found: rec.len(), expected: w });
            }
            _ => {}
        }
        for (j, field) in rec.iter().enumerate() {
            if j == label_idx {
                table.labels.push(field.trim().to_string());
                continue;
            }
            let t = field.trim();
            if t.is_empty() || ["na", "n/a", "null", "?"].contains(&t.to_ascii_lowercase().as_str()) {
                return Err(DataError::Missing { path: pb(), line, column: j + 1, value: field.to_string() });
            }
            let v: f64 = t.parse().map_err(|_| DataError::NotNumeric {
                path: pb(),
                line,
                column: j + 1,
                value: field.to_string(),
            })?;
            if !v.is_finite() {
                return Err(DataError::NotFinite { path: pb(), line, column: j + 1, value: field.to_string() });
            }
            table.features.push(v);
        }
        table.lines.push(line);
    }
    if table.labels.is_empty() {
        return Err(DataError::Empty { path: pb() });
    }
    Ok(table)
}

fn resolve_label(label_column: i64, width: usize, path: &Path, line: u64) -> Result<usize, DataError> {
    let idx = if label_column < 0 { width as i64 + label_column } else { label_column };
    if idx < 0 || idx as usize >= width {
        return Err(DataError::Config {
            field: "label_column",
            message: format!("{label_column} is outside the {width} columns of {}:{line}", path.display()),
        });
    }
    Ok(idx as usize)
}

fn same_label(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

impl RawTable {
    /// Assigns each row to +1, -1 or (for tasks that use only some labels) drops it.
    /// A label the config does not know is an error naming its line.
    pub fn to_binary(&self, path: &Path, cfg: &DataConfig) -> Result<Dataset, DataError> {
        let (pos, neg, known): (Vec<String>, Vec<String>, String) = match cfg.source {
            DataSource::Mnist => {
                let (p, n) = cfg.mnist_classes()?;
                let s = |v: Vec<u8>| v.into_iter().map(|d| d.to_string()).collect::<Vec<_>>();
                (s(p), s(n), "MNIST digits 0-9".into())
            }
            _ => (
                cfg.positive.clone(),
                cfg.negative.clone(),
                format!("data.positive = {:?}, data.negative = {:?}", cfg.positive, cfg.negative),
            ),
        };
        let mut keep = Vec::new();
        let mut y = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            let unknown = || DataError::UnknownLabel {
                path: PathBuf::from(path),
                line: self.lines[i],
                label: label.clone(),
                known: known.clone(),
            };
            if cfg.source == DataSource::Mnist {
                // Every row must hold a digit, even the ones this task does not use.
                let ok = label.parse::<f64>().ok().filter(|v| v.fract() == 0.0 && (0.0..=9.0).contains(v));
                if ok.is_none() {
                    return Err(unknown());
                }
            }
            if pos.iter().any(|p| same_label(p, label)) {
                keep.push(i);
                y.push(1.0);
            } else if neg.is_empty() || neg.iter().any(|n| same_label(n, label)) {
                if cfg.source == DataSource::Mnist && !neg.iter().any(|n| same_label(n, label)) {
                    continue;
                }
                keep.push(i);
                y.push(-1.0);
            } else if cfg.source == DataSource::Mnist {
                continue; // a digit outside this pair
            } else {
                return Err(unknown());
            }
        }
        let mut x = Vec::with_capacity(keep.len() * self.d);
        for &i in &keep {
            x.extend_from_slice(&self.features[i * self.d..(i + 1) * self.d]);
        }
        Ok(Dataset { n: keep.len(), d: self.d, x, y })
    }
}
