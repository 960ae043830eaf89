//! What a claim's row is made of: its [`Verdict`], the rule helpers every experiment's verdict
//! uses (paired comparisons over seeds, with the thresholds' sides), and how numbers are
//! written in the summary. Each experiment's rule lives in its own module (`kinds/<kind>.rs`,
//! or `kinds/width_depth.rs` for the headline); [`crate::report`] only assembles the rows.

use std::fmt;

use resgen_stats::{Interval, Paired};

use crate::ExperimentError;
use crate::results::Cells;

/// The outcome of a claim's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every interval the rule names lies on the predicted side of its threshold.
    Confirmed,
    /// The rule's intervals do not all lie on the predicted side.
    NotConfirmed,
    /// The measurement cannot decide at this scale (an unresolved interval, a quantity
    /// censored at the grid's end, a minimizer at the grid's edge).
    NotMeasurable,
    /// A bound's values ordered as predicted, none of them below 1 (no bound at all).
    OrderingVacuous,
    /// The rule was not applied: its data were made under another rule, or are missing.
    NotDecided,
}

impl Outcome {
    /// `confirmed` when `ok`, else `not confirmed`.
    pub fn of(ok: bool) -> Outcome {
        if ok { Outcome::Confirmed } else { Outcome::NotConfirmed }
    }

    /// The words the summary prints.
    pub fn text(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::NotConfirmed => "not confirmed",
            Outcome::NotMeasurable => "not measurable at this scale",
            Outcome::OrderingVacuous => "ordering as predicted, every value vacuous",
            Outcome::NotDecided => "not decided",
        }
    }
}

/// One part of a split verdict: its outcome for what `scope` names, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub outcome: Outcome,
    /// What this part judges (`for the analytic complexity`).
    pub scope: String,
    /// What qualifies the outcome, printed in parentheses.
    pub why: Option<String>,
}

/// A claim's verdict: one outcome, or one per part of the claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// One outcome, with what qualifies it (printed in parentheses).
    One { outcome: Outcome, why: Option<String> },
    /// A verdict in parts, each judged on its own (printed joined by `; `).
    Split(Vec<Part>),
}

impl Verdict {
    /// `confirmed` when `ok`, else `not confirmed`, with nothing more to say.
    pub fn of(ok: bool) -> Verdict {
        Verdict::bare(Outcome::of(ok))
    }

    /// An outcome with nothing more to say.
    pub fn bare(outcome: Outcome) -> Verdict {
        Verdict::One { outcome, why: None }
    }

    /// An outcome with what qualifies it.
    pub fn why(outcome: Outcome, why: String) -> Verdict {
        Verdict::One { outcome, why: Some(why) }
    }

    /// The outcomes, one per part.
    pub fn outcomes(&self) -> Vec<Outcome> {
        match self {
            Verdict::One { outcome, .. } => vec![*outcome],
            Verdict::Split(parts) => parts.iter().map(|p| p.outcome).collect(),
        }
    }
}

fn write_why(f: &mut fmt::Formatter<'_>, why: &Option<String>) -> fmt::Result {
    match why {
        Some(w) => write!(f, " ({w})"),
        None => Ok(()),
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::One { outcome, why } => {
                f.write_str(outcome.text())?;
                write_why(f, why)
            }
            Verdict::Split(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{} {}", p.outcome.text(), p.scope)?;
                    write_why(f, &p.why)?;
                }
                Ok(())
            }
        }
    }
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
    /// The rule's outcome.
    pub verdict: Verdict,
}

impl Claim {
    /// A row from its parts.
    pub fn new(claim: &str, table: &str, prediction: &str, measured: String, verdict: Verdict) -> Claim {
        Claim { claim: claim.into(), table: table.into(), prediction: prediction.into(), measured, verdict }
    }
}

/// How the summary's intervals are made, as its header says: every interval a verdict uses is
/// a 95% Student t interval over per-seed statistics (a seed's value, a paired difference or
/// log-ratio within a seed, a seed's own fitted exponent), whose coverage at the seed counts
/// used is checked by simulation in `resgen-stats`.
pub const METHOD: &str = "95% Student t intervals over per-seed statistics";

/// The values of `a` and `b` at the seeds both have, in seed order.
pub fn align(a: &[(u64, f64)], b: &[(u64, f64)]) -> (Vec<f64>, Vec<f64>) {
    a.iter().filter_map(|(s, x)| b.iter().find(|(t, _)| t == s).map(|(_, y)| (*x, *y))).unzip()
}

/// `a` against `b` paired over seeds on a log scale: the mean of `ln a - ln b` with its t interval
/// (a ratio `exp` of it), and how many seeds agree in sign.
pub fn paired_ratio(a: &[(u64, f64)], b: &[(u64, f64)]) -> Option<Paired> {
    let (x, y) = align(a, b);
    let ln = |v: Vec<f64>| v.into_iter().map(f64::ln).collect::<Vec<_>>();
    resgen_stats::paired_t(&ln(x), &ln(y))
}

/// `a - b` paired over seeds.
pub fn paired_diff(a: &[(u64, f64)], b: &[(u64, f64)]) -> Option<Paired> {
    let (x, y) = align(a, b);
    resgen_stats::paired_t(&x, &y)
}

/// Whether a paired comparison puts its effect above `threshold` (0 for a difference, `ln r`
/// for a ratio of at least r): the interval's lower end above it, and every seed on the same
/// side of no effect.
pub fn above(p: Option<Paired>, threshold: f64) -> bool {
    p.is_some_and(|p| p.seeds >= 2 && p.diff.lo > threshold && p.agree == p.seeds)
}

/// Whether a paired comparison puts its effect below `threshold` (as [`above`]).
pub fn below(p: Option<Paired>, threshold: f64) -> bool {
    p.is_some_and(|p| p.seeds >= 2 && p.diff.hi < threshold && p.agree == p.seeds)
}

/// The mean over seeds of `values` (the finite ones) with its 95% t interval.
pub fn mean_interval(values: &[f64]) -> Option<Interval> {
    resgen_stats::t_interval(values)
}

/// The exponent of `y ~ x^s` over `(seed, x, y)` points: each seed's own, their mean with its
/// 95% t interval.
pub fn log_slope(points: &[(u64, f64, f64)]) -> Option<Interval> {
    resgen_stats::log_slope_t(points)
}

/// `(seed, width, value)` of every width of `keys`, for a growth exponent in m.
pub fn width_points(
    c: &Cells,
    widths: &[String],
    keys: &[(&str, &str)],
    v: &str,
) -> Result<Vec<(u64, f64, f64)>, ExperimentError> {
    let mut pts = Vec::new();
    for w in widths {
        let m: f64 = w.parse().map_err(|e| c.err(format!("width `{w}`: {e}")))?;
        let mut k = keys.to_vec();
        k.push((crate::spec::grid::WIDTH, w));
        pts.extend(c.seeds(&k, v)?.into_iter().map(|(s, y)| (s, m, y)));
    }
    Ok(pts)
}

/// A paired ratio in words: `3.20x [2.90, 3.60], 3 of 3 seeds`.
pub fn ratio_text(p: Option<Paired>) -> String {
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
pub fn diff_text(p: Option<Paired>) -> String {
    match p {
        Some(p) => format!("{}, {} of {} seeds", iv(p.diff), p.agree, p.seeds),
        None => "no interval (fewer than 2 seeds)".into(),
    }
}

/// A mean over seeds with its interval: `1.49 [1.40, 1.60]`.
pub fn mean_text(values: &[f64]) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    mean_interval(&v).map_or_else(|| "n/a".into(), iv)
}

/// An interval in words, or `n/a` without one.
pub fn slope_text(s: Option<Interval>) -> String {
    s.map_or_else(|| "n/a".into(), iv)
}

/// An estimate with its interval, `1.18 [0.990, 1.44]`.
pub fn iv(i: Interval) -> String {
    format!("{} [{}, {}]", g(i.estimate), g(i.lo), g(i.hi))
}

/// Three significant digits, scientific beyond 1e4.
pub fn g(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        return format!("{v:.2e}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
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
        // Both ratios are 4: ln 4 with a zero-width interval (sd 0), 2 of 2 seeds agree.
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

    #[test]
    fn verdicts_render_as_the_summary_prints_them() {
        assert_eq!(Verdict::of(true).to_string(), "confirmed");
        assert_eq!(Verdict::of(false).to_string(), "not confirmed");
        assert_eq!(
            Verdict::why(Outcome::NotMeasurable, "a minimizer at an end".into()).to_string(),
            "not measurable at this scale (a minimizer at an end)"
        );
        assert_eq!(
            Verdict::why(Outcome::OrderingVacuous, "> 1".into()).to_string(),
            "ordering as predicted, every value vacuous (> 1)"
        );
        let split = Verdict::Split(vec![
            Part { outcome: Outcome::Confirmed, scope: "for A".into(), why: None },
            Part { outcome: Outcome::NotMeasurable, scope: "for B".into(), why: Some("2 of 3 cells".into()) },
        ]);
        assert_eq!(split.to_string(), "confirmed for A; not measurable at this scale for B (2 of 3 cells)");
        assert_eq!(split.outcomes(), [Outcome::Confirmed, Outcome::NotMeasurable]);
    }

    #[test]
    fn numbers_in_three_significant_digits() {
        assert_eq!(g(1.23456), "1.23");
        assert_eq!(g(0.0123456), "0.0123");
        assert_eq!(g(123456.0), "1.23e5");
        assert_eq!(g(f64::NAN), "n/a");
    }
}
