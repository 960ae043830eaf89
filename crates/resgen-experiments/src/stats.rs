//! Seed-level statistics for verdicts: bootstrap intervals of a mean and of a paired
//! difference, and the depth exponent of the width the theory needs, fitted across a whole
//! (L, m) grid with an interval from a bootstrap that resamples seeds.
//!
//! The depth exponent. A quantity `y` that shrinks with width and grows with depth (a kernel's
//! fluctuation at initialization, its motion under GD) is fitted as `y = A L^b m^g` by least
//! squares on `ln y = ln A + g ln m + b ln L`. The width at which `y` falls to a threshold `tau`
//! is then `m*(L) = (tau / (A L^b))^(1/g)`, a power of `L` with exponent `p = -b/g` whatever
//! `tau` is: no threshold enters the exponent. The log-law alternative replaces `ln L` by
//! `ln ln L` (so `m*(L)` is a power of `ln L`); both fits report their residual sum of squares.
//!
//! Intervals: every observation belongs to a cluster (its seed: the same initialization and
//! data draw across the grid), and the bootstrap resamples whole clusters with replacement and
//! refits, so correlation within a seed is kept. Percentile intervals at 95%, from a fixed-seed
//! generator so that tables are reproducible.

/// Bootstrap resamples behind every interval.
pub const BOOTSTRAP: usize = 2000;

/// A 95% percentile interval and the point estimate it belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Whether the interval lies strictly on one side of `value`.
    pub fn excludes(&self, value: f64) -> bool {
        self.lo > value || self.hi < value
    }
}

/// xorshift64*, seeded: enough for resampling indices, and the same on every machine.
pub struct Resampler(u64);

impl Resampler {
    pub fn new(seed: u64) -> Self {
        Resampler(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A uniform index below `k` (k > 0).
    pub fn index(&mut self, k: usize) -> usize {
        let s = &mut self.0;
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % k
    }
}

/// The `q`-quantile of sorted values (nearest rank on `(len - 1) q`).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
}

/// 95% percentile interval of finite bootstrap values around `estimate`; `None` when fewer than
/// half of the resamples gave a finite value.
fn percentile(estimate: f64, mut values: Vec<f64>, resamples: usize) -> Option<Interval> {
    values.retain(|v| v.is_finite());
    if values.len() * 2 < resamples || values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Interval { estimate, lo: quantile(&values, 0.025), hi: quantile(&values, 0.975) })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The mean of `values` with a bootstrap interval (resampling the values); `None` when empty.
pub fn mean_interval(values: &[f64], seed: u64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let mut r = Resampler::new(seed);
    let boots = (0..BOOTSTRAP)
        .map(|_| (0..values.len()).map(|_| values[r.index(values.len())]).sum::<f64>() / values.len() as f64);
    percentile(mean(values), boots.collect(), BOOTSTRAP)
}

/// A paired comparison over seeds: the mean of `a - b`, its bootstrap interval, and how many
/// seeds agree with the sign of the mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paired {
    pub diff: Interval,
    pub agree: usize,
    pub seeds: usize,
}

/// `a[i]` and `b[i]` come from the same seed; pairs with a non-finite member are left out (the
/// caller counts them as failed cells).
pub fn paired(a: &[f64], b: &[f64], seed: u64) -> Option<Paired> {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).filter(|v| v.is_finite()).collect();
    let diff = mean_interval(&d, seed)?;
    let agree = d.iter().filter(|v| v.signum() == diff.estimate.signum() && **v != 0.0).count();
    Some(Paired { diff, agree, seeds: d.len() })
}

/// The least-squares slope of `ln y` on `ln x` over points `(cluster, x, y)` (those with
/// positive, finite `x` and `y`), with a 95% interval from a bootstrap that resamples clusters
/// (seeds) whole: the exponent of a power law `y ~ x^s`. `None` with fewer than two clusters or
/// a single `x`.
pub fn log_slope(points: &[(u64, f64, f64)], seed: u64) -> Option<Interval> {
    let obs: Vec<Obs> = points
        .iter()
        .filter(|(_, x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .map(|&(cluster, x, y)| Obs { cluster, depth: 1.0, width: x, y })
        .collect();
    let refs: Vec<&Obs> = obs.iter().collect();
    let groups = by_cluster(&refs);
    if groups.len() < 2 {
        return None;
    }
    let slope = |sample: &[&Obs]| {
        let (x, y): (Vec<f64>, Vec<f64>) = sample.iter().map(|o| (o.width.ln(), o.y.ln())).unzip();
        crate::fit::linear_fit(&x, &y).map(|(_, b)| b)
    };
    let estimate = slope(&refs)?;
    percentile(estimate, cluster_bootstrap(&groups, seed, slope), BOOTSTRAP)
}

/// Least squares `y = c0 + c1 x1 + c2 x2`: `[c0, c1, c2]`, or `None` when the design is
/// singular (fewer than three distinct points, or `x1` and `x2` collinear).
pub fn ols2(x1: &[f64], x2: &[f64], y: &[f64]) -> Option<[f64; 3]> {
    let n = y.len() as f64;
    if y.len() < 3 {
        return None;
    }
    let (m1, m2, my) = (mean(x1), mean(x2), mean(y));
    let (mut s11, mut s22, mut s12, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..y.len() {
        let (a, b, c) = (x1[i] - m1, x2[i] - m2, y[i] - my);
        s11 += a * a;
        s22 += b * b;
        s12 += a * b;
        s1y += a * c;
        s2y += b * c;
    }
    // A constant column (up to rounding of its mean) or two collinear ones: no unique fit.
    let scale = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>() / n;
    // (Written so that a NaN anywhere also gives None.)
    let varies = |sxx: f64, x: &[f64]| sxx > 1e-12 * n * scale(x);
    if !varies(s11, x1) || !varies(s22, x2) {
        return None;
    }
    let det = s11 * s22 - s12 * s12;
    let independent = det > 1e-10 * s11 * s22;
    if !independent {
        return None;
    }
    let c1 = (s1y * s22 - s2y * s12) / det;
    let c2 = (s2y * s11 - s1y * s12) / det;
    Some([my - c1 * m1 - c2 * m2, c1, c2])
}

/// One observation of a depth-exponent fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Obs {
    /// The cluster the bootstrap resamples (the seed).
    pub cluster: u64,
    pub depth: f64,
    pub width: f64,
    pub y: f64,
}

/// Which function of depth the fit uses: `ln L` (power law in L) or `ln ln L` (log law).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthLaw {
    Power,
    Log,
}

impl DepthLaw {
    fn x(self, depth: f64) -> f64 {
        match self {
            DepthLaw::Power => depth.ln(),
            DepthLaw::Log => depth.ln().ln(),
        }
    }
}

/// `ln y = ln A + g ln m + b f(L)` with its interval, and the exponent `p = -b/g` of the width
/// `m*(L)` in `L^p` (power law) or `(ln L)^p` (log law).
#[derive(Clone, Debug, PartialEq)]
pub struct DepthFit {
    pub law: DepthLaw,
    pub ln_a: f64,
    pub g: Interval,
    pub b: Interval,
    pub p: Interval,
    /// Residual sum of squares in `ln y`.
    pub rss: f64,
    pub points: usize,
    pub clusters: usize,
}

fn fit_once(obs: &[&Obs], law: DepthLaw) -> Option<([f64; 3], f64)> {
    let x1: Vec<f64> = obs.iter().map(|o| o.width.ln()).collect();
    let x2: Vec<f64> = obs.iter().map(|o| law.x(o.depth)).collect();
    let y: Vec<f64> = obs.iter().map(|o| o.y.ln()).collect();
    let c = ols2(&x1, &x2, &y)?;
    let rss = (0..y.len()).map(|i| (y[i] - c[0] - c[1] * x1[i] - c[2] * x2[i]).powi(2)).sum();
    Some((c, rss))
}

/// Fits `law` to the observations with a positive, finite `y` (and depth above 1 for the log
/// law); the bootstrap resamples clusters. `None` when the fit is singular or there are fewer
/// than two clusters (no interval).
pub fn depth_fit(obs: &[Obs], law: DepthLaw, seed: u64) -> Option<DepthFit> {
    let usable: Vec<&Obs> = obs
        .iter()
        .filter(|o| o.y.is_finite() && o.y > 0.0 && o.width > 0.0 && o.depth > 0.0)
        .filter(|o| law == DepthLaw::Power || o.depth > 1.0)
        .collect();
    let groups = by_cluster(&usable);
    if groups.len() < 2 {
        return None;
    }
    let (c, rss) = fit_once(&usable, law)?;
    let boots = cluster_bootstrap(&groups, seed, |sample| fit_once(sample, law).map(|(cb, _)| cb));
    let (gs, bs, ps) = (
        boots.iter().map(|cb| cb[1]).collect(),
        boots.iter().map(|cb| cb[2]).collect(),
        boots.iter().map(|cb| -cb[2] / cb[1]).collect(),
    );
    Some(DepthFit {
        law,
        ln_a: c[0],
        g: percentile(c[1], gs, BOOTSTRAP)?,
        b: percentile(c[2], bs, BOOTSTRAP)?,
        p: percentile(-c[2] / c[1], ps, BOOTSTRAP)?,
        rss,
        points: usable.len(),
        clusters: groups.len(),
    })
}

/// The observations grouped by cluster, in increasing cluster order.
fn by_cluster<'a>(obs: &[&'a Obs]) -> Vec<Vec<&'a Obs>> {
    let mut clusters: Vec<u64> = obs.iter().map(|o| o.cluster).collect();
    clusters.sort_unstable();
    clusters.dedup();
    clusters.iter().map(|k| obs.iter().copied().filter(|o| o.cluster == *k).collect()).collect()
}

/// [`BOOTSTRAP`] resamples of whole clusters with replacement (as many clusters as there are),
/// each passed to `stat`; the values it gives.
fn cluster_bootstrap<'a, T>(
    groups: &[Vec<&'a Obs>],
    seed: u64,
    mut stat: impl FnMut(&[&'a Obs]) -> Option<T>,
) -> Vec<T> {
    let mut r = Resampler::new(seed);
    (0..BOOTSTRAP)
        .filter_map(|_| {
            let sample: Vec<&Obs> =
                (0..groups.len()).flat_map(|_| groups[r.index(groups.len())].iter().copied()).collect();
            stat(&sample)
        })
        .collect()
}

impl DepthFit {
    /// The width at which the fitted `y` equals `tau` at depth `depth`: `(tau / (A f(L)^b))^(1/g)`.
    pub fn width_at(&self, tau: f64, depth: f64) -> f64 {
        let fx = self.law.x(depth);
        ((tau.ln() - self.ln_a - self.b.estimate * fx) / self.g.estimate).exp()
    }
}

/// `y = c x` through the origin by least squares (the named laws of the literature, e.g.
/// Hanin and Nica's `ln(1 + CV^2) = c L / m`): `c`, or `None` without a non-zero `x`.
pub fn through_origin(x: &[f64], y: &[f64]) -> Option<f64> {
    let sxx: f64 = x.iter().map(|v| v * v).sum();
    (sxx > 0.0).then(|| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / sxx)
}

/// The width at which `y(m)` falls to `tau`, interpolated linearly in `(ln m, ln y)` between
/// the two widths that bracket it; `points` are `(m, y)`, sorted by `m` here. `None` when `tau`
/// is not crossed inside the widths given (no extrapolation).
pub fn crossing_width(points: &[(f64, f64)], tau: f64) -> Option<f64> {
    let mut p: Vec<(f64, f64)> =
        points.iter().copied().filter(|(m, y)| *m > 0.0 && *y > 0.0 && y.is_finite()).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let Some(first) = p.first()
        && first.1 <= tau
    {
        return Some(first.0);
    }
    p.windows(2).find(|w| w[0].1 > tau && w[1].1 <= tau).map(|w| {
        let (x0, x1, y0, y1) = (w[0].0.ln(), w[1].0.ln(), w[0].1.ln(), w[1].1.ln());
        (x0 + (tau.ln() - y0) * (x1 - x0) / (y1 - y0)).exp()
    })
}

/// The headline verdict from the depth exponents' intervals, thresholds fixed before any
/// number is seen: the theory predicts `m*` logarithmic in `L` for the ResNet (exponent near 0)
/// and polynomial for FC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Confirmed,
    NotConfirmed,
    NotMeasurable,
}

/// ResNet's exponent counts as "no power of L" below this.
pub const RESNET_P_MAX: f64 = 0.25;
/// FC's exponent counts as "a power of L" above this.
pub const FC_P_MIN: f64 = 0.5;

/// Confirmed when every ResNet interval lies below [`RESNET_P_MAX`] and every FC interval
/// above [`FC_P_MIN`]; not confirmed when some interval lies on the wrong side (a ResNet
/// interval wholly above `FC_P_MIN`, or an FC one wholly below `RESNET_P_MAX`); otherwise,
/// or without any interval for a network, not measurable.
pub fn headline_verdict(resnet: &[Interval], fc: &[Interval]) -> Verdict {
    if resnet.is_empty() || fc.is_empty() {
        return Verdict::NotMeasurable;
    }
    if resnet.iter().any(|i| i.lo > FC_P_MIN) || fc.iter().any(|i| i.hi < RESNET_P_MAX) {
        return Verdict::NotConfirmed;
    }
    if resnet.iter().all(|i| i.hi < RESNET_P_MAX) && fc.iter().all(|i| i.lo > FC_P_MIN) {
        return Verdict::Confirmed;
    }
    Verdict::NotMeasurable
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
    i.map_or([String::new(), String::new(), String::new()], |i| {
        [crate::num::fmt(i.estimate), crate::num::fmt(i.lo), crate::num::fmt(i.hi)]
    })
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
        "rss", "points", "seeds",
    ];
    let mut rows = Vec::new();
    for net in nets {
        let region: Vec<Obs> = net.obs.iter().copied().filter(|o| o.depth >= 2.0).collect();
        for (law, name, formula) in
            [(DepthLaw::Power, "power", "CV^2 = A L^b m^g"), (DepthLaw::Log, "log", "CV^2 = A (ln L)^b m^g")]
        {
            let mut row = vec![net.arch.to_string(), name.to_string(), formula.to_string()];
            match depth_fit(&region, law, 11) {
                Some(f) => {
                    for i in [f.g, f.b, f.p] {
                        row.extend(cells(Some(i)));
                    }
                    row.extend(cells(None));
                    row.extend([crate::num::fmt(f.rss), f.points.to_string(), f.clusters.to_string()]);
                }
                None => row.extend(std::iter::repeat_n(String::new(), 15)),
            }
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
            let groups = by_cluster(&pts);
            let interval = fit(&pts)
                .filter(|_| groups.len() >= 2)
                .and_then(|c| percentile(c, cluster_bootstrap(&groups, 13, fit), BOOTSTRAP));
            let mut row = vec![net.arch.to_string(), name.to_string(), formula.to_string()];
            row.extend(std::iter::repeat_n(String::new(), 9));
            row.extend(cells(interval));
            row.extend([String::new(), pts.len().to_string(), groups.len().to_string()]);
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
    ];
    let mut rows = Vec::new();
    for (arch, cells_) in nets {
        let censored = cells_.iter().filter(|c| !c.reached).count();
        let bound = region.map_or(f64::INFINITY, |(_, b)| b);
        let inside: Vec<Obs> = cells_.iter().filter(|c| c.reached && c.obs.y <= bound).map(|c| c.obs).collect();
        let outside = cells_.len() - censored - inside.len();
        let region_text = region.map_or_else(|| "every measured cell".to_string(), |(q, b)| format!("{q} <= {b}"));
        // The power law in L, and the log law (a power of ln L) beside it; the verdict uses the
        // power law's p, the residual sums of squares compare the two.
        for (law, name) in [(DepthLaw::Power, "power"), (DepthLaw::Log, "log")] {
            let mut row = vec![arch.to_string(), name.to_string(), region_text.clone()];
            match depth_fit(&inside, law, 17) {
                Some(f) => {
                    for iv in [f.g, f.b, f.p] {
                        row.extend(cells(Some(iv)));
                    }
                    row.extend([crate::num::fmt(f.rss), f.points.to_string(), f.clusters.to_string()]);
                }
                // Too few points or seeds for a fit with an interval: no estimate, but the cells
                // it would have used are still counted.
                None => {
                    let seeds: std::collections::BTreeSet<u64> = inside.iter().map(|o| o.cluster).collect();
                    row.extend(std::iter::repeat_n(String::new(), 10));
                    row.extend([inside.len().to_string(), seeds.len().to_string()]);
                }
            }
            row.extend([cells_.len().to_string(), censored.to_string(), outside.to_string()]);
            rows.push(row);
        }
    }
    (header.iter().map(|s| s.to_string()).collect(), rows)
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
    fn exact_power_law_gives_its_exponent_with_a_zero_width_interval() {
        // y = 3 L m^-1/2: g = -1/2, b = 1, so m*(L) ~ L^(-b/g) = L^2 and p = 2 exactly.
        let obs = grid(|l, m, _| 3.0 * l / m.sqrt());
        let f = depth_fit(&obs, DepthLaw::Power, 1).unwrap();
        assert!((f.g.estimate + 0.5).abs() < 1e-12 && (f.b.estimate - 1.0).abs() < 1e-12, "{f:?}");
        assert!((f.p.estimate - 2.0).abs() < 1e-12 && (f.p.lo - 2.0).abs() < 1e-9 && (f.p.hi - 2.0).abs() < 1e-9);
        assert!((f.ln_a - 3f64.ln()).abs() < 1e-12 && f.rss < 1e-20);
        assert_eq!((f.points, f.clusters), (80, 4));
        // y = tau at m = (3 L / tau)^2: L = 4, tau = 0.3 gives m = 1600.
        assert!((f.width_at(0.3, 4.0) - 1600.0).abs() < 1e-6);
    }

    #[test]
    fn log_law_data_is_fitted_better_by_the_log_law() {
        // y = 2 ln(L) m^-1: m*(L) ~ (ln L)^1, so the log law has p = 1 and zero residual, and
        // the power law leaves a residual.
        let obs = grid(|l, m, _| 2.0 * l.ln() / m);
        let log = depth_fit(&obs, DepthLaw::Log, 1).unwrap();
        let pow = depth_fit(&obs, DepthLaw::Power, 1).unwrap();
        assert!((log.p.estimate - 1.0).abs() < 1e-12 && log.rss < 1e-20, "{log:?}");
        assert!(pow.rss > 1e-3, "{pow:?}");
    }

    #[test]
    fn seed_noise_gives_an_interval_around_the_truth() {
        // Each seed has its own depth slope 1 + e_s, with e_s summing to zero over the four
        // seeds: on this balanced grid the pooled fit has b = 1 and p = 2 exactly, and the
        // cluster bootstrap, which resamples seeds, gives an interval of positive width around it.
        let e = [0.1, -0.1, 0.05, -0.05];
        let obs = grid(|l, m, s| 3.0 * l.powf(1.0 + e[s as usize]) / m.sqrt());
        let f = depth_fit(&obs, DepthLaw::Power, 7).unwrap();
        assert!((f.p.estimate - 2.0).abs() < 1e-9, "{:?}", f.p);
        assert!(f.p.lo < 2.0 && 2.0 < f.p.hi, "{:?}", f.p);
        // Resampled slopes stay within the seeds' range 0.9 to 1.1: p within 1.8 to 2.2.
        assert!(f.p.lo >= 1.8 - 1e-9 && f.p.hi <= 2.2 + 1e-9, "{:?}", f.p);
    }

    #[test]
    fn fits_need_two_clusters_and_a_nonsingular_design() {
        let one_seed: Vec<Obs> = grid(|l, m, _| l / m).into_iter().filter(|o| o.cluster == 0).collect();
        assert!(depth_fit(&one_seed, DepthLaw::Power, 1).is_none());
        // One width only: g cannot be told from the intercept.
        let one_width: Vec<Obs> = grid(|l, m, _| l / m).into_iter().filter(|o| o.width == 64.0).collect();
        assert!(depth_fit(&one_width, DepthLaw::Power, 1).is_none());
        // Non-positive and non-finite values are left out, not fitted as logs.
        let mut obs = grid(|l, m, _| 3.0 * l / m.sqrt());
        obs[0].y = 0.0;
        obs[1].y = f64::NAN;
        let f = depth_fit(&obs, DepthLaw::Power, 1).unwrap();
        assert_eq!(f.points, 78);
        assert!((f.p.estimate - 2.0).abs() < 1e-12);
    }

    #[test]
    fn ols2_recovers_a_plane_and_rejects_collinear_columns() {
        // y = 1 + 2 x1 - 3 x2 on four points.
        let (x1, x2) = ([0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 1.0, 1.0]);
        let y: Vec<f64> = (0..4).map(|i| 1.0 + 2.0 * x1[i] - 3.0 * x2[i]).collect();
        let c = ols2(&x1, &x2, &y).unwrap();
        assert!((c[0] - 1.0).abs() < 1e-12 && (c[1] - 2.0).abs() < 1e-12 && (c[2] + 3.0).abs() < 1e-12);
        assert!(ols2(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0]).is_none());
    }

    #[test]
    fn paired_bootstrap_on_a_fixed_sample() {
        // Differences 1, 1, 1: every resample's mean is 1, so the interval is [1, 1] and all
        // three seeds agree in sign.
        let p = paired(&[2.0, 3.0, 4.0], &[1.0, 2.0, 3.0], 5).unwrap();
        assert_eq!(p.diff, Interval { estimate: 1.0, lo: 1.0, hi: 1.0 });
        assert_eq!((p.agree, p.seeds), (3, 3));
        // Differences 0 and 2: a resample's mean is 0, 1 or 2 with probabilities 1/4, 1/2,
        // 1/4, so with 2000 resamples the 2.5% and 97.5% points are 0 and 2; the mean is 1 and
        // one seed of two is positive (the zero difference agrees with no sign).
        let p = paired(&[1.0, 3.0], &[1.0, 1.0], 5).unwrap();
        assert_eq!(p.diff, Interval { estimate: 1.0, lo: 0.0, hi: 2.0 });
        assert!(!p.diff.excludes(0.0) && p.diff.excludes(-0.5));
        assert_eq!((p.agree, p.seeds), (1, 2));
        // A failed cell (NaN) is left out of the pairs.
        let p = paired(&[2.0, f64::NAN], &[1.0, 1.0], 5).unwrap();
        assert_eq!(p.seeds, 1);
        assert!(paired(&[], &[], 5).is_none());
    }

    #[test]
    fn crossing_width_interpolates_in_log_log_and_never_extrapolates() {
        // y = 2 m^-1/2 at m = 64, 256 (0.25, 0.125): tau = 0.1768 = 2 / sqrt(128) crosses at 128.
        let pts = [(256.0, 0.125), (64.0, 0.25)];
        let m = crossing_width(&pts, 2.0 / 128f64.sqrt()).unwrap();
        assert!((m - 128.0).abs() < 1e-9, "{m}");
        assert_eq!(crossing_width(&pts, 0.3), Some(64.0));
        assert_eq!(crossing_width(&pts, 0.1), None);
    }

    #[test]
    fn named_law_through_the_origin() {
        // y = 0.7 x exactly.
        assert!((through_origin(&[1.0, 2.0, 4.0], &[0.7, 1.4, 2.8]).unwrap() - 0.7).abs() < 1e-15);
        assert!(through_origin(&[0.0], &[1.0]).is_none());
    }

    #[test]
    fn verdict_follows_the_intervals() {
        let iv = |lo, hi| Interval { estimate: (lo + hi) / 2.0, lo, hi };
        use Verdict::*;
        assert_eq!(headline_verdict(&[iv(-0.1, 0.2)], &[iv(0.8, 1.5), iv(0.6, 2.0)]), Confirmed);
        // A ResNet interval reaching past 0.25: not resolved.
        assert_eq!(headline_verdict(&[iv(-0.1, 0.3)], &[iv(0.8, 1.5)]), NotMeasurable);
        // A ResNet interval wholly above 0.5, or an FC one wholly below 0.25: contradicted.
        assert_eq!(headline_verdict(&[iv(0.6, 0.9)], &[iv(0.8, 1.5)]), NotConfirmed);
        assert_eq!(headline_verdict(&[iv(-0.1, 0.2)], &[iv(-0.3, 0.1)]), NotConfirmed);
        assert_eq!(headline_verdict(&[], &[iv(0.8, 1.5)]), NotMeasurable);
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
        assert_eq!(rows.len(), 8);
    }

    #[test]
    fn log_slope_recovers_an_exact_power_and_resamples_seeds() {
        // y = 5 x^-1/2 for three seeds: every resample has the same slope, -0.5, so the
        // interval has zero width.
        let pts: Vec<(u64, f64, f64)> =
            (0..3).flat_map(|s| [16.0, 64.0, 256.0].map(|x: f64| (s, x, 5.0 * x.powf(-0.5)))).collect();
        let i = log_slope(&pts, 1).unwrap();
        assert!((i.estimate + 0.5).abs() < 1e-12 && (i.lo + 0.5).abs() < 1e-12 && (i.hi + 0.5).abs() < 1e-12);
        // Seeds with slopes -1 and 0 (y = 1/x and y = 1 at x = 1, 4): the pooled slope is -0.5;
        // a resample of seed 0 twice gives -1, of seed 1 twice 0, so the interval is [-1, 0].
        let two = [(0, 1.0, 1.0), (0, 4.0, 0.25), (1, 1.0, 1.0), (1, 4.0, 1.0)];
        let i = log_slope(&two, 1).unwrap();
        assert!((i.estimate + 0.5).abs() < 1e-12, "{i:?}");
        assert_eq!((i.lo, i.hi), (-1.0, 0.0));
        // One seed: no interval.
        assert!(log_slope(&two[..2], 1).is_none());
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
}
