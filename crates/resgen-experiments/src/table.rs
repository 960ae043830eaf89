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
//!
//! Beside them, `<name>.meta.json` records the provenance (commit, code identity, backend, CPU,
//! precision, profile, cells, cell seconds, dates). Cells of different code or backends are not
//! mixed in one table unless asked ([`MergeOptions::allow_mixed`], recorded in the sidecar). A
//! sweep with unfinished or failed cells does not replace a complete table: its table goes to
//! `<name>.partial.csv` (with `.partial.cells.csv` and `.partial.meta.json`), and the complete
//! one, once every cell has finished, removes the partial files.

use crate::ExperimentError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use resgen_data::output::{csv_text, io_err, write_atomic};

pub use crate::fits::spearman_table;
use crate::kinds::Summary;
pub use crate::num::{fmt, mean_sd};
use crate::provenance::Provenance;
use crate::record::{RawRecord, Record};
use crate::spec::{Cell, Experiment};
use crate::sweep::read_result;
pub use resgen_stats::{ranks, spearman};

/// A table row's count of cells (seeds) behind it.
pub const SEEDS: &str = "seeds";
/// The per-seed cells table's seed column (`<name>.cells.csv`).
pub const SEED: &str = "seed";

/// How to merge.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Put cells of different code identities or backends into one table (the sidecar lists
    /// them and sets `mixed_provenance`); without it that is an error naming them.
    pub allow_mixed: bool,
}

/// A table row's key columns and values.
type GroupKey = Vec<(String, String)>;

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
    /// Whether the table is partial (`<name>.partial.csv`): some cells have not finished.
    pub partial: bool,
}

/// The table's path: `results/<name>.csv` for the confirm profile, whose tables decide the
/// verdicts, `results/<profile>/<name>.csv` for the others ([`profile_dir`]), so no other
/// profile's run overwrites them.
pub fn table_path(results: &Path, exp: &Experiment, profile: &str) -> PathBuf {
    profile_dir(results, profile).join(format!("{}.csv", exp.name))
}

/// Where a profile's tables go: `results/` for the profile that decides the verdicts
/// ([`crate::spec::VERDICT_PROFILE`]), `results/<profile>/` for every other.
pub fn profile_dir(results: &Path, profile: &str) -> PathBuf {
    if profile == crate::spec::VERDICT_PROFILE { results.to_path_buf() } else { results.join(profile) }
}

/// The raw per-cell table beside a table: `results/<name>.cells.csv`.
pub fn cells_path(table: &Path) -> PathBuf {
    table.with_extension("cells.csv")
}

/// A partial table's path: `<name>.partial.csv` beside the complete one.
pub fn partial_path(table: &Path) -> PathBuf {
    table.with_extension("partial.csv")
}

/// The provenance sidecar of a table: `<name>.meta.json` (`<name>.partial.meta.json`).
pub fn meta_path(table: &Path) -> PathBuf {
    let stem = table.file_name().map(|f| f.to_string_lossy().trim_end_matches(".csv").to_string()).unwrap_or_default();
    table.with_file_name(format!("{stem}.meta.json"))
}

/// [`merge_with`] with the default options (no mixing of code versions or backends).
pub fn merge(exp: &Experiment, profile: &str, runs: &Path, results: &Path) -> Result<MergeReport, ExperimentError> {
    merge_with(exp, profile, runs, results, &MergeOptions::default())
}

/// Distinct values of one provenance field over the cells, sorted.
fn distinct(provs: &[Provenance], f: impl Fn(&Provenance) -> &str) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = provs.iter().map(|p| f(p).to_string()).collect();
    set.into_iter().collect()
}

/// Builds the table from whatever cells have finished and writes it (atomically): the complete
/// table when every cell has finished, else `<name>.partial.csv`.
pub fn merge_with(
    exp: &Experiment,
    profile: &str,
    runs: &Path,
    results: &Path,
    opts: &MergeOptions,
) -> Result<MergeReport, ExperimentError> {
    let cells = exp.cells(profile)?;
    let mut report = MergeReport { cells: cells.len(), ..Default::default() };
    let (g, provs) = collect(&cells, runs, &mut report)?;
    let (header, rows) = g.summary();
    let (codes, backends) = (distinct(&provs, |p| &p.code), distinct(&provs, |p| &p.backend));
    let mixed = codes.len() > 1 || backends.len() > 1;
    if mixed && !opts.allow_mixed {
        return Err(ExperimentError::MixedProvenance {
            experiment: exp.name.clone(),
            codes: codes.iter().map(|c| if c.is_empty() { "unrecorded".into() } else { c.clone() }).collect(),
            backends: backends.clone(),
        });
    }
    let complete = table_path(results, exp, profile);
    report.partial = !report.missing.is_empty();
    let path = if report.partial { partial_path(&complete) } else { complete.clone() };
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io_err(p))?;
    }
    write_atomic(&path, csv_text(&header, &rows).as_bytes()).map_err(io_err(&path))?;
    report.written.push(path.clone());
    // The raw values behind every mean.
    let (raw_header, raw_rows) = g.raw_table();
    let raw_path = cells_path(&path);
    write_atomic(&raw_path, csv_text(&raw_header, &raw_rows).as_bytes()).map_err(io_err(&raw_path))?;
    report.written.push(raw_path);
    if !report.partial {
        write_derived(exp, &path, (&header, &rows), &g.raw, &mut report)?;
    }
    let meta = serde_json::json!({
        "experiment": exp.name,
        "claim": exp.claim,
        "profile": profile,
        "table": path.file_name().map(|f| f.to_string_lossy().into_owned()),
        "partial": report.partial,
        "cells": report.cells,
        "cells_finished": report.found,
        "cells_missing": report.missing,
        "cell_seconds": (report.cell_seconds * 10.0).round() / 10.0,
        "commits": distinct(&provs, |p| &p.commit),
        "code": codes,
        "backends": backends,
        "cpus": distinct(&provs, |p| &p.cpu),
        "precision": distinct(&provs, |p| &p.precision),
        "mixed_provenance": mixed,
        "seeds": exp.seeds(profile)?,
        "rule_hash": exp.rule().hash(),
        "first_cell_finished": distinct(&provs, |p| &p.finished).iter().find(|f| !f.is_empty()),
        "last_cell_finished": distinct(&provs, |p| &p.finished).last(),
        "resgen_version": env!("CARGO_PKG_VERSION"),
        "kernels_and_bounds": "f64",
    });
    let meta_p = meta_path(&path);
    let text = serde_json::to_string_pretty(&meta).expect("a JSON value serializes") + "\n";
    write_atomic(&meta_p, text.as_bytes()).map_err(io_err(&meta_p))?;
    report.written.push(meta_p);
    if !report.partial {
        // A complete table supersedes an earlier partial one.
        let part = partial_path(&complete);
        for p in [cells_path(&part), meta_path(&part), part] {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(report)
}

/// The finished cells' records, grouped by row (the cell's grid coordinates plus the record's
/// keys), in first-seen order.
#[derive(Default)]
struct Grouped {
    order: Vec<GroupKey>,
    /// Per group, per value name: the defined samples.
    groups: HashMap<GroupKey, Vec<(String, Vec<f64>)>>,
    /// Per group: how many records (seeds) it has.
    counts: HashMap<GroupKey, usize>,
    key_cols: Vec<String>,
    value_cols: Vec<String>,
    /// Every record as it was: (group, seed, values by name).
    raw: Vec<RawRecord>,
}

/// Reads every cell's result (a missing one is listed in `report`), grouping the records.
fn collect(
    cells: &[Cell],
    runs: &Path,
    report: &mut MergeReport,
) -> Result<(Grouped, Vec<Provenance>), ExperimentError> {
    let mut provs: Vec<Provenance> = Vec::new();
    let mut g = Grouped {
        key_cols: cells.first().map(|c| c.coords.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default(),
        ..Default::default()
    };
    for cell in cells {
        let Some(res) = read_result(cell, runs)? else {
            report.missing.push(cell.label());
            continue;
        };
        report.found += 1;
        report.cell_seconds += res.seconds;
        provs.push(res.provenance.clone());
        for rec in &res.rows {
            g.add(cell, rec);
        }
    }
    Ok((g, provs))
}

impl Grouped {
    fn add(&mut self, cell: &Cell, rec: &Record) {
        let mut gk = cell.coords.clone();
        for (k, v) in &rec.keys {
            if !self.key_cols.contains(k) {
                self.key_cols.push(k.clone());
            }
            gk.push((k.clone(), v.clone()));
        }
        if !self.groups.contains_key(&gk) {
            self.order.push(gk.clone());
        }
        *self.counts.entry(gk.clone()).or_default() += 1;
        self.raw.push((gk.clone(), cell.seed, rec.values.clone()));
        let g = self.groups.entry(gk).or_default();
        for (name, v) in &rec.values {
            if !self.value_cols.contains(name) {
                self.value_cols.push(name.clone());
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

    /// The table: key columns, `seeds`, then `<value>_mean`, `_sd`, `_n` per value.
    fn summary(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = self.key_cols.clone();
        header.push(SEEDS.into());
        for v in &self.value_cols {
            header.push(format!("{v}_mean"));
            header.push(format!("{v}_sd"));
            header.push(format!("{v}_n"));
        }
        let rows = self
            .order
            .iter()
            .map(|gk| {
                let mut row = key_values(gk, &self.key_cols);
                row.push(self.counts[gk].to_string());
                let g = &self.groups[gk];
                for v in &self.value_cols {
                    let xs: &[f64] = g.iter().find(|(n, _)| n == v).map(|(_, x)| x.as_slice()).unwrap_or(&[]);
                    let (mean, sd) = mean_sd(xs);
                    row.push(mean.map(fmt).unwrap_or_default());
                    row.push(sd.map(fmt).unwrap_or_default());
                    row.push(xs.len().to_string());
                }
                row
            })
            .collect();
        (header, rows)
    }

    /// The `.cells.csv` table: key columns, `seed`, and every raw value.
    fn raw_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = self.key_cols.clone();
        header.push(SEED.into());
        header.extend(self.value_cols.iter().cloned());
        let rows = self
            .raw
            .iter()
            .map(|(gk, seed, vals)| {
                let mut row = key_values(gk, &self.key_cols);
                row.push(seed.to_string());
                for v in &self.value_cols {
                    let x = vals.iter().find(|(n, _)| n == v).and_then(|(_, x)| *x);
                    row.push(x.map(|x| format!("{x:e}")).unwrap_or_default());
                }
                row
            })
            .collect();
        (header, rows)
    }
}

/// The table the experiment's kind derives from its complete table, if any (min-width's fits,
/// ntk-fluctuation's widths, label-noise's rank correlations), as `<name>-<suffix>.csv`.
fn write_derived(
    exp: &Experiment,
    path: &Path,
    (header, rows): (&[String], &[Vec<String>]),
    raw: &[RawRecord],
    report: &mut MergeReport,
) -> Result<(), ExperimentError> {
    for (suffix, text) in exp.kind.derived(&Summary { header, rows, raw })? {
        let p = path.with_file_name(format!("{}-{suffix}.csv", exp.name));
        write_atomic(&p, text.as_bytes()).map_err(io_err(&p))?;
        report.written.push(p);
    }
    Ok(())
}

/// A group's values of the key columns, in column order (empty where it has none).
fn key_values(gk: &GroupKey, key_cols: &[String]) -> Vec<String> {
    key_cols.iter().map(|c| gk.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default()).collect()
}

/// A CSV table read back: header and rows of text.
pub fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), ExperimentError> {
    let mut r = csv::ReaderBuilder::new().from_path(path).map_err(|e| ExperimentError::table(path, e.to_string()))?;
    let header: Vec<String> =
        r.headers().map_err(|e| ExperimentError::table(path, e.to_string()))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| ExperimentError::table(path, format!("line {}: {e}", i + 2)))?;
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((header, rows))
}
