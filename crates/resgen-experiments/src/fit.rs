//! The statistics of the derived tables: the growth laws of the min-width table, and rank
//! correlations (label-noise's Spearman table).
//!
//! Growth laws: the paper's headline is that the width needed grows like `log L` for the ResNet
//! and polynomially in `L` for the fully connected network.
//!
//! For each line of the table (every key column except `depth`), both laws are fitted by least
//! squares: `m = a + b ln L` (log law) and `ln m = ln a + b ln L`, i.e. `m = a L^b` (power law).
//! `r2` is the coefficient of determination of the fitted `m` against the measured mean `m`,
//! in the same (linear) space for both laws, so the two are comparable.

use crate::ExperimentError;
use resgen_train::output::csv_text;

use crate::num::fmt;

/// Least squares `y = a + b x`: `(a, b)`.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    if x.len() < 2 {
        return None;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// `1 - SS_res / SS_tot` of predictions against observations.
pub fn r_squared(obs: &[f64], pred: &[f64]) -> f64 {
    let n = obs.len() as f64;
    let mean = obs.iter().sum::<f64>() / n;
    let ss_tot: f64 = obs.iter().map(|v| (v - mean).powi(2)).sum();
    let ss_res: f64 = obs.iter().zip(pred).map(|(o, p)| (o - p).powi(2)).sum();
    if ss_tot == 0.0 { if ss_res == 0.0 { 1.0 } else { f64::NEG_INFINITY } } else { 1.0 - ss_res / ss_tot }
}

/// Per-seed values behind the table: for each cell record, its group's key columns and values.
pub type RawValues<'a> = &'a [crate::record::RawRecord];

/// Bootstrap resamples for the confidence intervals of the growth exponents.
const BOOTSTRAP: usize = 1000;

/// The fit table (CSV text) from the min-width table's header and rows, with 95% percentile
/// bootstrap intervals for each law's `b` (seeds resampled with replacement at every depth, the
/// means refitted; `raw` holds the per-seed values). Widths a seed never found (censored at
/// `max_width`) are left out of that depth's mean, as in the table.
pub fn growth_fits(header: &[String], rows: &[Vec<String>], raw: RawValues) -> Result<String, ExperimentError> {
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ExperimentError::Measurement(format!("min-width table has no `{name}` column")))
    };
    let (depth, width, seeds) = (col("depth")?, col("min_width_mean")?, col("seeds")?);
    let line_cols: Vec<usize> = (0..seeds).filter(|&i| i != depth).collect();
    // One line per key: its (L, m) points.
    type Line = (Vec<String>, Vec<(f64, f64)>);
    let mut lines: Vec<Line> = Vec::new();
    for r in rows {
        let key: Vec<String> = line_cols.iter().map(|&i| r[i].clone()).collect();
        let (Ok(l), Ok(m)) = (r[depth].parse::<f64>(), r[width].parse::<f64>()) else { continue };
        match lines.iter_mut().find(|(k, _)| *k == key) {
            Some((_, pts)) => pts.push((l, m)),
            None => lines.push((key, vec![(l, m)])),
        }
    }
    let mut out_header: Vec<String> = line_cols.iter().map(|&i| header[i].clone()).collect();
    out_header.extend(["law", "formula", "a", "b", "b_ci_lo", "b_ci_hi", "r2", "points"].iter().map(|s| s.to_string()));
    let line_names: Vec<&String> = line_cols.iter().map(|&i| &header[i]).collect();
    let depth_name = &header[depth];
    let mut out = Vec::new();
    for (key, pts) in &lines {
        let ls: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let ms: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let lnl: Vec<f64> = ls.iter().map(|v| v.ln()).collect();
        let lnm: Vec<f64> = ms.iter().map(|v| v.ln()).collect();
        let fits = [
            (
                "log",
                "m = a + b ln L",
                linear_fit(&lnl, &ms).map(|(a, b)| (a, b, lnl.iter().map(|x| a + b * x).collect::<Vec<_>>())),
            ),
            (
                "power",
                "m = a L^b",
                linear_fit(&lnl, &lnm)
                    .map(|(a, b)| (a.exp(), b, lnl.iter().map(|x| (a + b * x).exp()).collect::<Vec<_>>())),
            ),
        ];
        // Per-seed values of this line at each of its depths.
        let per_depth: Vec<Vec<f64>> = ls
            .iter()
            .map(|l| {
                raw.iter()
                    .filter(|(gk, _, _)| {
                        line_names.iter().zip(key).all(|(n, v)| gk.iter().any(|(k, x)| k == *n && x == v))
                            && gk.iter().any(|(k, x)| k == depth_name && x.parse::<f64>().ok() == Some(*l))
                    })
                    .filter_map(|(_, _, vals)| vals.iter().find(|(n, _)| n == "min_width").and_then(|(_, x)| *x))
                    .collect()
            })
            .collect();
        let boot = bootstrap_exponents(&lnl, &per_depth);
        for (k, (law, formula, fit)) in fits.into_iter().enumerate() {
            let mut row = key.clone();
            row.push(law.into());
            row.push(formula.into());
            match fit {
                Some((a, b, pred)) => {
                    let (lo, hi) = boot[k].map_or((String::new(), String::new()), |(lo, hi)| (fmt(lo), fmt(hi)));
                    row.extend([fmt(a), fmt(b), lo, hi, fmt(r_squared(&ms, &pred))]);
                }
                None => row.extend(["".into(), "".into(), "".into(), "".into(), "".into()]),
            }
            row.push(pts.len().to_string());
            out.push(row);
        }
    }
    Ok(csv_text(&out_header, &out))
}

/// 95% percentile intervals of `b` for the log law and the power law, from [`BOOTSTRAP`]
/// resamples of the seeds at every depth (a fixed-seed generator: the table is reproducible).
fn bootstrap_exponents(lnl: &[f64], per_depth: &[Vec<f64>]) -> [Option<(f64, f64)>; 2] {
    if per_depth.iter().any(|v| v.is_empty()) || lnl.len() < 2 {
        return [None, None];
    }
    // Seed 0: the same index stream this table has always used.
    let mut r = crate::stats::Resampler::new(0);
    let mut next = |k: usize| r.index(k);
    let (mut logs, mut pows) = (Vec::with_capacity(BOOTSTRAP), Vec::with_capacity(BOOTSTRAP));
    for _ in 0..BOOTSTRAP {
        let ms: Vec<f64> =
            per_depth.iter().map(|v| (0..v.len()).map(|_| v[next(v.len())]).sum::<f64>() / v.len() as f64).collect();
        let lnm: Vec<f64> = ms.iter().map(|m| m.ln()).collect();
        if let Some((_, b)) = linear_fit(lnl, &ms) {
            logs.push(b);
        }
        if let Some((_, b)) = linear_fit(lnl, &lnm) {
            pows.push(b);
        }
    }
    let ci = |mut v: Vec<f64>| -> Option<(f64, f64)> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
        Some((at(0.025), at(0.975)))
    };
    [ci(logs), ci(pows)]
}

/// Ranks (1-based) of values, ties sharing their mean rank.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = mean_rank;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (the Pearson correlation of the ranks, ties averaged); `None`
/// with fewer than 3 pairs or a constant side.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 3 || x.len() != y.len() {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Spearman correlations of every `<value>_mean` column with `target` over the table's rows:
/// per value of `by[0]` (all rows of that value) and per combination of all of `by`. Columns:
/// the `by` columns (`all` where pooled), `quantity`, `spearman`, `points`.
pub fn spearman_table(
    header: &[String],
    rows: &[Vec<String>],
    target: &str,
    by: &[&str],
) -> Result<String, ExperimentError> {
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| ExperimentError::Measurement(format!("no column {name}")))
    };
    let t = col(target)?;
    let by_cols: Vec<usize> = by.iter().map(|b| col(b)).collect::<Result<_, _>>()?;
    let quantities: Vec<usize> = (0..header.len()).filter(|&c| c != t && header[c].ends_with("_mean")).collect();
    // Groups: each value of the first `by` column pooled, then each full combination.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let mut pooled = vec![r[by_cols[0]].clone()];
        pooled.extend(std::iter::repeat_n("all".to_string(), by_cols.len() - 1));
        let full: Vec<String> = by_cols.iter().map(|&c| r[c].clone()).collect();
        for g in [pooled, full] {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    let mut out_header: Vec<String> = by.iter().map(|s| s.to_string()).collect();
    out_header.extend(["quantity", "spearman", "points"].iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    for g in &groups {
        let members: Vec<&Vec<String>> =
            rows.iter().filter(|r| by_cols.iter().zip(g).all(|(&c, v)| v == "all" || r[c] == *v)).collect();
        for &q in &quantities {
            let pairs: Vec<(f64, f64)> =
                members.iter().filter_map(|r| Some((r[q].parse::<f64>().ok()?, r[t].parse::<f64>().ok()?))).collect();
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            let mut row = g.clone();
            row.push(header[q].trim_end_matches("_mean").to_string());
            row.push(spearman(&x, &y).map(fmt).unwrap_or_default());
            row.push(pairs.len().to_string());
            out.push(row);
        }
    }
    Ok(csv_text(&out_header, &out))
}
