//! Merging finished cells into the experiment's table: one row per grid point and record key,
//! mean and standard deviation over seeds.
//!
//! Columns: the grid's columns (`arch`, `depth`, ...), the record keys (`layer`, `iter`, ...),
//! `seeds` (how many cells the row has), then `<value>_mean`, `<value>_sd` and `<value>_n` for
//! each value (sample standard deviation, n - 1, empty with one defined value; `_n` counts the
//! seeds whose value is defined). Undefined values (a width search that never reached its
//! target) are left out of the mean, and are empty where no seed has one. Beside each table,
//! `<name>.cells.csv` keeps the raw per-cell values (one row per cell and record, with its seed),
//! so every mean and sd can be recomputed. Reads only the cells' `result.json`, so shards run anywhere can be merged once their
//! `runs/` folders are copied together.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use resgen_train::output::{csv_text, io_err, write_atomic};

use crate::spec::{Experiment, Kind};
use crate::sweep::read_result;

/// Numbers in tables: up to 6 significant digits.
pub fn fmt(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.6e}");
    let parsed: f64 = s.parse().unwrap_or(v);
    let mut t = format!("{parsed}");
    if t.len() > 12 {
        t = format!("{v:.5e}");
    }
    t
}

/// A table row's key columns and values.
type GroupKey = Vec<(String, String)>;

/// One cell's record: its row's key columns, the seed, and its values.
type RawRecord = (GroupKey, u64, Vec<(String, Option<f64>)>);

/// What a merge found.
#[derive(Clone, Debug, Default)]
pub struct MergeReport {
    /// Cells in the sweep.
    pub cells: usize,
    /// Cells with a result.
    pub found: usize,
    /// Labels of cells without one.
    pub missing: Vec<String>,
    /// Sum of the cells' measurement seconds.
    pub cell_seconds: f64,
    /// Tables written.
    pub written: Vec<PathBuf>,
}

/// The table's path: `results/<name>.csv` for the quick profile, `results/<profile>/<name>.csv`
/// for the others (so a paper run never overwrites the committed quick tables).
pub fn table_path(results: &Path, exp: &Experiment, profile: &str) -> PathBuf {
    if profile == "quick" {
        results.join(format!("{}.csv", exp.name))
    } else {
        results.join(profile).join(format!("{}.csv", exp.name))
    }
}

/// The raw per-cell table beside a table: `results/<name>.cells.csv`.
pub fn cells_path(table: &Path) -> PathBuf {
    table.with_extension("cells.csv")
}

/// Builds the table from whatever cells have finished and writes it (atomically).
pub fn merge(exp: &Experiment, profile: &str, runs: &Path, results: &Path) -> Result<MergeReport, String> {
    let cells = exp.cells(profile)?;
    let mut report = MergeReport { cells: cells.len(), ..Default::default() };
    // Group key -> (key columns, per value name: samples), in first-seen order.
    let mut order: Vec<Vec<(String, String)>> = Vec::new();
    let mut groups: HashMap<GroupKey, Vec<(String, Vec<f64>)>> = HashMap::new();
    let mut counts: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    let mut key_cols: Vec<String> =
        cells.first().map(|c| c.coords.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let mut value_cols: Vec<String> = Vec::new();
    // Raw rows: (key columns of the group, seed, values by name).
    let mut raw: Vec<RawRecord> = Vec::new();
    for cell in &cells {
        let Some(res) = read_result(cell, runs)? else {
            report.missing.push(cell.label());
            continue;
        };
        report.found += 1;
        report.cell_seconds += res.seconds;
        for rec in &res.rows {
            let mut gk = cell.coords.clone();
            for (k, v) in &rec.keys {
                if !key_cols.contains(k) {
                    key_cols.push(k.clone());
                }
                gk.push((k.clone(), v.clone()));
            }
            if !groups.contains_key(&gk) {
                order.push(gk.clone());
            }
            *counts.entry(gk.clone()).or_default() += 1;
            raw.push((gk.clone(), cell.seed, rec.values.clone()));
            let g = groups.entry(gk).or_default();
            for (name, v) in &rec.values {
                if !value_cols.contains(name) {
                    value_cols.push(name.clone());
                }
                let slot = match g.iter().position(|(n, _)| n == name) {
                    Some(i) => i,
                    None => {
                        g.push((name.clone(), vec![]));
                        g.len() - 1
                    }
                };
                if let Some(x) = v {
                    g[slot].1.push(*x);
                }
            }
        }
    }
    let mut header = key_cols.clone();
    header.push("seeds".into());
    for v in &value_cols {
        header.push(format!("{v}_mean"));
        header.push(format!("{v}_sd"));
        header.push(format!("{v}_n"));
    }
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|gk| {
            let mut row = key_values(gk, &key_cols);
            row.push(counts[gk].to_string());
            let g = &groups[gk];
            for v in &value_cols {
                let xs: &[f64] = g.iter().find(|(n, _)| n == v).map(|(_, x)| x.as_slice()).unwrap_or(&[]);
                let (mean, sd) = mean_sd(xs);
                row.push(mean.map(fmt).unwrap_or_default());
                row.push(sd.map(fmt).unwrap_or_default());
                row.push(xs.len().to_string());
            }
            row
        })
        .collect();
    let path = table_path(results, exp, profile);
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io_err(p))?;
    }
    write_atomic(&path, csv_text(&header, &rows).as_bytes()).map_err(io_err(&path))?;
    report.written.push(path.clone());
    // The raw values behind every mean.
    let mut raw_header = key_cols.clone();
    raw_header.push("seed".into());
    raw_header.extend(value_cols.iter().cloned());
    let raw_rows: Vec<Vec<String>> = raw
        .iter()
        .map(|(gk, seed, vals)| {
            let mut row = key_values(gk, &key_cols);
            row.push(seed.to_string());
            for v in &value_cols {
                let x = vals.iter().find(|(n, _)| n == v).and_then(|(_, x)| *x);
                row.push(x.map(|x| format!("{x:e}")).unwrap_or_default());
            }
            row
        })
        .collect();
    let cells_path = cells_path(&path);
    write_atomic(&cells_path, csv_text(&raw_header, &raw_rows).as_bytes()).map_err(io_err(&cells_path))?;
    report.written.push(cells_path);
    if exp.kind == Kind::MinWidth {
        let fit = crate::fit::growth_fits(&header, &rows, &raw)?;
        let p = path.with_file_name(format!("{}-fit.csv", exp.name));
        write_atomic(&p, fit.as_bytes()).map_err(io_err(&p))?;
        report.written.push(p);
    }
    Ok(report)
}

/// A group's values of the key columns, in column order (empty where it has none).
fn key_values(gk: &GroupKey, key_cols: &[String]) -> Vec<String> {
    key_cols.iter().map(|c| gk.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default()).collect()
}

/// Mean and sample standard deviation (`None` where undefined).
pub fn mean_sd(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (Some(mean), None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some(var.sqrt()))
}

/// A CSV table read back: header and rows of text.
pub fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut r = csv::ReaderBuilder::new().from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Vec<String> =
        r.headers().map_err(|e| format!("{}: {e}", path.display()))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((header, rows))
}
