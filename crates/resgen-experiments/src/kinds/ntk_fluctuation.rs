//! ntk-fluctuation: the relative fluctuation of the empirical NTK over initializations
//! (beyond the paper, Hanin-Nica), and the training-free width derived from it,
//! `results/ntk-fluctuation-min-width.csv`.
//!
//! The empirical NTK `K = NTK / m` at `inits` independent initializations on one fixed
//! training set (the cell's data seed): the coefficient of variation over initializations of
//! each diagonal entry `K(x_i, x_i)` (averaged over i), of each off-diagonal entry
//! `K(x_i, x_j)` (averaged over i < j), and of `y^T K^{-1} y`, with their means. The
//! initializations of cell seed `s` use model seeds `1_000_003 s + i`, i < inits.

use crate::ExperimentError;
use resgen_bounds::{linalg, ntk};
use resgen_data::output::csv_text;
use resgen_models::{Net, Precision};
use serde::Deserialize;

use super::params::{InvalidParam, Validate, at_least};
use super::shared::names;
use super::{Context, Derived, ExperimentKind, Summary};
use crate::num::{fmt, mean_sd};
use crate::record::{Record, key, key_number};
use crate::spec::Cell;

/// Key: `L / m`.
pub const L_OVER_M: &str = "l_over_m";
/// Mean over i of the coefficient of variation of `K(x_i, x_i)`.
pub const CV_DIAG: &str = "cv_diag";
/// Mean over i < j of the coefficient of variation of `K(x_i, x_j)`.
pub const CV_OFFDIAG: &str = "cv_offdiag";
/// The coefficient of variation of `y^T K^-1 y`.
pub const CV_YKY: &str = "cv_yky";
/// The means of the same.
pub const MEAN_DIAG: &str = "mean_diag";
/// Mean off-diagonal entry.
pub const MEAN_OFFDIAG: &str = "mean_offdiag";
/// Mean `y^T K^-1 y`.
pub const MEAN_YKY: &str = "mean_yky";
/// The initializations per cell.
pub const INITS: &str = "inits";

/// The derived table's suffix: `results/ntk-fluctuation-min-width.csv`.
pub const MIN_WIDTH: &str = "min-width";
/// The derived table's columns beside the network's: the statistic, the threshold, the width.
pub const STATISTIC: &str = "statistic";
/// The derived table's width column (empty where no width qualifies).
pub const MIN_WIDTH_COLUMN: &str = "min_width";

/// The coefficient of variation below which the training-free width counts the kernel as
/// deterministic.
pub const FLUCTUATION_CV: f64 = 0.1;

/// ntk-fluctuation's `[params]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Initializations per cell (at least 2).
    pub inits: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { inits: 30 }
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        // A coefficient of variation needs at least two initializations.
        at_least("inits", self.inits, 2)
    }
}

/// The ntk-fluctuation kind.
pub struct NtkFluctuation;

impl ExperimentKind for NtkFluctuation {
    type Params = Params;

    fn columns() -> Vec<String> {
        names(&[CV_DIAG, CV_OFFDIAG, CV_YKY, MEAN_DIAG, MEAN_OFFDIAG, MEAN_YKY, INITS], &[])
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let inits = p.inits;
        if inits < 2 {
            return Err(ExperimentError::Params(format!(
                "params.inits = {inits}: a coefficient of variation needs at least 2 initializations"
            )));
        }
        let device = ctx.kernel_device()?;
        let split = resgen_data::load(&cfg.data)?;
        let (n, d) = (split.train.n, split.train.d);
        if n < 2 {
            return Err(ExperimentError::Params(format!(
                "data.n_train = {n}: off-diagonal entries need at least 2 points"
            )));
        }
        // entries[e][t]: entry e (diagonal first, then i < j) at initialization t.
        let pairs: Vec<(usize, usize)> =
            (0..n).map(|i| (i, i)).chain((0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)))).collect();
        let mut entries = vec![Vec::with_capacity(inits); pairs.len()];
        let mut yky = Vec::with_capacity(inits);
        for t in 0..inits {
            let mut model = cfg.model.clone();
            model.seed = cfg.model.seed.wrapping_mul(1_000_003).wrapping_add(t as u64);
            let net = Net::init(&model, d, Precision::F64, device)?;
            let k = ntk::empirical_ntk(&net, &split.train.x, n).normalized();
            for (e, &(i, j)) in pairs.iter().enumerate() {
                entries[e].push(k.data[i * n + j]);
            }
            let c = linalg::ntk_complexity(&k, &split.train.y)?;
            yky.push(c * c * n as f64);
        }
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let cvs: Vec<f64> = entries.iter().map(|xs| coefficient_of_variation(xs)).collect();
        let means: Vec<f64> = entries.iter().map(|xs| mean(xs)).collect();
        let l_over_m = cfg.model.depth as f64 / cfg.model.width as f64;
        Ok(vec![
            Record::new(&[key(L_OVER_M, key_number(l_over_m))])
                .with(CV_DIAG, mean(&cvs[..n]))
                .with(CV_OFFDIAG, mean(&cvs[n..]))
                .with(CV_YKY, coefficient_of_variation(&yky))
                .with(MEAN_DIAG, mean(&means[..n]))
                .with(MEAN_OFFDIAG, mean(&means[n..]))
                .with(MEAN_YKY, mean(&yky))
                .with(INITS, inits as f64),
        ])
    }

    fn derived(t: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        Ok(vec![
            (MIN_WIDTH, fluctuation_widths(t.header, t.rows, FLUCTUATION_CV)?),
            (DEPTH_EXPONENT, fluctuation_exponents_table(t.raw)),
        ])
    }
}

/// The depth-exponent table's suffix: `results/<name>-depth-exponent.csv`.
pub const DEPTH_EXPONENT: &str = "depth-exponent";

/// The depth exponents (`<name>-depth-exponent.csv`): per network, the fits of
/// [`crate::fits::fluctuation_exponents`] to every cell's squared coefficient of variation of
/// `K(x, x)`, the seeds (data draws) as the bootstrap's clusters.
fn fluctuation_exponents_table(raw: &[crate::record::RawRecord]) -> String {
    let mut nets: Vec<crate::fits::Fluctuation> = Vec::new();
    for (k, seed, vals) in raw {
        let Some(arch) = k.iter().find(|(n, _)| n == crate::spec::grid::ARCH).map(|(_, v)| v.as_str()) else {
            continue;
        };
        let cv = vals.iter().find(|(n, _)| n == CV_DIAG).and_then(|(_, v)| *v);
        let (Some(depth), Some(width), Some(cv)) =
            (key_value(k, crate::spec::grid::DEPTH), key_value(k, crate::spec::grid::WIDTH), cv)
        else {
            continue;
        };
        let obs = resgen_stats::Obs { cluster: *seed, depth, width, y: cv * cv };
        match nets.iter_mut().find(|n| n.arch == arch) {
            Some(n) => n.obs.push(obs),
            None => nets.push(crate::fits::Fluctuation { arch, obs: vec![obs] }),
        }
    }
    let (header, rows) = crate::fits::fluctuation_exponents(&nets);
    csv_text(&header, &rows)
}

/// The number in key column `name` of a raw record's key.
pub(crate) fn key_value(k: &[(String, String)], name: &str) -> Option<f64> {
    k.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.parse::<f64>().ok())
}

/// Coefficient of variation (sample sd / |mean|) of samples.
fn coefficient_of_variation(xs: &[f64]) -> f64 {
    match mean_sd(xs) {
        (Some(mean), Some(sd)) => sd / mean.abs(),
        _ => f64::NAN,
    }
}

/// The training-free minimum width: per network, depth and statistic, the smallest width of
/// the grid from which on (that width and every larger one) the mean coefficient of variation
/// is at most `threshold`; empty where no width qualifies.
pub fn fluctuation_widths(header: &[String], rows: &[Vec<String>], threshold: f64) -> Result<String, ExperimentError> {
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| ExperimentError::Measurement(format!("no column {name}")))
    };
    let seeds = col(crate::table::SEEDS)?;
    let width = col(crate::spec::grid::WIDTH)?;
    let group_cols: Vec<usize> = (0..seeds).filter(|&c| c != width && header[c] != L_OVER_M).collect();
    let mut groups: Vec<(Vec<String>, Vec<&Vec<String>>)> = Vec::new();
    for r in rows {
        let g: Vec<String> = group_cols.iter().map(|&c| r[c].clone()).collect();
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(r),
            None => groups.push((g, vec![r])),
        }
    }
    let mut out_header: Vec<String> = group_cols.iter().map(|&c| header[c].clone()).collect();
    out_header.extend([STATISTIC, "threshold", MIN_WIDTH_COLUMN, "max_width_tried"].iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    for (g, mut rs) in groups {
        let w = |r: &Vec<String>| r[width].parse::<f64>().unwrap_or(f64::NAN);
        rs.sort_by(|a, b| w(a).total_cmp(&w(b)));
        for stat in [CV_DIAG, CV_OFFDIAG, CV_YKY] {
            let c = col(&format!("{stat}_mean"))?;
            let ok: Vec<bool> = rs.iter().map(|r| r[c].parse::<f64>().is_ok_and(|v| v <= threshold)).collect();
            // The first index from which every width qualifies.
            let first = (0..rs.len()).find(|&i| ok[i..].iter().all(|&b| b));
            let mut row = g.clone();
            row.push(stat.into());
            row.push(fmt(threshold));
            row.push(first.map(|i| rs[i][width].clone()).unwrap_or_default());
            row.push(rs.last().map(|r| r[width].clone()).unwrap_or_default());
            out.push(row);
        }
    }
    Ok(csv_text(&out_header, &out))
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, _rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use super::width_depth::{PREDICTION, exponent, exponent_text, headline_verdict};
    use crate::fits::*;
    use crate::results::Table;
    use crate::spec::grid::*;
    use crate::verdict::*;
    let t = Table::main(r, "ntk-fluctuation", &NtkFluctuation::columns())?;
    let (l_lo, l_hi, m_lo) = (t.min_num(DEPTH)?, t.max_num(DEPTH)?, t.min_num(WIDTH)?);
    let cv = |a: &str, l: &str| t.get(&[(ARCH, a), (DEPTH, l), (WIDTH, &m_lo)], CV_DIAG);
    let (fc_lo, fc_hi, res_lo, res_hi) = (cv(FC, &l_lo)?, cv(FC, &l_hi)?, cv(RESNET, &l_lo)?, cv(RESNET, &l_hi)?);
    // The training-free width at the largest depth (smallest m from which on CV <= 0.1).
    let w = Table::load(r, &format!("ntk-fluctuation-{MIN_WIDTH}"), &[MIN_WIDTH_COLUMN])?;
    let (ca, cd, cs, cw) = (w.col(ARCH)?, w.col(DEPTH)?, w.col(STATISTIC)?, w.col(MIN_WIDTH_COLUMN)?);
    let width_at = |a: &str| -> String {
        w.rows()
            .iter()
            .find(|row| row[ca] == a && row[cd] == l_hi && row[cs] == CV_DIAG)
            .map(|row| if row[cw].is_empty() { "none in the grid".to_string() } else { row[cw].clone() })
            .unwrap_or_else(|| "n/a".into())
    };
    // The depth exponent p of the width at which CV falls to any threshold (CV^2 = A L^b m^g,
    // p = -b/g), with its interval over data draws: the verdict, by the headline's rule.
    let e = Table::load(r, "ntk-fluctuation-depth-exponent", &FLUCTUATION_NUMBERS)?;
    let (p_fc, p_res) = (exponent(&e, FC, POWER)?, exponent(&e, RESNET, POWER)?);
    let seeds = e.get_col(&[(ARCH, FC), (LAW, POWER)], SEEDS)?;
    let v = Verdict::bare(headline_verdict(&[p_res], &[p_fc]));
    Ok(Claim::new(
        "NTK fluctuations at init (beyond the paper, Hanin-Nica)",
        "ntk-fluctuation",
        &format!(
            "FC's relative fluctuation of K(x, x) over initializations grows with L/m, the ResNet's (theta = 1/L) not with L: the width at which it falls to a threshold grows like L^p, and {PREDICTION}"
        ),
        format!(
            "p = -b/g from CV^2 = A L^b m^g over the grid, 95% t interval over {seeds} data draws: FC {}, ResNet {}; coefficient of variation of K(x, x) at m = {m_lo}, L = {l_lo} to {l_hi}: FC {} to {}, ResNet {} to {}; smallest m with CV <= 0.1 at L = {l_hi}: FC {}, ResNet {}",
            exponent_text(p_fc),
            exponent_text(p_res),
            g(fc_lo),
            g(fc_hi),
            g(res_lo),
            g(res_hi),
            width_at(FC),
            width_at(RESNET)
        ),
        v,
    ))
}
