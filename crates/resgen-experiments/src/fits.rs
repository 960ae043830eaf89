//! The derived tables' fits, and the columns they write: the depth-exponent tables
//! (`<name>-depth-exponent.csv`, from ntk-fluctuation, kernel-motion and kernel-velocity),
//! min-width's growth laws (`min-width-fit.csv`) and label-noise's Spearman table. The numbers
//! come from [`resgen_stats`]; this module turns them into CSV rows. Whoever reads these
//! tables names their columns by the constants here.
//!
//! Growth laws: the paper's headline is that the width needed grows like `log L` for the ResNet
//! and polynomially in `L` for the fully connected network. For each line of the min-width table
//! (every key column except `depth`), both laws are fitted by least squares: `m = a + b ln L`
//! (log law) and `ln m = ln a + b ln L`, i.e. `m = a L^b` (power law). `r2` is the coefficient
//! of determination of the fitted `m` against the measured mean `m`, in the same (linear) space
//! for both laws, so the two are comparable.

use crate::ExperimentError;
use resgen_data::output::csv_text;
use resgen_stats::{DepthLaw, Interval, Obs, depth_fit, linear_fit, r_squared, spearman, through_origin};

use crate::num::fmt;
use crate::spec::grid::DEPTH;

/// Which law a row fits (`power`, `log`, or a named law of ntk-fluctuation).
pub const LAW: &str = "law";
/// The power law in `L`.
pub const POWER: &str = "power";
/// The law's formula, in words.
pub const FORMULA: &str = "formula";
/// The depth exponent `p = -b/g` of the width, and its 95% interval.
pub const P: &str = "p";
/// Lower end of `p`'s interval.
pub const P_LO: &str = "p_lo";
/// Upper end of `p`'s interval.
pub const P_HI: &str = "p_hi";
/// Points fitted.
pub const POINTS: &str = "points";
/// Seeds (clusters) fitted.
pub const SEEDS: &str = "seeds";
/// Cells of the network in the table, fitted or not.
pub const CELLS: &str = "cells";
/// Cells that did not reach the target within their budget (left out of the fit).
pub const CENSORED: &str = "censored";
/// Cells that reached the target outside the fit region.
pub const OUTSIDE_REGION: &str = "outside_region";
/// The power law fitted to the shallow half of the depths only (`L` up to the median depth).
pub const POWER_SHALLOW: &str = "power-shallow";
/// The power law fitted to the deep half of the depths only (`L` from the median depth).
pub const POWER_DEEP: &str = "power-deep";
/// The depths a row's fit covers, `L = <lo> to <hi>`.
pub const DEPTHS: &str = "depths";
/// The exponent a width growing exactly like `ln L` has as a power law over the row's cells'
/// depths ([`p_log`]): the line between "no faster than log L" and "faster".
pub const P_LOG: &str = "p_log";
/// Growth law: the exponent `b` of `ln L`.
pub const B: &str = "b";
/// Lower end of `b`'s 95% interval (growth laws).
pub const B_CI_LO: &str = "b_ci_lo";
/// Upper end of `b`'s 95% interval (growth laws).
pub const B_CI_HI: &str = "b_ci_hi";

/// The numeric columns of a trained depth-exponent table (kernel-motion's, kernel-velocity's)
/// that verdicts read.
pub const DEPTH_EXPONENT_NUMBERS: [&str; 9] = [P, P_LO, P_HI, POINTS, SEEDS, CELLS, CENSORED, OUTSIDE_REGION, P_LOG];
/// The numeric columns of ntk-fluctuation's depth-exponent table that verdicts read.
pub const FLUCTUATION_NUMBERS: [&str; 6] = [P, P_LO, P_HI, POINTS, SEEDS, P_LOG];

/// The exponent `p` of `m = A L^p` fitted by least squares to `m = ln L` at the depths of
/// `obs` (one point per observation, as the depth fit weighs them): the power-law exponent that
/// a width growing exactly like `ln L` shows over those depths. It falls with the depths
/// spanned (about 0.56 over L = 2 to 32, 0.44 over 2 to 128). `None` with fewer than two
/// distinct depths above 1.
pub fn p_log(obs: &[Obs]) -> Option<f64> {
    p_log_of_depths(obs.iter().map(|o| o.depth))
}

/// [`p_log`] over depths, one per observation.
pub fn p_log_of_depths(depths: impl Iterator<Item = f64>) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = depths.filter(|l| *l > 1.0).map(|l| (l.ln(), l.ln().ln())).unzip();
    linear_fit(&x, &y).map(|(_, b)| b)
}

/// The depths of `obs` as `L = <lo> to <hi>`.
fn depth_span(obs: &[Obs]) -> String {
    let (lo, hi) = obs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), o| (a.min(o.depth), z.max(o.depth)));
    if obs.is_empty() { String::new() } else { format!("L = {lo} to {hi}") }
}

/// The fits of a depth-exponent table's rows for one network: the power law and the log law
/// over `obs`, then the power law over each half of its depths, with their `law` names.
fn fitted_laws(obs: &[Obs]) -> [(DepthLaw, &'static str, Vec<Obs>); 4] {
    let [shallow, deep] = depth_halves(obs);
    [
        (DepthLaw::Power, POWER, obs.to_vec()),
        (DepthLaw::Log, "log", obs.to_vec()),
        (DepthLaw::Power, POWER_SHALLOW, shallow),
        (DepthLaw::Power, POWER_DEEP, deep),
    ]
}

/// A row's last two columns: the depths its fit covers and, for a power law, `p_log` there.
fn depth_columns(law: DepthLaw, obs: &[Obs]) -> [String; 2] {
    let p = if law == DepthLaw::Power { p_log(obs).map(fmt).unwrap_or_default() } else { String::new() };
    [depth_span(obs), p]
}

/// The shallow and the deep half of `obs` by depth: the observations at depths up to the
/// median of the distinct depths, and those from it on (the median depth is in both when the
/// count is odd, so that each half keeps at least two depths of three).
fn depth_halves(obs: &[Obs]) -> [Vec<Obs>; 2] {
    let mut depths: Vec<f64> = obs.iter().map(|o| o.depth).collect();
    depths.sort_by(f64::total_cmp);
    depths.dedup();
    if depths.is_empty() {
        return [vec![], vec![]];
    }
    let (k, n) = ((depths.len() - 1) / 2, depths.len());
    let (shallow_max, deep_min) = if n % 2 == 1 { (depths[k], depths[k]) } else { (depths[k], depths[k + 1]) };
    [
        obs.iter().copied().filter(|o| o.depth <= shallow_max).collect(),
        obs.iter().copied().filter(|o| o.depth >= deep_min).collect(),
    ]
}

/// One network's observations for the training-free headline: per seed (data draw), depth and
/// width, the squared coefficient of variation of the NTK over initializations.
pub struct Fluctuation<'a> {
    pub arch: &'a str,
    pub obs: Vec<Obs>,
}

/// The thresholds at which the implied width `m*(L)` is reported.
pub const FLUCTUATION_TAUS: [f64; 3] = [0.2, 0.3, 0.5];

fn cells(i: Option<Interval>) -> [String; 3] {
    i.map_or([String::new(), String::new(), String::new()], |i| [fmt(i.estimate), fmt(i.lo), fmt(i.hi)])
}

/// ntk-fluctuation's depth exponents, one row per network and law: the free form
/// `CV^2 = A L^b m^g` (the verdict's), its log-law alternative, and the literature's named
/// laws, `ln(1 + CV^2) = c L / m` (Hanin and Nica, for FC) and `CV^2 = c / m` (for the
/// ResNet), each fitted to both networks so that the two can be compared. The fit region is
/// the whole grid from L = 2 on (the log law needs `ln ln L > -inf`, and both laws are fitted
/// to the same points so that their residuals compare). Intervals resample seeds. Returns the
/// CSV header and rows.
pub fn fluctuation_exponents(nets: &[Fluctuation]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "arch", "law", "formula", "g", "g_lo", "g_hi", "b", "b_lo", "b_hi", "p", "p_lo", "p_hi", "c", "c_lo", "c_hi",
        "rss", "points", "seeds", "depths", "p_log",
    ];
    let mut rows = Vec::new();
    for net in nets {
        let region: Vec<Obs> = net.obs.iter().copied().filter(|o| o.depth >= 2.0).collect();
        for (law, name, obs) in fitted_laws(&region) {
            let formula = if law == DepthLaw::Log { "CV^2 = A (ln L)^b m^g" } else { "CV^2 = A L^b m^g" };
            let mut row = vec![net.arch.to_string(), name.to_string(), formula.to_string()];
            match depth_fit(&obs, law) {
                Some(f) => {
                    for i in [f.g, f.b, f.p] {
                        row.extend(cells(Some(i)));
                    }
                    row.extend(cells(None));
                    row.extend([fmt(f.rss), f.points.to_string(), f.clusters.to_string()]);
                }
                None => row.extend(std::iter::repeat_n(String::new(), 15)),
            }
            row.extend(depth_columns(law, &obs));
            rows.push(row);
        }
        // Named laws, y = c x through the origin, with y and x per law.
        type Named = (&'static str, &'static str, fn(&Obs) -> (f64, f64));
        let named: [Named; 2] = [
            ("hanin-nica", "ln(1 + CV^2) = c L / m", |o| (o.depth / o.width, o.y.ln_1p())),
            ("inverse-width", "CV^2 = c / m", |o| (1.0 / o.width, o.y)),
        ];
        for (name, formula, xy) in named {
            let pts: Vec<&Obs> = region.iter().filter(|o| o.y.is_finite() && o.width > 0.0).collect();
            let fit = |sample: &[&Obs]| {
                let (x, y): (Vec<f64>, Vec<f64>) = sample.iter().map(|o| xy(o)).unzip();
                through_origin(&x, &y)
            };
            let interval = resgen_stats::cluster_interval(&pts, 13, fit);
            let groups = resgen_stats::clusters(&pts);
            let mut row = vec![net.arch.to_string(), name.to_string(), formula.to_string()];
            row.extend(std::iter::repeat_n(String::new(), 9));
            row.extend(cells(interval));
            row.extend([String::new(), pts.len().to_string(), groups.to_string(), depth_span(&region), String::new()]);
            rows.push(row);
        }
    }
    (header.iter().map(|s| s.to_string()).collect(), rows)
}

/// One trained cell of a depth-exponent fit: its kernel change and whether GD reached the
/// target loss within its budget (a censored cell's kernel change is not at the matched loss).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trained {
    pub obs: Obs,
    pub reached: bool,
}

/// The fit region of the trained depth exponent: cells whose relative kernel change is at most
/// this (the lazy regime, where the kernel change is small against the kernel).
pub const LAZY_REGION: f64 = 1.0;

/// The trained depth exponent, one row per network: `kc = A L^b m^g` fitted to the cells that
/// reached the target loss with `kc <= LAZY_REGION`, `p = -b/g` (the width at which the kernel
/// change falls to any threshold grows like `L^p`) with a 95% interval resampling seeds; every
/// cell is counted: `cells`, `censored` (the target loss not reached within the budget: left
/// out of the fit, whatever its kernel change) and `outside_region` (reached, but `kc` above
/// the region). Returns the CSV header and rows.
pub fn trained_exponents(nets: &[(&str, Vec<Trained>)]) -> (Vec<String>, Vec<Vec<String>>) {
    exponents_in_region(nets, Some(("kernel_change", LAZY_REGION)))
}

/// [`trained_exponents`] with the fit region stated: `Some((quantity, bound))` fits the
/// measured cells whose value is at most `bound` (the others are counted as outside it);
/// `None` fits every measured cell. Cells not measured are counted as censored.
pub fn exponents_in_region(
    nets: &[(&str, Vec<Trained>)],
    region: Option<(&str, f64)>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "arch",
        "law",
        "region",
        "g",
        "g_lo",
        "g_hi",
        "b",
        "b_lo",
        "b_hi",
        "p",
        "p_lo",
        "p_hi",
        "rss",
        "points",
        "seeds",
        "cells",
        "censored",
        "outside_region",
        "depths",
        "p_log",
    ];
    let mut rows = Vec::new();
    for (arch, cells_) in nets {
        let censored = cells_.iter().filter(|c| !c.reached).count();
        let bound = region.map_or(f64::INFINITY, |(_, b)| b);
        let inside: Vec<Obs> = cells_.iter().filter(|c| c.reached && c.obs.y <= bound).map(|c| c.obs).collect();
        let outside = cells_.len() - censored - inside.len();
        let region_text = region.map_or_else(|| "every measured cell".to_string(), |(q, b)| format!("{q} <= {b}"));
        // The power law in L, and the log law (a power of ln L) beside it; the verdict uses the
        // power law's p, the residual sums of squares compare the two. Then the power law over
        // the shallow and the deep half of the depths, to show whether one power law holds.
        for (law, name, obs) in fitted_laws(&inside) {
            let counts = [cells_.len(), censored, outside];
            rows.push(fit_row([arch, name, &region_text], law, &obs, counts));
        }
        // How p moves with the region's cut: the power law refitted over the cells up to each
        // of [`REGION_CUTS`] (the last, every cell that reached the target), counted alike.
        if let Some((q, _)) = region {
            for (name, cut) in REGION_CUTS {
                let inside: Vec<Obs> = cells_.iter().filter(|c| c.reached && c.obs.y <= cut).map(|c| c.obs).collect();
                let outside = cells_.len() - censored - inside.len();
                let text =
                    if cut.is_finite() { format!("{q} <= {cut}") } else { "every cell that reached the target".into() };
                rows.push(fit_row([arch, name, &text], DepthLaw::Power, &inside, [cells_.len(), censored, outside]));
            }
        }
    }
    (header.iter().map(|s| s.to_string()).collect(), rows)
}

/// One row of a depth-exponent table: `key` (arch, law, region), the fit of `obs` by `law` with
/// its intervals (empty where too few points or seeds give no interval, the points it would
/// have used still counted), and `counts` (cells, censored, outside the region).
fn fit_row(key: [&str; 3], law: DepthLaw, obs: &[Obs], counts: [usize; 3]) -> Vec<String> {
    let mut row: Vec<String> = key.iter().map(|k| k.to_string()).collect();
    match depth_fit(obs, law) {
        Some(f) => {
            for iv in [f.g, f.b, f.p] {
                row.extend(cells(Some(iv)));
            }
            row.extend([fmt(f.rss), f.points.to_string(), f.clusters.to_string()]);
        }
        None => {
            let seeds: std::collections::BTreeSet<u64> = obs.iter().map(|o| o.cluster).collect();
            row.extend(std::iter::repeat_n(String::new(), 10));
            row.extend([obs.len().to_string(), seeds.len().to_string()]);
        }
    }
    row.extend(counts.iter().map(|c| c.to_string()));
    row.extend(depth_columns(law, obs));
    row
}

/// The further cuts of a trained depth-exponent table's fit region, each a power-law row of
/// its own (`law` = the name): half and twice [`LAZY_REGION`], and no cut (every cell that
/// reached the target).
pub const REGION_CUTS: [(&str, f64); 3] =
    [("power-cut-0.5", 0.5), ("power-cut-2", 2.0), ("power-reached", f64::INFINITY)];

/// Per-seed values behind the table: for each cell record, its group's key columns and values.
pub type RawValues<'a> = &'a [crate::record::RawRecord];

/// The fit table (CSV text) from the min-width table's header and rows: each law fitted to the
/// means over seeds, with a 95% interval for its `b`: the t interval of the seeds' own fits
/// ([`resgen_stats::growth_exponents`]; `raw` holds the per-seed values), placed around the fit
/// of the means. Widths a seed never
/// found (censored at `max_width`) are left out of that depth's mean, as in the table, and of
/// that seed's fit.
pub fn growth_fits(
    header: &[String],
    rows: &[Vec<String>],
    raw: RawValues,
    value: &str,
) -> Result<String, ExperimentError> {
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ExperimentError::Measurement(format!("min-width table has no `{name}` column")))
    };
    let (depth, width, seeds) = (col(DEPTH)?, col(&format!("{value}_mean"))?, col(crate::table::SEEDS)?);
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
        // Each seed's values of this line at its depths: `(seed, L, m)`.
        let per_seed: Vec<(u64, f64, f64)> = raw
            .iter()
            .filter(|(gk, _, _)| line_names.iter().zip(key).all(|(n, v)| gk.iter().any(|(k, x)| k == *n && x == v)))
            .filter_map(|(gk, seed, vals)| {
                let l = gk.iter().find(|(k, _)| k == depth_name).and_then(|(_, x)| x.parse::<f64>().ok())?;
                let m = vals.iter().find(|(n, _)| n == value).and_then(|(_, x)| *x)?;
                ls.contains(&l).then_some((*seed, l, m))
            })
            .collect();
        let intervals = resgen_stats::growth_exponents(&per_seed);
        for (k, (law, formula, fit)) in fits.into_iter().enumerate() {
            let mut row = key.clone();
            row.push(law.into());
            row.push(formula.into());
            match fit {
                Some((a, b, pred)) => {
                    // The seeds' spread (their own fits' t interval) placed around this fit.
                    let (lo, hi) = intervals[k].map_or((String::new(), String::new()), |i| {
                        (fmt(b + i.lo - i.estimate), fmt(b + i.hi - i.estimate))
                    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(f: impl Fn(f64, f64, u64) -> f64) -> Vec<Obs> {
        let mut v = Vec::new();
        for seed in 0..4u64 {
            for depth in [2.0, 4.0, 8.0, 16.0, 32.0] {
                for width in [32.0, 64.0, 128.0, 256.0] {
                    v.push(Obs { cluster: seed, depth, width, y: f(depth, width, seed) });
                }
            }
        }
        v
    }

    #[test]
    fn fluctuation_exponents_recover_known_laws() {
        // FC: ln(1 + CV^2) = 0.5 L / m exactly (Hanin and Nica's form), so c = 0.5 with a
        // zero-width interval; where CV^2 is small, CV^2 ~ 0.5 L / m and the free form has
        // b ~ 1, g ~ -1, p ~ 1. ResNet: CV^2 = 2 / m exactly, so the inverse-width law has
        // c = 2 and the free form b = 0 (p = 0) and g = -1.
        let fc = grid(|l, m, _| (0.5 * l / (64.0 * m)).exp_m1());
        let res = grid(|_, m, _| 2.0 / m);
        let (header, rows) = fluctuation_exponents(&[
            Fluctuation { arch: "fc", obs: fc.iter().map(|o| Obs { width: o.width * 64.0, ..*o }).collect() },
            Fluctuation { arch: "resnet", obs: res },
        ]);
        let get = |arch: &str, law: &str, col: &str| -> f64 {
            let r = rows.iter().find(|r| r[0] == arch && r[1] == law).unwrap();
            r[header.iter().position(|h| h == col).unwrap()].parse().unwrap()
        };
        assert!((get("fc", "hanin-nica", "c") - 0.5).abs() < 1e-3, "{}", get("fc", "hanin-nica", "c"));
        assert!((get("fc", "hanin-nica", "c_hi") - get("fc", "hanin-nica", "c_lo")).abs() < 1e-3);
        // m from 2048 to 16384 and L <= 32: CV^2 <= 0.5 * 32 / 2048 = 0.0078, nearly linear.
        assert!((get("fc", "power", "p") - 1.0).abs() < 0.01, "{}", get("fc", "power", "p"));
        assert!((get("resnet", "inverse-width", "c") - 2.0).abs() < 1e-3);
        assert!(get("resnet", "power", "p").abs() < 1e-3 && (get("resnet", "power", "g") + 1.0).abs() < 1e-3);
        assert_eq!(get("resnet", "power", "seeds"), 4.0);
        // Per network: power, log, the power law over each half of the depths, two named laws.
        assert_eq!(rows.len(), 12);
    }
    #[test]
    fn trained_exponents_fit_the_lazy_region_and_count_every_cell() {
        // kc = 3 L m^-1/2 (p = 2) on the grid; cells above kc = 1 are outside the region, and
        // two cells that did not reach the target are censored: all are counted, none fitted.
        let mut cells: Vec<Trained> =
            grid(|l, m, _| 3.0 * l / m.sqrt()).into_iter().map(|obs| Trained { obs, reached: true }).collect();
        cells[0].reached = false;
        cells[1].reached = false;
        let total = cells.len();
        let (header, rows) = trained_exponents(&[("fc", cells.clone())]);
        let get = |c: &str| rows[0][header.iter().position(|h| h == c).unwrap()].clone();
        // kc <= 1 needs 3 L <= sqrt(m): (L, m) = (2, 64), (2, 128), (2, 256), (4, 256), so 4
        // points per seed and 16 in all. The censored cells are seed 0's (2, 32), kc = 1.06,
        // outside anyway, and (2, 64), kc = 0.75, which would have been inside: 15 are fitted.
        assert_eq!(get("points"), "15");
        assert_eq!(get("censored"), "2");
        assert_eq!(get("cells"), total.to_string());
        assert_eq!(get("outside_region"), (total - 2 - 15).to_string());
        assert!((get("p").parse::<f64>().unwrap() - 2.0).abs() < 1e-9);
        // The log law is fitted beside it on the same cells and counts them alike. The region
        // has two depths, 2 and 4, and ln ln 4 - ln ln 2 = ln 2 = ln 4 - ln 2, so its slope in
        // ln ln L equals the power law's in ln L: p = 2 again, and both fit exactly.
        let log = |c: &str| rows[1][header.iter().position(|h| h == c).unwrap()].clone();
        assert_eq!((rows[0][1].as_str(), rows[1][1].as_str()), ("power", "log"));
        assert_eq!(
            (log("points"), log("censored"), log("outside_region")),
            (get("points"), get("censored"), get("outside_region"))
        );
        assert!((log("p").parse::<f64>().unwrap() - 2.0).abs() < 1e-9);
        assert!(get("rss").parse::<f64>().unwrap() < 1e-12 && log("rss").parse::<f64>().unwrap() < 1e-12);
    }

    #[test]
    fn p_log_is_the_power_exponent_of_ln_l_over_the_depths() {
        // ln ln L against ln L at L = 2, 4, 8, 16, 32: slope 0.5644 (by hand: x = k ln 2,
        // y = ln k + ln ln 2 for k = 1..5, so the slope is that of ln k on k over ln 2,
        // 0.391202 / 0.693147); to 128 it is 0.4403.
        let at = |depths: &[f64]| -> Vec<Obs> {
            depths.iter().map(|&depth| Obs { cluster: 0, depth, width: 64.0, y: 1.0 }).collect()
        };
        assert!((p_log(&at(&[2.0, 4.0, 8.0, 16.0, 32.0])).unwrap() - 0.564386).abs() < 1e-6);
        assert!((p_log(&at(&[2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0])).unwrap() - 0.440320).abs() < 1e-6);
        assert!(p_log(&at(&[8.0, 8.0])).is_none());
        // The halves of five depths share the middle one; of four, they split two and two.
        let [s, d] = depth_halves(&at(&[2.0, 4.0, 8.0, 16.0, 32.0]));
        assert_eq!((s.len(), d.len()), (3, 3));
        assert_eq!((s[2].depth, d[0].depth), (8.0, 8.0));
        let [s, d] = depth_halves(&at(&[2.0, 4.0, 8.0, 16.0]));
        assert_eq!(
            (s.iter().map(|o| o.depth).collect::<Vec<_>>(), d.iter().map(|o| o.depth).collect::<Vec<_>>()),
            (vec![2.0, 4.0], vec![8.0, 16.0])
        );
        assert_eq!(depth_span(&s), "L = 2 to 4");
    }
}
