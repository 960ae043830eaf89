//! `resgen report`: the headline table, generated from the committed tables, never typed.
//!
//! One row per claim: what the theory predicts, the fair comparison's measured numbers (read
//! from `results/<name>.csv`), and a verdict computed by a stated rule: `confirmed`,
//! `not confirmed`, or `not measurable at this scale`. Written as `results/summary.md` and as a
//! LaTeX booktabs table, `results/summary.tex`. A test checks that the committed summary is
//! exactly what the committed tables produce.

use crate::ExperimentError;
use std::path::Path;

use crate::stats;

use crate::table::read_table;

/// A table loaded for queries.
struct Table {
    path: std::path::PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn load(results: &Path, name: &str) -> Result<Table, ExperimentError> {
        let path = results.join(format!("{name}.csv"));
        let (header, rows) = read_table(&path)?;
        Ok(Table { path, header, rows })
    }

    fn err(&self, message: String) -> ExperimentError {
        ExperimentError::table(&self.path, message)
    }

    fn col(&self, c: &str) -> Result<usize, ExperimentError> {
        self.header.iter().position(|h| h == c).ok_or_else(|| self.err(format!("no column `{c}`")))
    }

    /// The `<v>_mean` of the row matching `keys` (NaN where empty).
    fn get(&self, keys: &[(&str, &str)], v: &str) -> Result<f64, ExperimentError> {
        self.get_col(keys, &format!("{v}_mean"))
    }

    /// The rows whose columns have the values `keys` name.
    fn matching<'a>(
        &'a self,
        keys: &[(&str, &'a str)],
    ) -> Result<impl Iterator<Item = &'a Vec<String>> + 'a, ExperimentError> {
        let cols: Vec<(usize, &str)> =
            keys.iter().map(|(k, val)| Ok((self.col(k)?, *val))).collect::<Result<_, ExperimentError>>()?;
        Ok(self.rows.iter().filter(move |r| cols.iter().all(|(i, val)| r[*i] == *val)))
    }

    /// Column `c` of the row matching `keys` (NaN where empty).
    fn get_col(&self, keys: &[(&str, &str)], c: &str) -> Result<f64, ExperimentError> {
        let vc = self.col(c)?;
        let mut rows = self.matching(keys)?;
        let row = rows.next().ok_or_else(|| self.err(format!("no row {keys:?}")))?;
        if rows.next().is_some() {
            // A claim must name every grid column it reads, or it reads an arbitrary row.
            return Err(self.err(format!("more than one row {keys:?}")));
        }
        Ok(row[vc].parse().unwrap_or(f64::NAN))
    }

    /// The distinct values of a column, in table order.
    fn values(&self, c: &str) -> Result<Vec<String>, ExperimentError> {
        let i = self.col(c)?;
        let mut out: Vec<String> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r[i]) {
                out.push(r[i].clone());
            }
        }
        Ok(out)
    }

    /// The numeric values of a column, as written in the table, sorted by value.
    fn sorted_nums(&self, c: &str) -> Result<Vec<String>, ExperimentError> {
        let mut vals: Vec<(f64, String)> =
            self.values(c)?.into_iter().filter_map(|v| v.parse::<f64>().ok().map(|x| (x, v))).collect();
        if vals.is_empty() {
            return Err(self.err(format!("no numeric `{c}`")));
        }
        vals.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(vals.into_iter().map(|(_, v)| v).collect())
    }

    /// The largest numeric value of a column.
    fn max_num(&self, c: &str) -> Result<String, ExperimentError> {
        Ok(self.sorted_nums(c)?.pop().expect("non-empty"))
    }

    /// The smallest numeric value of a column.
    fn min_num(&self, c: &str) -> Result<String, ExperimentError> {
        Ok(self.sorted_nums(c)?.swap_remove(0))
    }
}

/// A table's per-seed values (`results/<name>.cells.csv`), for the intervals over seeds.
struct Cells {
    table: Table,
}

impl Cells {
    fn load(results: &Path, name: &str) -> Result<Cells, ExperimentError> {
        Ok(Cells { table: Table::load(results, &format!("{name}.cells"))? })
    }

    /// `(seed, value)` of every cell matching `keys`, in seed order (NaN where empty); an error
    /// when no cell matches.
    fn seeds(&self, keys: &[(&str, &str)], v: &str) -> Result<Vec<(u64, f64)>, ExperimentError> {
        let t = &self.table;
        let (sc, vc) = (t.col("seed")?, t.col(v)?);
        let mut out: Vec<(u64, f64)> =
            t.matching(keys)?.map(|r| (r[sc].parse().unwrap_or(u64::MAX), r[vc].parse().unwrap_or(f64::NAN))).collect();
        if out.is_empty() {
            return Err(t.err(format!("no cell {keys:?}")));
        }
        out.sort_by_key(|(seed, _)| *seed);
        Ok(out)
    }
}

/// The bootstrap seed of every interval in the summary (fixed, so the summary is reproducible).
const BOOT: u64 = 7;

/// The values of `a` and `b` at the seeds both have, in seed order.
fn align(a: &[(u64, f64)], b: &[(u64, f64)]) -> (Vec<f64>, Vec<f64>) {
    a.iter().filter_map(|(s, x)| b.iter().find(|(t, _)| t == s).map(|(_, y)| (*x, *y))).unzip()
}

/// `a` against `b` paired over seeds on a log scale: the mean of `ln a - ln b` with its interval
/// (a ratio `exp` of it), and how many seeds agree in sign.
fn paired_ratio(a: &[(u64, f64)], b: &[(u64, f64)]) -> Option<stats::Paired> {
    let (x, y) = align(a, b);
    let ln = |v: Vec<f64>| v.into_iter().map(f64::ln).collect::<Vec<_>>();
    stats::paired(&ln(x), &ln(y), BOOT)
}

/// `a - b` paired over seeds.
fn paired_diff(a: &[(u64, f64)], b: &[(u64, f64)]) -> Option<stats::Paired> {
    let (x, y) = align(a, b);
    stats::paired(&x, &y, BOOT)
}

/// Whether a paired comparison puts its effect above `threshold` (0 for a difference, `ln r`
/// for a ratio of at least r): the interval's lower end above it, and every seed on the same
/// side of no effect.
fn above(p: Option<stats::Paired>, threshold: f64) -> bool {
    p.is_some_and(|p| p.seeds >= 2 && p.diff.lo > threshold && p.agree == p.seeds)
}

/// Whether a paired comparison puts its effect below `threshold` (as [`above`]).
fn below(p: Option<stats::Paired>, threshold: f64) -> bool {
    p.is_some_and(|p| p.seeds >= 2 && p.diff.hi < threshold && p.agree == p.seeds)
}

/// A paired ratio in words: `3.20x [2.90, 3.60], 3 of 3 seeds`.
fn ratio_text(p: Option<stats::Paired>) -> String {
    match p {
        Some(p) => format!(
            "{}x [{}, {}], {} of {} seeds",
            g(p.diff.estimate.exp()),
            g(p.diff.lo.exp()),
            g(p.diff.hi.exp()),
            p.agree,
            p.seeds
        ),
        None => "no interval (fewer than 2 seeds)".into(),
    }
}

/// A paired difference in words: `0.120 [0.0500, 0.200], 3 of 3 seeds`.
fn diff_text(p: Option<stats::Paired>) -> String {
    match p {
        Some(p) => format!("{}, {} of {} seeds", iv(p.diff), p.agree, p.seeds),
        None => "no interval (fewer than 2 seeds)".into(),
    }
}

/// A mean over seeds with its interval: `1.49 [1.40, 1.60]`.
fn mean_text(values: &[f64]) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    stats::mean_interval(&v, BOOT).map_or_else(|| "n/a".into(), iv)
}

/// The exponent of `y ~ x^s` over `(seed, x, y)` points, with its interval over seeds.
fn slope_text(s: Option<stats::Interval>) -> String {
    s.map_or_else(|| "n/a".into(), iv)
}

/// Three significant digits, scientific beyond 1e4.
fn g(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        return format!("{v:.2e}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

/// One claim's row.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The claim, in words.
    pub claim: String,
    /// The table it comes from.
    pub table: String,
    /// What the theory predicts.
    pub prediction: String,
    /// The fair comparison's numbers.
    pub measured: String,
    /// `confirmed`, `not confirmed` or `not measurable at this scale`.
    pub verdict: String,
}

const CONFIRMED: &str = "confirmed";
const NOT_CONFIRMED: &str = "not confirmed";
const NOT_MEASURABLE: &str = "not measurable at this scale";

fn verdict(ok: bool) -> String {
    if ok { CONFIRMED.into() } else { NOT_CONFIRMED.into() }
}

fn claim(claim: &str, table: &str, prediction: &str, measured: String, verdict: String) -> Claim {
    Claim { claim: claim.into(), table: table.into(), prediction: prediction.into(), measured, verdict }
}

/// The effect a "confirmed" needs, fixed before the numbers: theta = 1 makes `||h_L||` at least
/// this many times larger than theta = 1/L at the largest depth.
const BLOWUP_MIN: f64 = 10.0;
/// ... while theta = 1/L keeps `||h_L||` below this (the input has norm 1).
const H_NORM_MAX: f64 = 3.0;

fn forward_scale(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::forward_scale::{H_CHANGE, H_CHANGE_ANALYTIC, H_NORM, LAST, LAYER};
    let t = Table::load(r, "forward-scale")?;
    let c = Cells::load(r, "forward-scale")?;
    let (lo, hi) = (t.min_num("depth")?, t.max_num("depth")?);
    let h = |d: &str, th: &str, v: &str| t.get(&[("arch", "resnet"), ("depth", d), ("theta", th), (LAYER, LAST)], v);
    let hs = |d: &str, th: &str, v: &str| c.seeds(&[("arch", "resnet"), ("depth", d), ("theta", th), (LAYER, LAST)], v);
    let (a, s, cc) = (h(&lo, "1/L", H_NORM)?, h(&hi, "1/sqrt(L)", H_NORM)?, h(&hi, "1", H_NORM)?);
    let cha = h(&hi, "1/L", H_CHANGE_ANALYTIC)?;
    let b = hs(&hi, "1/L", H_NORM)?;
    let b_iv = stats::mean_interval(&b.iter().map(|x| x.1).collect::<Vec<_>>(), BOOT);
    let blow = paired_ratio(&hs(&hi, "1", H_NORM)?, &b);
    let ch = hs(&hi, "1/L", H_CHANGE)?.into_iter().map(|x| x.1).collect::<Vec<_>>();
    let ch_iv = stats::mean_interval(&ch, BOOT);
    let ok =
        b_iv.is_some_and(|i| i.hi < H_NORM_MAX) && above(blow, BLOWUP_MIN.ln()) && ch_iv.is_some_and(|i| i.lo > 0.1);
    Ok(claim(
        "forward pass O(1) with theta = 1/L",
        "forward-scale",
        "||h_L|| bounded in L at theta = 1/L; grows like exp(c sqrt(L)) at 1/sqrt(L) and exp(cL) at theta = 1",
        format!(
            "ResNet ||h_L||: {} (L = {lo}) to {} (L = {hi}) at theta = 1/L, {} at 1/sqrt(L), {} at theta = 1 (theta = 1 over 1/L at L = {hi}: {}); ||h_L - h_1|| / ||h_1|| = {} (recursion {}) at L = {hi}, theta = 1/L; 95% intervals over seeds. Rule: the interval of ||h_L|| at theta = 1/L below {H_NORM_MAX}, of the ratio above {BLOWUP_MIN} with every seed agreeing, of the change above 0.1",
            g(a),
            b_iv.map_or_else(|| "n/a".into(), iv),
            g(s),
            g(cc),
            ratio_text(blow),
            ch_iv.map_or_else(|| "n/a".into(), iv),
            g(cha)
        ),
        verdict(ok),
    ))
}

/// FC's hidden-layer gradient features must be at least this many times the ResNet's.
const GRAD_RATIO_MIN: f64 = 3.0;

fn grad_features(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::grad_features::{GRAD_NORM, HIDDEN_MEAN, LAYER};
    let t = Table::load(r, "grad-features")?;
    let c = Cells::load(r, "grad-features")?;
    let hi = t.max_num("depth")?;
    let w = t.max_num("width")?;
    let gn = |a: &str| c.seeds(&[("arch", a), ("depth", &hi), ("width", &w), (LAYER, HIDDEN_MEAN)], GRAD_NORM);
    let (res, fc) = (gn("resnet")?, gn("fc")?);
    let ratio = paired_ratio(&fc, &res);
    let vals = |v: &[(u64, f64)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
    Ok(claim(
        "gradient features scale with theta",
        "grad-features",
        "residual layers' ||grad f|| / sqrt(m) of order theta; FC layers of order 1",
        format!(
            "hidden-layer ||grad f|| / sqrt(m) at L = {hi}, m = {w}: ResNet {}, FC {}; FC over ResNet {} (rule: above {GRAD_RATIO_MIN}, every seed agreeing)",
            mean_text(&vals(&res)),
            mean_text(&vals(&fc)),
            ratio_text(ratio)
        ),
        verdict(above(ratio, GRAD_RATIO_MIN.ln())),
    ))
}

/// GD must bring the training loss to at most this fraction of its initial value.
const LOSS_FALL_MAX: f64 = 0.5;

fn gd_dynamics(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::gd_dynamics::{ITER, TRAIN_LOSS};
    let t = Table::load(r, "gd-dynamics")?;
    let c = Cells::load(r, "gd-dynamics")?;
    let last = t.max_num(ITER)?;
    let hi = t.max_num("depth")?;
    let mut parts = Vec::new();
    let mut ok = true;
    for ds in t.values("dataset")? {
        for a in ["resnet", "fc"] {
            let at = |it: &str| c.seeds(&[("dataset", &ds), ("arch", a), ("depth", &hi), (ITER, it)], TRAIN_LOSS);
            let (l0, l1) = (at("0")?, at(&last)?);
            let fall = paired_ratio(&l1, &l0);
            ok &= below(fall, LOSS_FALL_MAX.ln());
            parts.push(format!(
                "{ds} {a} {} to {} (ratio {})",
                g(t.get(&[("dataset", &ds), ("arch", a), ("depth", &hi), (ITER, "0")], TRAIN_LOSS)?),
                g(t.get(&[("dataset", &ds), ("arch", a), ("depth", &hi), (ITER, &last)], TRAIN_LOSS)?),
                ratio_text(fall)
            ));
        }
    }
    Ok(claim(
        "GD reaches small training loss",
        "gd-dynamics",
        "the training loss falls under GD for both networks",
        format!(
            "training loss in {last} steps at L = {hi} (kernel-normalized step), final over initial with its interval over seeds (rule: below {LOSS_FALL_MAX} for every network and data set): {}",
            parts.join("; ")
        ),
        verdict(ok),
    ))
}

/// The growth exponent in m of a quantity claimed bounded in m must have its interval below
/// this (an unbounded radius growing like the theory's ball, sqrt(m), would have 0.5).
const BOUNDED_EXPONENT_MAX: f64 = 0.25;

/// `(seed, width, value)` of every width of `keys`, for a growth exponent in m.
fn width_points(
    c: &Cells,
    widths: &[String],
    keys: &[(&str, &str)],
    v: &str,
) -> Result<Vec<(u64, f64, f64)>, ExperimentError> {
    let mut pts = Vec::new();
    for w in widths {
        let m: f64 = w.parse().map_err(|e| c.table.err(format!("width `{w}`: {e}")))?;
        let mut k = keys.to_vec();
        k.push(("width", w));
        pts.extend(c.seeds(&k, v)?.into_iter().map(|(s, y)| (s, m, y)));
    }
    Ok(pts)
}

fn distance(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::distance_from_init::{DIST_SCALED, LAYER, MATCHED_LOSS, MAX, VIEW};
    let t = Table::load(r, "distance-from-init")?;
    let c = Cells::load(r, "distance-from-init")?;
    let widths = t.sorted_nums("width")?;
    let (lo, hi) = (widths[0].clone(), widths[widths.len() - 1].clone());
    let depth = t.max_num("depth")?;
    let l: usize = depth.parse().map_err(|e| t.err(format!("depth `{depth}`: {e}")))?;
    let d = |a: &str, w: &str| {
        t.get(&[("arch", a), ("depth", &depth), ("width", w), (VIEW, MATCHED_LOSS), (LAYER, MAX)], DIST_SCALED)
    };
    let mut parts = Vec::new();
    let mut ok = true;
    for a in ["resnet", "fc"] {
        let keys = [("arch", a), ("depth", depth.as_str()), (VIEW, MATCHED_LOSS), (LAYER, MAX)];
        let s = stats::log_slope(&width_points(&c, &widths, &keys, DIST_SCALED)?, BOOT);
        ok &= s.is_some_and(|s| s.hi < BOUNDED_EXPONENT_MAX);
        // The residual layers W_2..W_L apart from the input and output layers: per seed and
        // width, the largest of them.
        let mut res_pts = Vec::new();
        for w in &widths {
            let m: f64 = w.parse().unwrap_or(f64::NAN);
            let per_layer: Vec<Vec<(u64, f64)>> = (2..=l)
                .map(|k| {
                    let layer = k.to_string();
                    c.seeds(
                        &[("arch", a), ("depth", &depth), ("width", w), (VIEW, MATCHED_LOSS), (LAYER, &layer)],
                        DIST_SCALED,
                    )
                })
                .collect::<Result<_, _>>()?;
            for (i, (seed, _)) in per_layer[0].iter().enumerate() {
                let top = per_layer.iter().map(|v| v[i].1).fold(f64::NEG_INFINITY, f64::max);
                res_pts.push((*seed, m, top));
            }
        }
        let res_mean = |w: &str| {
            let m: f64 = w.parse().unwrap_or(f64::NAN);
            let v: Vec<f64> = res_pts.iter().filter(|p| p.1 == m).map(|p| p.2).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let grows = if s.is_some_and(|s| s.lo > 0.0) { ", above 0: it grows, slowly" } else { "" };
        parts.push(format!(
            "{} {} to {} (exponent in m {}{grows}; residual layers W_2..W_{l} alone: {} to {}, exponent {})",
            if a == "resnet" { "ResNet" } else { "FC" },
            g(d(a, &lo)?),
            g(d(a, &hi)?),
            slope_text(s),
            g(res_mean(&lo)),
            g(res_mean(&hi)),
            slope_text(stats::log_slope(&res_pts, BOOT))
        ));
    }
    Ok(claim(
        "GD stays in a ball of radius R / sqrt(m) per layer",
        "distance-from-init",
        "R = sqrt(m) max_l ||W_l - W0_l|| stays of order 1 as m grows: its exponent in m near 0 (a radius growing like sqrt(m) would have 0.5)",
        format!(
            "at matched training loss 0.1, L = {depth}, m = {lo} to {hi}, with 95% intervals over seeds (rule: the exponent's interval below {BOUNDED_EXPONENT_MAX} for both): {}",
            parts.join("; ")
        ),
        verdict(ok),
    ))
}

fn linearization(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::linearization::{EPS_LIN_MAX, MATCHED_LOSS, VIEW};
    let t = Table::load(r, "linearization")?;
    let c = Cells::load(r, "linearization")?;
    let widths = t.sorted_nums("width")?;
    let (lo, hi) = (widths[0].clone(), widths[widths.len() - 1].clone());
    let depth = t.max_num("depth")?;
    let e =
        |a: &str, w: &str| t.get(&[("arch", a), ("depth", &depth), ("width", w), (VIEW, MATCHED_LOSS)], EPS_LIN_MAX);
    let slope = |a: &str| -> Result<Option<stats::Interval>, ExperimentError> {
        let keys = [("arch", a), ("depth", depth.as_str()), (VIEW, MATCHED_LOSS)];
        Ok(stats::log_slope(&width_points(&c, &widths, &keys, EPS_LIN_MAX)?, BOOT))
    };
    let (sr, sf) = (slope("resnet")?, slope("fc")?);
    let at_hi = |a: &str| c.seeds(&[("arch", a), ("depth", &depth), ("width", &hi), (VIEW, MATCHED_LOSS)], EPS_LIN_MAX);
    let closer = paired_ratio(&at_hi("resnet")?, &at_hi("fc")?);
    let falls = |s: Option<stats::Interval>| s.is_some_and(|s| s.hi < 0.0);
    let half = |s: Option<stats::Interval>| {
        if s.is_some_and(|s| !s.excludes(-0.5)) { "contains -1/2" } else { "excludes -1/2" }
    };
    Ok(claim(
        "the network stays near its linearization, nearer with width",
        "linearization",
        "eps_lin shrinks with m (about m^-1/2); smaller for the ResNet at depth",
        format!(
            "eps_lin at matched loss 0.1, L = {depth}, m = {lo} to {hi}: ResNet {} to {} (exponent in m {}, {}), FC {} to {} (exponent {}, {}); ResNet over FC at m = {hi}: {}. Rule: both exponents' intervals below 0, and the ratio's below 1 with every seed agreeing",
            g(e("resnet", &lo)?),
            g(e("resnet", &hi)?),
            slope_text(sr),
            half(sr),
            g(e("fc", &lo)?),
            g(e("fc", &hi)?),
            slope_text(sf),
            half(sf),
            ratio_text(closer)
        ),
        verdict(falls(sr) && falls(sf) && below(closer, 0.0)),
    ))
}

/// The 95% interval of the power-law depth exponent `p` of `arch` in a depth-exponent table.
fn exponent(t: &Table, arch: &str, law: Option<&str>) -> Result<stats::Interval, ExperimentError> {
    let mut k = vec![("arch", arch)];
    k.extend(law.map(|l| ("law", l)));
    Ok(stats::Interval { estimate: t.get_col(&k, "p")?, lo: t.get_col(&k, "p_lo")?, hi: t.get_col(&k, "p_hi")? })
}

/// An estimate with its interval, `1.18 [0.990, 1.44]`.
fn iv(i: stats::Interval) -> String {
    format!("{} [{}, {}]", g(i.estimate), g(i.lo), g(i.hi))
}

/// The verdict text of [`stats::headline_verdict`] on the depth exponents' intervals.
fn exponent_verdict(resnet: &[stats::Interval], fc: &[stats::Interval]) -> &'static str {
    match stats::headline_verdict(resnet, fc) {
        stats::Verdict::Confirmed => CONFIRMED,
        stats::Verdict::NotConfirmed => NOT_CONFIRMED,
        stats::Verdict::NotMeasurable => NOT_MEASURABLE,
    }
}

/// The headline as depth exponents: the width at which the NTK stays put grows like `L^p`, from
/// trained networks (width-depth: the kernel change at the target loss), at the start of GD
/// (kernel-velocity: the kernel's change per unit of output change) and without training
/// (ntk-fluctuation: the kernel's fluctuation at initialization). The verdict follows the three
/// measurements' intervals by [`stats::headline_verdict`]'s thresholds.
fn width_depth_exponent(r: &Path) -> Result<Claim, ExperimentError> {
    let trained = Table::load(r, "width-depth-depth-exponent")?;
    let free = Table::load(r, "ntk-fluctuation-depth-exponent")?;
    let velocity = Table::load(r, "kernel-velocity-depth-exponent")?;
    let t = Table::load(r, "width-depth")?;
    let (w_lo, w_hi, l_lo, l_hi) = (t.min_num("width")?, t.max_num("width")?, t.min_num("depth")?, t.max_num("depth")?);
    let tv = Table::load(r, "kernel-velocity")?;
    let (vw_lo, vw_hi, vl_lo, vl_hi) =
        (tv.min_num("width")?, tv.max_num("width")?, tv.min_num("depth")?, tv.max_num("depth")?);
    let (ve_res, ve_fc) = (exponent(&velocity, "resnet", Some("power"))?, exponent(&velocity, "fc", Some("power"))?);
    let vcount =
        |arch: &str, c: &str| velocity.get_col(&[("arch", arch), ("law", "power")], c).map(|v| format!("{v:.0}"));
    let (tr_res, tr_fc) = (exponent(&trained, "resnet", Some("power"))?, exponent(&trained, "fc", Some("power"))?);
    let (fr_res, fr_fc) = (exponent(&free, "resnet", Some("power"))?, exponent(&free, "fc", Some("power"))?);
    let count =
        |arch: &str, c: &str| trained.get_col(&[("arch", arch), ("law", "power")], c).map(|v| format!("{v:.0}"));
    let v = exponent_verdict(&[tr_res, ve_res, fr_res], &[tr_fc, ve_fc, fr_fc]);
    Ok(claim(
        "width needed grows like log L (ResNet) vs polynomially (FC), as a depth exponent",
        "width-depth",
        &format!(
            "the width at which the NTK stays put grows like L^p: p < {} (ResNet), p > {} (FC), in every measurement",
            stats::RESNET_P_MAX,
            stats::FC_P_MIN
        ),
        format!(
            "p with 95% interval over seeds; trained (kernel change at training loss 0.1, m = {w_lo} to {w_hi}, L = {l_lo} to {l_hi}, fitted where it is <= 1): ResNet {} from {} of {} cells, FC {} from {} of {} cells (outside the region: ResNet {}, FC {}; censored: ResNet {}, FC {}); at the start of GD (kernel-velocity, the kernel's change per unit of output change after the first steps, m = {vw_lo} to {vw_hi}, L = {vl_lo} to {vl_hi}): ResNet {} from {} of {} cells, FC {} from {} of {} cells (censored, the kernel dead at W0 or the steps diverged: ResNet {}, FC {}); at initialization (ntk-fluctuation): ResNet {}, FC {}",
            iv(tr_res),
            count("resnet", "points")?,
            count("resnet", "cells")?,
            iv(tr_fc),
            count("fc", "points")?,
            count("fc", "cells")?,
            count("resnet", "outside_region")?,
            count("fc", "outside_region")?,
            count("resnet", "censored")?,
            count("fc", "censored")?,
            iv(ve_res),
            vcount("resnet", "points")?,
            vcount("resnet", "cells")?,
            iv(ve_fc),
            vcount("fc", "points")?,
            vcount("fc", "cells")?,
            vcount("resnet", "censored")?,
            vcount("fc", "censored")?,
            iv(fr_res),
            iv(fr_fc)
        ),
        v.into(),
    ))
}

fn min_width(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::min_width::{
        CRITERION, EXTRAPOLATED, EXTRAPOLATION_LIMIT, FIT, FOUND, KERNEL_CHANGE, MIN_WIDTH, TRIED, TRIED_WIDTH,
    };
    let t = Table::load(r, "min-width")?;
    let fit = Table::load(r, &format!("min-width-{FIT}"))?;
    let crits = t.values(CRITERION)?;
    let lazy: Vec<&String> = crits.iter().filter(|c| c.starts_with("lazy") && !c.ends_with(EXTRAPOLATED)).collect();
    let strict = *lazy.first().ok_or_else(|| t.err("no lazy criterion".into()))?;
    let loose = *lazy.last().ok_or_else(|| t.err("no lazy criterion".into()))?;
    let strict_ext = format!("{strict} {EXTRAPOLATED}");
    let depths = t.sorted_nums("depth")?;
    let (lo, hi) = (depths[0].clone(), depths[depths.len() - 1].clone());
    // The common width: the largest width tried at every depth (the compute cap at the largest
    // depth), where both networks' kernel motion is measured side by side.
    let (cd, cc, cw) = (t.col("depth")?, t.col(CRITERION)?, t.col(TRIED_WIDTH)?);
    let width = |row: &Vec<String>| row[cw].parse::<f64>().unwrap_or(f64::NAN);
    let common = depths
        .iter()
        .filter_map(|d| {
            t.rows.iter().filter(|row| row[cd] == *d && row[cc] == TRIED).max_by(|a, b| width(a).total_cmp(&width(b)))
        })
        .min_by(|a, b| width(a).total_cmp(&width(b)))
        .map(|row| row[cw].clone())
        .ok_or_else(|| t.err("no width tried at every depth".into()))?;
    let limit = EXTRAPOLATION_LIMIT;
    // The first depth from which on every entry of `found` (one per depth) is 0.
    let none_from = |found: &[f64]| (0..depths.len()).find(|&i| found[i..].iter().all(|f| *f == 0.0));
    let (mut measured_both, mut growth_ok, mut direction) = (true, true, true);
    let mut fc_lazy_none_from = 0;
    let mut parts = Vec::new();
    for ds in t.values("dataset")? {
        let at = |a: &str, d: &str, c: &str, v: &str| {
            t.get(&[("dataset", &ds), ("arch", a), ("depth", d), (CRITERION, c), (TRIED_WIDTH, "")], v)
        };
        let kc = |a: &str, d: &str| {
            t.get(
                &[("dataset", &ds), ("arch", a), ("depth", d), (CRITERION, TRIED), (TRIED_WIDTH, &common)],
                KERNEL_CHANGE,
            )
        };
        let b = |a: &str, c: &str, col: &str| {
            fit.get_col(&[("dataset", &ds), ("arch", a), (CRITERION, c), ("law", "power")], col).unwrap_or(f64::NAN)
        };
        // Depths at which FC is lazy in no seed (measured, up to the cap).
        let fc_found: Vec<f64> = depths.iter().map(|d| at("fc", d, loose, FOUND)).collect::<Result<_, _>>()?;
        let fc_none: Vec<&String> = depths.iter().zip(&fc_found).filter(|(_, f)| **f == 0.0).map(|(d, _)| d).collect();
        fc_lazy_none_from = fc_lazy_none_from.max(none_from(&fc_found).unwrap_or(depths.len()));
        let res_found: Vec<f64> = depths.iter().map(|d| at("resnet", d, loose, FOUND)).collect::<Result<_, _>>()?;
        let res_w: Vec<f64> = depths.iter().map(|d| at("resnet", d, loose, MIN_WIDTH)).collect::<Result<_, _>>()?;
        let ext_w = |a: &str| -> Result<Vec<f64>, ExperimentError> {
            depths.iter().map(|d| at(a, d, &strict_ext, MIN_WIDTH)).collect()
        };
        let (res_ext, fc_ext) = (ext_w("resnet")?, ext_w("fc")?);
        let fc_ext_found: Vec<f64> =
            depths.iter().map(|d| at("fc", d, &strict_ext, FOUND)).collect::<Result<_, _>>()?;
        // The first depth from which on no FC seed has an extrapolated width (within the limit).
        let fc_ext_none = none_from(&fc_ext_found);
        measured_both &= !b("resnet", strict, "b").is_nan() && !b("fc", strict, "b").is_nan();
        growth_ok &= b("fc", strict, "b_ci_lo") > 0.0 && b("resnet", strict, "b_ci_hi") < b("fc", strict, "b_ci_lo");
        // Measured direction: at the common width FC's kernel moves more than the ResNet's at
        // every depth, and more at the largest depth than at the smallest, the ResNet's not.
        for d in &depths {
            direction &= kc("fc", d)? > kc("resnet", d)?;
        }
        direction &= kc("fc", &hi)? > kc("fc", &lo)? && kc("resnet", &hi)? <= kc("resnet", &lo)?;
        let span = |v: &[f64]| {
            let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let (a, z) = f.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), x| (a.min(*x), z.max(*x)));
            if f.is_empty() { "n/a".to_string() } else { format!("{} to {}", g(a), g(z)) }
        };
        parts.push(format!(
            "{ds}: measured ({loose}): ResNet lazy in {} of seeds per depth, mean width {}; FC lazy in no seed at L = {}; extrapolated ({strict}, power laws in m, at most {limit}x past the largest width tried): ResNet {}, power-law exponent in L {} [{}, {}]; FC {}, none {}; kernel change at m = {common}: ResNet {} (L = {lo}) to {} (L = {hi}), FC {} to {}",
            span(&res_found.iter().map(|f| 100.0 * f).collect::<Vec<_>>()).replace(" to ", "% to ") + "%",
            span(&res_w),
            if fc_none.is_empty() { "none".to_string() } else { fc_none.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ") },
            span(&res_ext) + if res_ext.iter().all(|w| w.is_finite()) { " at every depth" } else { " where defined" },
            g(b("resnet", &strict_ext, "b")),
            g(b("resnet", &strict_ext, "b_ci_lo")),
            g(b("resnet", &strict_ext, "b_ci_hi")),
            span(&fc_ext),
            fc_ext_none.map_or("at no depth".to_string(), |i| format!("from L = {} on", depths[i])),
            g(kc("resnet", &lo)?),
            g(kc("resnet", &hi)?),
            g(kc("fc", &lo)?),
            g(kc("fc", &hi)?)
        ));
    }
    // The growth laws need the measured lazy width of both networks at several depths; FC's is
    // censored at the compute cap beyond L = 2, so the law is not measurable here, whatever the
    // measured direction shows.
    let v = if measured_both {
        verdict(growth_ok)
    } else if direction && fc_lazy_none_from < depths.len() {
        format!(
            "{NOT_MEASURABLE} (direction as predicted: FC's lazy width is beyond the widths tried from L = {} on, its kernel motion at m = {common} is larger at L = {} than at L = {} (it need not rise at every depth in between) and exceeds the ResNet's at every depth)",
            depths[fc_lazy_none_from],
            depths[depths.len() - 1],
            depths[0]
        )
    } else {
        NOT_MEASURABLE.into()
    };
    Ok(claim(
        "width needed grows like log L (ResNet) vs polynomially (FC)",
        "min-width",
        "smallest lazy width (GD reaches the target while the kernel and the linearization stay put) flat in L for the ResNet, growing polynomially for FC",
        format!("L = {lo} to {hi}, headline criterion {strict}, also {loose}; {}", parts.join("; ")),
        v,
    ))
}

/// FC's Rademacher term at the trained radius must be at least this many times the ResNet's.
const RAD_RATIO_MIN: f64 = 2.0;

fn rademacher(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::rademacher::{LAYER, MONTE_CARLO, TOTAL_AT_TRAINED_R, TRAINED_RADIUS};
    let t = Table::load(r, "rademacher")?;
    let c = Cells::load(r, "rademacher")?;
    let (lo, hi) = (t.min_num("depth")?, t.max_num("depth")?);
    let mut parts = Vec::new();
    let mut ok = true;
    for ds in t.values("dataset")? {
        let v = |a: &str, d: &str, k: &str| {
            t.get(&[("dataset", &ds), ("arch", a), ("depth", d), (LAYER, TOTAL_AT_TRAINED_R)], k)
        };
        let sv = |a: &str| {
            c.seeds(&[("dataset", &ds), ("arch", a), ("depth", &hi), (LAYER, TOTAL_AT_TRAINED_R)], MONTE_CARLO)
        };
        let ratio = paired_ratio(&sv("fc")?, &sv("resnet")?);
        ok &= above(ratio, RAD_RATIO_MIN.ln());
        parts.push(format!(
            "{ds}: ResNet {} to {}, FC {} to {}, FC over ResNet at L = {hi} {} (trained R at L = {hi}: {} / {})",
            g(v("resnet", &lo, MONTE_CARLO)?),
            g(v("resnet", &hi, MONTE_CARLO)?),
            g(v("fc", &lo, MONTE_CARLO)?),
            g(v("fc", &hi, MONTE_CARLO)?),
            ratio_text(ratio),
            g(v("resnet", &hi, TRAINED_RADIUS)?),
            g(v("fc", &hi, TRAINED_RADIUS)?)
        ));
    }
    Ok(claim(
        "Rademacher term flat in L (ResNet) vs linear in L (FC)",
        "rademacher",
        "Rad_S of the linearized ball about R / sqrt(n) (ResNet) vs L R / sqrt(n) (FC)",
        format!(
            "Monte Carlo Rad_S at the radius GD reaches (matched loss 0.1), L = {lo} to {hi}, 95% intervals over seeds (rule: FC over ResNet above {RAD_RATIO_MIN} at L = {hi}, every seed agreeing, on every data set): {}",
            parts.join("; ")
        ),
        verdict(ok),
    ))
}

fn ntk_complexity(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::ntk_complexity::{COMPLEXITY_INF, EMPIRICAL, KERNEL};
    let t = Table::load(r, "ntk-complexity")?;
    let c = Cells::load(r, "ntk-complexity")?;
    let (lo, hi) = (t.min_num("depth")?, t.max_num("depth")?);
    let mut parts = Vec::new();
    let mut res_lower = true;
    for ds in t.values("dataset")? {
        let v = |a: &str, d: &str| {
            t.get(&[("dataset", &ds), ("arch", a), ("depth", d), (KERNEL, EMPIRICAL)], COMPLEXITY_INF)
        };
        let sv =
            |a: &str| c.seeds(&[("dataset", &ds), ("arch", a), ("depth", &hi), (KERNEL, EMPIRICAL)], COMPLEXITY_INF);
        let diff = paired_diff(&sv("fc")?, &sv("resnet")?);
        res_lower &= above(diff, 0.0);
        parts.push(format!(
            "{ds}: ResNet {} to {}, FC {} to {}, FC minus ResNet at L = {hi} {}",
            g(v("resnet", &lo)?),
            g(v("resnet", &hi)?),
            g(v("fc", &lo)?),
            g(v("fc", &hi)?),
            diff_text(diff)
        ));
    }
    Ok(claim(
        "NTK complexity favours the ResNet",
        "ntk-complexity",
        "inf sqrt(y~^T K^-1 y~ / n) (empirical K / m, no depth factor) smaller for the ResNet at depth",
        format!(
            "infimum complexity, L = {lo} to {hi}, 95% intervals over seeds (rule: FC minus ResNet above 0 at L = {hi}, every seed agreeing, on every data set): {}",
            parts.join("; ")
        ),
        verdict(res_lower),
    ))
}

fn ntrf_bound(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::ntrf_bound::{BEST, RADIUS, bound_column, interior, r_star_column};
    let t = Table::load(r, "ntrf-bound")?;
    let c = Cells::load(r, "ntrf-bound")?;
    let hi = t.max_num("depth")?;
    let measured = bound_column("measured_rad");
    let grid: Vec<f64> = t.values(RADIUS)?.iter().filter_map(|v| v.parse().ok()).collect();
    let (g_lo, g_hi) = (grid.iter().copied().fold(f64::INFINITY, f64::min), grid.iter().copied().fold(0.0, f64::max));
    let mut parts = Vec::new();
    let (mut res_lower, mut any_below_one, mut resolved) = (true, false, true);
    for n in t.values("n_train")? {
        let v = |a: &str, b: &str| t.get(&[("n_train", &n), ("arch", a), ("depth", &hi), (RADIUS, BEST)], b);
        let sv = |a: &str| c.seeds(&[("n_train", &n), ("arch", a), ("depth", &hi), (RADIUS, BEST)], &measured);
        let (rm, fm) = (v("resnet", &measured)?, v("fc", &measured)?);
        let diff = paired_diff(&sv("fc")?, &sv("resnet")?);
        res_lower &= above(diff, 0.0);
        any_below_one |= rm < 1.0 || fm < 1.0;
        // Every seed's minimizing radius must lie inside the grid, or the minimum is not found.
        let mut r_stars = Vec::new();
        for a in ["resnet", "fc"] {
            let rs = c.seeds(
                &[("n_train", &n), ("arch", a), ("depth", &hi), (RADIUS, BEST)],
                &r_star_column("measured_rad"),
            )?;
            resolved &= rs.iter().all(|(_, x)| interior(*x, &grid));
            r_stars.push(format!("{} {}", a, rs.iter().map(|(_, x)| g(*x)).collect::<Vec<_>>().join("/")));
        }
        parts.push(format!(
            "n = {n}: measured-Rademacher bound ResNet {}, FC {}, FC minus ResNet {} (minimizing R per seed: {}; FC formula on FC {}, ResNet formula on ResNet {}, ResNet formula on FC {})",
            g(rm),
            g(fm),
            diff_text(diff),
            r_stars.join(", "),
            g(v("fc", &bound_column("cg_fc_formula"))?),
            g(v("resnet", &bound_column("fcg_resnet_formula"))?),
            g(v("fc", &bound_column("fcg_resnet_formula"))?)
        ));
    }
    let verdict = if !resolved {
        format!("{NOT_MEASURABLE} (a minimizing radius lies at an end of the grid {} to {})", g(g_lo), g(g_hi))
    } else if res_lower && !any_below_one {
        "ordering as predicted, every value vacuous (> 1)".to_string()
    } else {
        verdict(res_lower)
    };
    Ok(claim(
        "the eps_NTRF bound is smaller for the ResNet",
        "ntrf-bound",
        "4 eps_NTRF(R) + Rad_S(F_lin(R)) + conf., one expression for both networks, each minimized over R: smaller for the ResNet",
        format!(
            "L = {hi}, each bound minimized over R = {} to {} on its own, 95% intervals over seeds (rule: FC minus ResNet above 0, every seed agreeing, every minimizer inside the grid): {}",
            g(g_lo),
            g(g_hi),
            parts.join("; ")
        ),
        verdict,
    ))
}

fn generalization(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::generalization::{GENERALIZATION_GAP, REACHED, TEST_ERROR};
    let t = Table::load(r, "generalization")?;
    let c = Cells::load(r, "generalization")?;
    let depths = t.sorted_nums("depth")?;
    // The claim is about deep networks: every depth but the shallowest.
    let deep = &depths[1.min(depths.len() - 1)..];
    let mut parts = Vec::new();
    let (mut lower, mut total, mut reached, mut cells) = (0, 0, 0, 0);
    for d in &depths {
        let mut at_depth = Vec::new();
        for ds in t.values("dataset")? {
            for n in t.values("n_train")? {
                let keys = |a: &'static str| {
                    [("dataset", ds.as_str()), ("n_train", n.as_str()), ("arch", a), ("depth", d.as_str())]
                };
                let (rk, fk) = (keys("resnet"), keys("fc"));
                let diff = paired_diff(&c.seeds(&fk, GENERALIZATION_GAP)?, &c.seeds(&rk, GENERALIZATION_GAP)?);
                for key in [&rk, &fk] {
                    let v = c.seeds(key, REACHED)?;
                    cells += v.len();
                    reached += v.iter().filter(|(_, x)| *x >= 1.0).count();
                }
                if deep.contains(d) {
                    total += 1;
                    if above(diff, 0.0) {
                        lower += 1;
                    }
                }
                at_depth.push(format!(
                    "{ds} n = {n}: gap {} vs {} (FC minus ResNet {}), test error {} vs {}",
                    g(t.get(&rk, GENERALIZATION_GAP)?),
                    g(t.get(&fk, GENERALIZATION_GAP)?),
                    diff_text(diff),
                    g(t.get(&rk, TEST_ERROR)?),
                    g(t.get(&fk, TEST_ERROR)?)
                ));
            }
        }
        parts.push(format!("L = {d}: {}", at_depth.join("; ")));
    }
    let v = if lower == total && reached == cells {
        CONFIRMED.to_string()
    } else if lower == 0 {
        NOT_CONFIRMED.to_string()
    } else {
        format!(
            "{NOT_CONFIRMED} (the ResNet's gap smaller with an interval above 0 in {lower} of {total} settings at L = {}; target reached in {reached} of {cells} cells)",
            deep.join(", ")
        )
    };
    Ok(claim(
        "smaller generalization gap for the deep ResNet",
        "generalization",
        "at matched training loss, the ResNet's test error gap is smaller than FC's at depth",
        format!(
            "ResNet vs FC, both trained to loss 0.05 with the kernel-normalized step (reached in {reached} of {cells} cells), 95% intervals over seeds (rule: FC minus ResNet above 0, every seed agreeing, in every setting at L = {}): {}",
            deep.join(", "),
            parts.join(". ")
        ),
        v,
    ))
}

/// A claim's row from the tables folder.
type ClaimBuilder = fn(&Path) -> Result<Claim, ExperimentError>;

/// Every claim's row, from the tables in `results`. A missing or malformed table is an error
/// naming it.
fn ntk_fluctuation(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::ntk_fluctuation::{CV_DIAG, MIN_WIDTH, MIN_WIDTH_COLUMN, STATISTIC};
    let t = Table::load(r, "ntk-fluctuation")?;
    let (l_lo, l_hi, m_lo) = (t.min_num("depth")?, t.max_num("depth")?, t.min_num("width")?);
    let cv = |a: &str, l: &str| t.get(&[("arch", a), ("depth", l), ("width", &m_lo)], CV_DIAG);
    let (fc_lo, fc_hi, res_lo, res_hi) =
        (cv("fc", &l_lo)?, cv("fc", &l_hi)?, cv("resnet", &l_lo)?, cv("resnet", &l_hi)?);
    // The training-free width at the largest depth (smallest m from which on CV <= 0.1).
    let w = Table::load(r, &format!("ntk-fluctuation-{MIN_WIDTH}"))?;
    let (ca, cd, cs, cw) = (w.col("arch")?, w.col("depth")?, w.col(STATISTIC)?, w.col(MIN_WIDTH_COLUMN)?);
    let width_at = |a: &str| -> String {
        w.rows
            .iter()
            .find(|row| row[ca] == a && row[cd] == l_hi && row[cs] == CV_DIAG)
            .map(|row| if row[cw].is_empty() { "none in the grid".to_string() } else { row[cw].clone() })
            .unwrap_or_else(|| "n/a".into())
    };
    // The depth exponent p of the width at which CV falls to any threshold (CV^2 = A L^b m^g,
    // p = -b/g), with its interval over data draws: the verdict, by the headline's thresholds.
    let e = Table::load(r, "ntk-fluctuation-depth-exponent")?;
    let (p_fc, p_res) = (exponent(&e, "fc", Some("power"))?, exponent(&e, "resnet", Some("power"))?);
    let seeds = e.get_col(&[("arch", "fc"), ("law", "power")], "seeds")?;
    let v = exponent_verdict(&[p_res], &[p_fc]);
    Ok(claim(
        "NTK fluctuations at init (beyond the paper, Hanin-Nica)",
        "ntk-fluctuation",
        &format!(
            "FC's relative fluctuation of K(x, x) over initializations grows with L/m, the ResNet's (theta = 1/L) not with L: the width at which it falls to a threshold grows like L^p with p > {} (FC), p < {} (ResNet)",
            stats::FC_P_MIN,
            stats::RESNET_P_MAX
        ),
        format!(
            "p = -b/g from CV^2 = A L^b m^g over the grid, 95% interval over {seeds} data draws: FC {}, ResNet {}; coefficient of variation of K(x, x) at m = {m_lo}, L = {l_lo} to {l_hi}: FC {} to {}, ResNet {} to {}; smallest m with CV <= 0.1 at L = {l_hi}: FC {}, ResNet {}",
            iv(p_fc),
            iv(p_res),
            g(fc_lo),
            g(fc_hi),
            g(res_lo),
            g(res_hi),
            width_at("fc"),
            width_at("resnet")
        ),
        v.into(),
    ))
}

fn kernel_motion(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::kernel_motion::KERNEL_CHANGE;
    let t = Table::load(r, "kernel-motion")?;
    let c = Cells::load(r, "kernel-motion")?;
    let widths = t.sorted_nums("width")?;
    let (w_lo, w_hi, l_hi) = (widths[0].clone(), widths[widths.len() - 1].clone(), t.max_num("depth")?);
    let mut shrinks = true;
    let mut slopes = Vec::new();
    for arch in ["resnet", "fc"] {
        for depth in t.sorted_nums("depth")? {
            let s = stats::log_slope(
                &width_points(&c, &widths, &[("arch", arch), ("depth", depth.as_str())], KERNEL_CHANGE)?,
                BOOT,
            );
            shrinks &= s.is_some_and(|s| s.hi < 0.0);
            slopes.push(format!("{arch} L = {depth} {}", slope_text(s)));
        }
    }
    let k = |a: &str, w: &str| t.get(&[("arch", a), ("depth", &l_hi), ("width", w)], KERNEL_CHANGE);
    let ks = |a: &str| c.seeds(&[("arch", a), ("depth", &l_hi), ("width", &w_hi)], KERNEL_CHANGE);
    let ratio = paired_ratio(&ks("fc")?, &ks("resnet")?);
    Ok(claim(
        "NTK motion under GD (beyond the paper, lazy training)",
        "kernel-motion",
        "||K_T - K_0||_F / ||K_0||_F at a matched training loss falls with width, and is smaller for the ResNet",
        format!(
            "at L = {l_hi}, m = {w_lo} to {w_hi}: ResNet {} to {}, FC {} to {}; FC over ResNet at m = {w_hi}: {}; exponent in m, 95% intervals over seeds: {} (rule: every exponent's interval below 0, the ratio's above 1 with every seed agreeing)",
            g(k("resnet", &w_lo)?),
            g(k("resnet", &w_hi)?),
            g(k("fc", &w_lo)?),
            g(k("fc", &w_hi)?),
            ratio_text(ratio),
            slopes.join(", ")
        ),
        verdict(shrinks && above(ratio, 0.0)),
    ))
}

/// A complexity tracks the test error when its Spearman correlation with it over the noise
/// levels is at least this (mean over seeds), with an interval above 0.
const SPEARMAN_MIN: f64 = 0.8;

fn label_noise(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::generalization::TEST_ERROR;
    use crate::kinds::label_noise::{ANALYTIC_COMPLEXITY, BOUND_MEASURED_RAD, NTK_COMPLEXITY, REACHED};
    let t = Table::load(r, "label-noise")?;
    let c = Cells::load(r, "label-noise")?;
    let levels = t.sorted_nums("label_noise")?;
    let depths = t.sorted_nums("depth")?;
    // Per network, depth and seed: Spearman of a quantity with the test error over the noise
    // levels; its mean over seeds with an interval.
    let rho = |a: &str, d: &str, q: &str| -> Result<(Option<stats::Interval>, usize), ExperimentError> {
        let mut per_seed: Vec<(u64, Vec<f64>, Vec<f64>)> = Vec::new();
        for lvl in &levels {
            let keys = [("label_noise", lvl.as_str()), ("arch", a), ("depth", d)];
            let (xs, ys) = (c.seeds(&keys, q)?, c.seeds(&keys, TEST_ERROR)?);
            for ((seed, x), (_, y)) in xs.into_iter().zip(ys) {
                match per_seed.iter_mut().find(|p| p.0 == seed) {
                    Some(p) => {
                        p.1.push(x);
                        p.2.push(y);
                    }
                    None => per_seed.push((seed, vec![x], vec![y])),
                }
            }
        }
        let rhos: Vec<f64> = per_seed.iter().filter_map(|(_, x, y)| crate::fit::spearman(x, y)).collect();
        Ok((stats::mean_interval(&rhos, BOOT), rhos.len()))
    };
    let mut parts = Vec::new();
    let (mut analytic_ok, mut trained_ok) = (true, true);
    let (mut reached, mut cells) = (0, 0);
    for a in ["resnet", "fc"] {
        for d in &depths {
            let (an, seeds) = rho(a, d, ANALYTIC_COMPLEXITY)?;
            let (em, _) = rho(a, d, NTK_COMPLEXITY)?;
            let (bd, _) = rho(a, d, BOUND_MEASURED_RAD)?;
            let tracks = |i: Option<stats::Interval>| i.is_some_and(|i| i.estimate >= SPEARMAN_MIN && i.lo > 0.0);
            analytic_ok &= tracks(an) && seeds >= 2;
            trained_ok &= tracks(bd) && seeds >= 2;
            for lvl in &levels {
                let v = c.seeds(&[("label_noise", lvl.as_str()), ("arch", a), ("depth", d)], REACHED)?;
                cells += v.len();
                reached += v.iter().filter(|(_, x)| *x >= 1.0).count();
            }
            let f = |i: Option<stats::Interval>| i.map_or_else(|| "n/a".into(), iv);
            parts.push(format!("{a} L = {d}: analytic {}, empirical {}, bound {}", f(an), f(em), f(bd)));
        }
    }
    let all_reached = reached == cells;
    let trained = if !all_reached {
        format!("{NOT_MEASURABLE} for the trained networks (target loss reached in {reached} of {cells} cells)")
    } else {
        format!("{} for the trained networks' measured-Rademacher bound", verdict(trained_ok))
    };
    let v = format!("{} for the analytic complexity (data and labels only); {trained}", verdict(analytic_ok));
    Ok(claim(
        "Complexities track label noise (beyond the paper, Arora et al. 2019)",
        "label-noise",
        "sqrt(y^T K^-1 y / n) rises with the fraction of corrupted training labels, as the test error does (Spearman over noise levels, per network and depth)",
        format!(
            "Spearman with the test error over {} noise levels, mean over seeds with its 95% interval, per network and depth (analytic NTK complexity; empirical NTK complexity at W0; measured-Rademacher bound of the trained network): {}; target loss 0.05 reached in {reached} of {cells} cells. Rule: mean at least {SPEARMAN_MIN} with the interval above 0 for every network and depth, judged apart for the analytic complexity and for the trained networks (only where every cell reached the target)",
            levels.len(),
            parts.join("; ")
        ),
        v,
    ))
}

fn theta_phase(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::theta_phase::{H_CHANGE, KERNEL_CHANGE, KERNEL_TEST_ERROR, OFFDIAG_SD};
    let t = Table::load(r, "theta-phase")?;
    let c = Cells::load(r, "theta-phase")?;
    let at = |branch: &'static str| {
        let t = &t;
        move |theta: &str, depth: &str, col: &str| t.get(&[("branch", branch), ("theta", theta), ("depth", depth)], col)
    };
    let seeds_at = |branch: &'static str| {
        let c = &c;
        move |theta: &str, depth: &str, col: &str| {
            c.seeds(&[("branch", branch), ("theta", theta), ("depth", depth)], col)
        }
    };
    let (v, w) = (at("one-layer"), at("two-layer"));
    let (vs, ws) = (seeds_at("one-layer"), seeds_at("two-layer"));
    // An interval inside (-x, x): no change beyond x.
    let within = |p: Option<stats::Paired>, x: f64| p.is_some_and(|p| p.seeds >= 2 && p.diff.lo > -x && p.diff.hi < x);
    let mean_above = |vals: Vec<(u64, f64)>, x: f64| {
        let v: Vec<f64> = vals.into_iter().map(|p| p.1).collect();
        v.len() >= 2 && stats::mean_interval(&v, BOOT).is_some_and(|i| i.lo > x)
    };
    // One-layer: degeneration at gamma = 0 by L = 256; a depth limit at theta = 1/L from L = 64
    // to 1024.
    let flat = paired_ratio(&vs("1", "256", OFFDIAG_SD)?, &vs("1/L", "256", OFFDIAG_SD)?);
    let degenerate = mean_above(vs("1", "256", KERNEL_TEST_ERROR)?, 0.4) && below(flat, 1e-3f64.ln());
    let (k64, k1024) = (v("1/L", "64", KERNEL_CHANGE)?, v("1/L", "1024", KERNEL_CHANGE)?);
    let (h64, h1024) = (v("1/L", "64", H_CHANGE)?, v("1/L", "1024", H_CHANGE)?);
    let dk = paired_diff(&vs("1/L", "1024", KERNEL_CHANGE)?, &vs("1/L", "64", KERNEL_CHANGE)?);
    let dh = paired_diff(&vs("1/L", "1024", H_CHANGE)?, &vs("1/L", "64", H_CHANGE)?);
    let limit = within(dk, 0.05) && mean_above(vs("1/L", "1024", KERNEL_CHANGE)?, 0.1) && within(dh, 0.1 * h64);
    // Two-layer (centred): the depth limit moves to 1/sqrt(L), and 1/L makes depth inert.
    let (s64, s1024) = (w("1/sqrt(L)", "64", KERNEL_CHANGE)?, w("1/sqrt(L)", "1024", KERNEL_CHANGE)?);
    let (i64_, i1024) = (w("1/L", "64", KERNEL_CHANGE)?, w("1/L", "1024", KERNEL_CHANGE)?);
    let ds = paired_diff(&ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?, &ws("1/sqrt(L)", "64", KERNEL_CHANGE)?);
    let di = paired_ratio(&ws("1/L", "1024", KERNEL_CHANGE)?, &ws("1/L", "64", KERNEL_CHANGE)?);
    let inert = paired_ratio(&ws("1/L", "1024", KERNEL_CHANGE)?, &ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?);
    // (Its limit kernel is close to the depth-1 kernel, about 0.09 away at m = 128 on MNIST, so
    // "not inert" is judged against 1/L's, which keeps shrinking.)
    let centred = within(ds, 0.05 * s64)
        && mean_above(ws("1/sqrt(L)", "1024", KERNEL_CHANGE)?, 0.05)
        && below(di, 0.0)
        && below(inert, 0.01f64.ln());
    Ok(claim(
        "Residual scaling phases (beyond the paper)",
        "theta-phase",
        "theta = L^-gamma: small gamma degenerates as L grows (normalized kernel to a constant, kernel predictions to chance); the one-layer branch has its depth limit at theta = 1/L, the centred two-layer branch at 1/sqrt(L), where 1/L makes depth inert",
        format!(
            "one-layer, kernel-regression test error at L = 256: theta = 1 {}, L^-0.25 {}, 1/sqrt(L) {}, 1/L {}; off-diagonal spread of the normalized kernel at L = 256, theta = 1 over 1/L: {}; theta = 1/L from L = 64 to 1024: ||K~_L - K~_1|| / ||K~_1|| {} to {} (change {}), ||h_L - h_1|| / ||h_1|| {} to {} (change {}). Two-layer, L = 64 to 1024: kernel change at 1/sqrt(L) {} to {} (change {}), at 1/L {} to {} (ratio {}); 1/L over 1/sqrt(L) at L = 1024: {}; test error at L = 256, theta = 1: {}. 95% intervals over seeds; the rule's thresholds are in report.rs",
            mean_text(&vs("1", "256", KERNEL_TEST_ERROR)?.into_iter().map(|p| p.1).collect::<Vec<_>>()),
            g(v("L^-0.25", "256", KERNEL_TEST_ERROR)?),
            g(v("1/sqrt(L)", "256", KERNEL_TEST_ERROR)?),
            g(v("1/L", "256", KERNEL_TEST_ERROR)?),
            ratio_text(flat),
            g(k64),
            g(k1024),
            diff_text(dk),
            g(h64),
            g(h1024),
            diff_text(dh),
            g(s64),
            g(s1024),
            diff_text(ds),
            g(i64_),
            g(i1024),
            ratio_text(di),
            ratio_text(inert),
            g(w("1", "256", KERNEL_TEST_ERROR)?)
        ),
        verdict(degenerate && limit && centred),
    ))
}

fn kernel_vs_net(r: &Path) -> Result<Claim, ExperimentError> {
    use crate::kinds::kernel_vs_net::{DISAGREE_TEST, KRR_TEST_ERROR, NET_TEST_ERROR, RMSE_TEST};
    let t = Table::load(r, "kernel-vs-net")?;
    let c = Cells::load(r, "kernel-vs-net")?;
    let widths = t.sorted_nums("width")?;
    let (w_lo, w_hi, l_hi) = (&widths[0], &widths[widths.len() - 1], t.max_num("depth")?);
    let v = |a: &str, d: &str, w: &str, col: &str| t.get(&[("arch", a), ("depth", d), ("width", w)], col);
    // The exponent of rmse_test in m, with its interval over seeds, per network and depth.
    let slope = |a: &str, d: &str| -> Result<Option<stats::Interval>, ExperimentError> {
        Ok(stats::log_slope(&width_points(&c, &widths, &[("arch", a), ("depth", d)], RMSE_TEST)?, BOOT))
    };
    let mut falls = true;
    for a in ["resnet", "fc"] {
        for d in t.values("depth")? {
            falls &= slope(a, &d)?.is_some_and(|s| s.hi < 0.0);
        }
    }
    let at_hi = |a: &str| c.seeds(&[("arch", a), ("depth", &l_hi), ("width", w_hi)], RMSE_TEST);
    let closer = paired_ratio(&at_hi("resnet")?, &at_hi("fc")?);
    Ok(claim(
        "Network vs its linearization (beyond the paper)",
        "kernel-vs-net",
        "after the same GD steps, the network's test outputs approach the linearized network's as m grows (exponent about -1/2 or steeper); the ResNet's closer than FC's",
        format!(
            "at L = {l_hi}, m = {w_lo} to {w_hi}: RMS output difference ResNet {} to {} (exponent in m {}), FC {} to {} (exponent {}); ResNet over FC at m = {w_hi}: {}; sign disagreement at m = {w_hi}: ResNet {}, FC {}; analytic-NTK kernel regression test error {} (ResNet) vs trained {}; 95% intervals over seeds (rule: every network's and depth's exponent interval below 0, the ratio's below 1 with every seed agreeing)",
            g(v("resnet", &l_hi, w_lo, RMSE_TEST)?),
            g(v("resnet", &l_hi, w_hi, RMSE_TEST)?),
            slope_text(slope("resnet", &l_hi)?),
            g(v("fc", &l_hi, w_lo, RMSE_TEST)?),
            g(v("fc", &l_hi, w_hi, RMSE_TEST)?),
            slope_text(slope("fc", &l_hi)?),
            ratio_text(closer),
            g(v("resnet", &l_hi, w_hi, DISAGREE_TEST)?),
            g(v("fc", &l_hi, w_hi, DISAGREE_TEST)?),
            g(v("resnet", &l_hi, w_hi, KRR_TEST_ERROR)?),
            g(v("resnet", &l_hi, w_hi, NET_TEST_ERROR)?)
        ),
        verdict(falls && below(closer, 0.0)),
    ))
}

pub fn claims(results: &Path) -> Result<Vec<Claim>, ExperimentError> {
    let builders: [ClaimBuilder; 16] = [
        forward_scale,
        grad_features,
        gd_dynamics,
        distance,
        linearization,
        width_depth_exponent,
        min_width,
        rademacher,
        ntk_complexity,
        ntrf_bound,
        generalization,
        ntk_fluctuation,
        kernel_motion,
        label_noise,
        theta_phase,
        kernel_vs_net,
    ];
    builders.iter().map(|b| b(results)).collect()
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `results/summary.md`.
pub fn markdown(claims: &[Claim]) -> String {
    let mut out = String::from(
        "# resgen: claims and verdicts\n\nGenerated by `resgen report` from the tables in this folder (quick profile); do not edit.\n\
         Verdict rules are in crates/resgen-experiments/src/report.rs, one function per claim, with \
         their thresholds written there before the numbers.\n\n\
         **Intervals.** Each verdict rests on 95% bootstrap intervals over seeds (each seed sets the \
         initialization and the data draw): paired over seeds where both networks share seeds and \
         data (the difference or ratio, its interval, and how many seeds agree in sign), and \
         exponents fitted with a bootstrap that resamples whole seeds. They cover the \
         seed-to-seed variation at the widths, depths, data and step sizes of each grid, nothing \
         else: not those fixed choices, and not multiplicity (the rows hold about fifty \
         intervals, and at 95% each one or two of them may exclude the true value by chance; no \
         correction is applied). With 3 seeds a bootstrap has few distinct resamples, so an \
         interval of a mean spans at most the seeds' range.\n\n\
         | claim | table | prediction | fair comparison, measured | verdict |\n|---|---|---|---|---|\n",
    );
    for c in claims {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | **{}** |\n",
            md_cell(&c.claim),
            c.table,
            md_cell(&c.prediction),
            md_cell(&c.measured),
            md_cell(&c.verdict)
        ));
    }
    out
}

fn tex_escape(s: &str) -> String {
    let mut o = String::new();
    for ch in s.chars() {
        match ch {
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                o.push('\\');
                o.push(ch);
            }
            '^' => o.push_str("\\^{}"),
            '~' => o.push_str("\\textasciitilde{}"),
            '\\' => o.push_str("\\textbackslash{}"),
            _ => o.push(ch),
        }
    }
    o
}

/// `results/summary.tex`: a booktabs table (needs `\usepackage{booktabs}` and `tabularx`).
pub fn latex(claims: &[Claim]) -> String {
    let mut out = String::from(
        "% Generated by `resgen report` from the quick-profile tables; do not edit.\n\
         \\begin{tabularx}{\\textwidth}{@{}p{0.17\\textwidth}p{0.22\\textwidth}X p{0.1\\textwidth}@{}}\n\\toprule\n\
         Claim & Prediction & Fair comparison, measured & Verdict \\\\\n\\midrule\n",
    );
    for c in claims {
        out.push_str(&format!(
            "{} & {} & {} & {} \\\\\n",
            tex_escape(&c.claim),
            tex_escape(&c.prediction),
            tex_escape(&c.measured),
            tex_escape(&c.verdict)
        ));
    }
    out.push_str("\\bottomrule\n\\end{tabularx}\n");
    out
}

/// Writes `summary.md` and `summary.tex` into `results` (atomically); returns their paths.
pub fn write_report(results: &Path) -> Result<Vec<std::path::PathBuf>, ExperimentError> {
    let c = claims(results)?;
    let md = results.join("summary.md");
    let tex = results.join("summary.tex");
    resgen_train::output::write_atomic(&md, markdown(&c).as_bytes()).map_err(resgen_train::output::io_err(&md))?;
    resgen_train::output::write_atomic(&tex, latex(&c).as_bytes()).map_err(resgen_train::output::io_err(&tex))?;
    Ok(vec![md, tex])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_comparisons_follow_their_rules_by_hand() {
        // Seeds 0, 1, 2 of FC and 0, 1, 3 of the ResNet: only 0 and 1 pair up.
        let fc = [(0, 4.0), (1, 8.0), (2, 100.0)];
        let res = [(0, 1.0), (1, 2.0), (3, 100.0)];
        assert_eq!(align(&fc, &res), (vec![4.0, 8.0], vec![1.0, 2.0]));
        // Both ratios are 4: ln 4 with a zero-width interval, 2 of 2 seeds agree.
        let r = paired_ratio(&fc, &res).unwrap();
        assert!((r.diff.estimate - 4f64.ln()).abs() < 1e-12 && (r.diff.lo - r.diff.hi).abs() < 1e-12);
        assert_eq!((r.agree, r.seeds), (2, 2));
        assert!(above(Some(r), 3f64.ln()) && !above(Some(r), 5f64.ln()) && !below(Some(r), 0.0));
        assert_eq!(ratio_text(Some(r)), "4.00x [4.00, 4.00], 2 of 2 seeds");
        // Differences 3 and -1: the seeds disagree in sign, so neither rule holds whatever the
        // interval, and one seed alone never decides.
        let d = paired_diff(&[(0, 4.0), (1, 1.0)], &[(0, 1.0), (1, 2.0)]).unwrap();
        assert_eq!((d.agree, d.seeds), (1, 2));
        assert!(!above(Some(d), -10.0) && !below(Some(d), 10.0));
        assert!(!above(paired_diff(&[(0, 5.0)], &[(0, 1.0)]), 0.0));
        assert!(!above(None, 0.0));
    }
}
