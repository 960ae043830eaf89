//! Two run folders' `metrics.csv` side by side: the largest difference per column, for checking
//! that two backends (wgpu on a GPU and flex on the CPU, say) computed the same training run.
//!
//! A difference is measured as `|a - b| / max(1, |a|, |b|)`: absolute for values of order one
//! and below (losses, errors, distances), relative above, so one tolerance fits every column.

use std::path::{Path, PathBuf};

use crate::TrainError;

/// The largest difference in one column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDiff {
    /// The column's name in the header.
    pub column: String,
    /// `|a - b| / max(1, |a|, |b|)`, the largest over the logged iterations.
    pub diff: f64,
    /// The iteration where it occurs.
    pub iter: u64,
    /// The two values there.
    pub a: f64,
    pub b: f64,
}

/// Every column's largest difference, in header order (the `iter` column excluded).
#[derive(Clone, Debug)]
pub struct MetricsDiff {
    /// The logged iterations compared.
    pub rows: usize,
    pub columns: Vec<ColumnDiff>,
}

impl MetricsDiff {
    /// The column with the largest difference (`None` when there are no columns).
    pub fn worst(&self) -> Option<&ColumnDiff> {
        self.columns.iter().max_by(|x, y| x.diff.total_cmp(&y.diff))
    }
}

/// The scaled difference of two values: `|a - b| / max(1, |a|, |b|)`. Two empty cells (a test
/// metric of a run without a test set) or two equal infinities differ by 0; one NaN or one
/// empty cell against a number by infinity, so that a broken run never passes.
pub fn scaled_diff(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    if !a.is_finite() || !b.is_finite() {
        return f64::INFINITY;
    }
    (a - b).abs() / 1f64.max(a.abs()).max(b.abs())
}

/// A metrics file read back: its path, its header, and its rows as numbers.
type Metrics = (PathBuf, Vec<String>, Vec<Vec<f64>>);

/// A run folder's (or a file's) metrics: the header and the rows as numbers (an empty cell is NaN).
fn read_metrics(path: &Path) -> Result<Metrics, TrainError> {
    let file = if path.is_dir() { path.join("metrics.csv") } else { path.to_path_buf() };
    let bad = |message: String| TrainError::Metrics { path: file.clone(), message };
    let mut reader = csv::Reader::from_path(&file).map_err(|e| bad(e.to_string()))?;
    let header: Vec<String> = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(String::from).collect();
    if header.first().map(String::as_str) != Some("iter") {
        return Err(bad("the first column is not `iter`; not a resgen metrics.csv".into()));
    }
    let mut rows = Vec::new();
    for (k, record) in reader.records().enumerate() {
        // The header is line 1, so the k-th record is on line k + 2.
        let line = k + 2;
        let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
        let row = record
            .iter()
            .enumerate()
            .map(|(j, v)| {
                if v.trim().is_empty() {
                    Ok(f64::NAN)
                } else {
                    v.trim()
                        .parse::<f64>()
                        .map_err(|_| bad(format!("line {line}, column `{}`: `{v}` is not a number", header[j])))
                }
            })
            .collect::<Result<Vec<f64>, TrainError>>()?;
        rows.push(row);
    }
    Ok((file, header, rows))
}

/// Compares the metrics of two runs of the same config: the same columns and the same logged
/// iterations are required (else an error naming what differs); the result holds each column's
/// largest difference.
pub fn compare_metrics(a: &Path, b: &Path) -> Result<MetricsDiff, TrainError> {
    let (fa, ha, ra) = read_metrics(a)?;
    let (fb, hb, rb) = read_metrics(b)?;
    if ha != hb {
        return Err(TrainError::Mismatch(format!(
            "{} and {} have different columns (runs of different configs?): {} vs {}",
            fa.display(),
            fb.display(),
            ha.join(","),
            hb.join(",")
        )));
    }
    let iters_a: Vec<u64> = ra.iter().map(|r| r[0] as u64).collect();
    let iters_b: Vec<u64> = rb.iter().map(|r| r[0] as u64).collect();
    if iters_a != iters_b {
        let first = iters_a.iter().zip(&iters_b).position(|(x, y)| x != y).unwrap_or(iters_a.len().min(iters_b.len()));
        return Err(TrainError::Mismatch(format!(
            "{} logs {} iterations and {} logs {}; they part at row {} (iteration {:?} vs {:?}): a run stopped early, or the configs differ",
            fa.display(),
            iters_a.len(),
            fb.display(),
            iters_b.len(),
            first + 1,
            iters_a.get(first),
            iters_b.get(first)
        )));
    }
    let columns = (1..ha.len())
        .map(|j| {
            let at = |k: usize| ColumnDiff {
                column: ha[j].clone(),
                diff: scaled_diff(ra[k][j], rb[k][j]),
                iter: iters_a[k],
                a: ra[k][j],
                b: rb[k][j],
            };
            // The first row where the difference is largest (the first row if all are equal).
            (0..ra.len()).map(at).reduce(|w, c| if c.diff > w.diff { c } else { w }).unwrap_or(ColumnDiff {
                column: ha[j].clone(),
                diff: 0.0,
                iter: 0,
                a: f64::NAN,
                b: f64::NAN,
            })
        })
        .collect();
    Ok(MetricsDiff { rows: ra.len(), columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn scaled_diff_is_absolute_below_one_and_relative_above() {
        // |0.5 - 0.4| = 0.1 (both below 1: absolute).
        assert!((scaled_diff(0.5, 0.4) - 0.1).abs() < 1e-15);
        // |200 - 100| / 200 = 0.5 (relative to the larger).
        assert_eq!(scaled_diff(100.0, 200.0), 0.5);
        assert_eq!(scaled_diff(f64::NAN, f64::NAN), 0.0);
        assert_eq!(scaled_diff(f64::NAN, 1.0), f64::INFINITY);
        assert_eq!(scaled_diff(f64::INFINITY, 1.0), f64::INFINITY);
    }

    #[test]
    fn finds_the_worst_column_and_iteration() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.csv", "iter,train_loss,test_error\n0,0.7,0.5\n10,0.5,\n20,0.3,0.25\n");
        // train_loss differs by 1e-3 at iteration 10; test_error by 0.05 at iteration 20; the
        // empty test_error at iteration 10 is empty in both.
        let b = write(dir.path(), "b.csv", "iter,train_loss,test_error\n0,0.7,0.5\n10,0.501,\n20,0.3,0.2\n");
        let d = compare_metrics(&a, &b).unwrap();
        assert_eq!(d.rows, 3);
        assert_eq!(d.columns.len(), 2);
        assert_eq!(d.columns[0].iter, 10);
        assert!((d.columns[0].diff - 1e-3).abs() < 1e-12, "{:?}", d.columns[0]);
        let worst = d.worst().unwrap();
        assert_eq!((worst.column.as_str(), worst.iter), ("test_error", 20));
        assert!((worst.diff - 0.05).abs() < 1e-12);
        // A file against itself: every difference is exactly zero.
        let same = compare_metrics(&a, &a).unwrap();
        assert!(same.columns.iter().all(|c| c.diff == 0.0));
    }

    #[test]
    fn a_missing_value_or_another_log_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.csv", "iter,train_loss\n0,0.7\n10,0.5\n");
        let nan = write(dir.path(), "nan.csv", "iter,train_loss\n0,0.7\n10,\n");
        assert_eq!(compare_metrics(&a, &nan).unwrap().worst().unwrap().diff, f64::INFINITY);
        let short = write(dir.path(), "short.csv", "iter,train_loss\n0,0.7\n");
        let e = compare_metrics(&a, &short).unwrap_err().to_string();
        assert!(e.contains("logs 2 iterations") && e.contains("logs 1"), "{e}");
        let other = write(dir.path(), "other.csv", "iter,train_error\n0,0.7\n10,0.5\n");
        assert!(compare_metrics(&a, &other).unwrap_err().to_string().contains("different columns"));
        let bad = write(dir.path(), "bad.csv", "iter,train_loss\n0,0.7\n10,abc\n");
        let e = compare_metrics(&a, &bad).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("train_loss") && e.contains("abc"), "{e}");
    }
}
