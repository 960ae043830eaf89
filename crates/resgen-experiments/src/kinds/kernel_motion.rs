//! kernel-motion: how far the empirical NTK moves under GD to a matched training loss (beyond
//! the paper, lazy training).
//!
//! The empirical NTK (`K = NTK / m`, training points, f64) at `W0` and at the weights where the
//! training loss first reaches `params.target_loss` (at most `params.max_iterations` steps):
//! the relative change `||K_T - K_0||_F / ||K_0||_F`, the alignment of the two kernels
//! `<K_T, K_0>_F / (||K_T||_F ||K_0||_F)`, and each kernel's alignment with the labels
//! `y^T K y / (n ||K||_F)` (1 for `K = y y^T`), with the steps taken, the loss reached and the
//! radius `sqrt(m) max_l ||W_l - W0_l||_F`.

use crate::ExperimentError;
use resgen_bounds::ntk;
use resgen_models::{Model, Precision};

use super::shared::{PROGRESS, ViewParams, names, relative_change, steps_work, train_views};
use super::{Context, Derived, ExperimentKind, Summary};
use crate::record::Record;
use crate::spec::Cell;

/// `||K_T - K_0||_F / ||K_0||_F`.
pub const KERNEL_CHANGE: &str = "kernel_change";
/// `<K_T, K_0>_F / (||K_T||_F ||K_0||_F)`.
pub const KERNEL_ALIGNMENT: &str = "kernel_alignment";
/// `y^T K_0 y / (n ||K_0||_F)`.
pub const TARGET_ALIGNMENT_INIT: &str = "target_alignment_init";
/// `y^T K_T y / (n ||K_T||_F)`.
pub const TARGET_ALIGNMENT_FINAL: &str = "target_alignment_final";
/// `tr K_T / tr K_0`.
pub const TRACE_RATIO: &str = "trace_ratio";
/// `sqrt(m) max_l ||W_l - W0_l||_F`.
pub const RADIUS: &str = "radius";
/// The hidden layers' (`W_2..W_L`) share of `tr K` at `W0`, every layer's block counted.
pub const HIDDEN_SHARE: &str = "hidden_share";

/// The kernel-motion kind.
pub struct KernelMotion;

impl ExperimentKind for KernelMotion {
    type Params = ViewParams;

    const GENERAL_PATH: bool = true;

    fn columns() -> Vec<String> {
        names(&MEASURED, &[PROGRESS[0], PROGRESS[1], PROGRESS[2], DIVERGED])
    }

    fn measure(cell: &Cell, p: &ViewParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let kdev = ctx.kernel_device()?;
        // A run whose steps diverge is recorded, not failed: no kernel change, not reached, and
        // `diverged` = 1, so the depth-exponent fit counts it as censored.
        let (split, mut views) = match train_views(cfg, p.matched()?, ctx.backend, false) {
            Err(ExperimentError::Diverged(e)) => {
                let mut r = Record::new(&[]).with(HIDDEN_SHARE, f64::NAN);
                for c in MEASURED {
                    r = r.with(c, f64::NAN);
                }
                let [loss, steps, reached] = PROGRESS;
                return Ok(vec![
                    r.with(loss, f64::NAN).with(steps, e.iter as f64).with(reached, 0.0).with(DIVERGED, 1.0),
                ]);
            }
            other => other?,
        };
        let v = views.remove(0);
        let (n, d) = (split.train.n, split.train.d);
        let net0 = Model::init(&cfg.model, d, Precision::F64, kdev)?;
        let net_t = Model::from_host(&cfg.model, d, &v.weights, Precision::F64, kdev)?;
        let (e0, et) = (ntk::model_ntk(&net0, &split.train.x, n), ntk::model_ntk(&net_t, &split.train.x, n));
        // The hidden layers' share of tr K at W0 (W_2..W_L; every layer's block counted).
        let hidden: f64 = e0.per_layer[1..cfg.model.depth].iter().map(|k| k.trace()).sum();
        let hidden_share = hidden / e0.total.trace();
        let kernel = |e: &ntk::EmpiricalNtk| {
            if p.trained_kernel {
                let trained: Vec<resgen_bounds::Gram> = (0..e.per_layer.len())
                    .filter(|&l| net0.is_trained(l + 1))
                    .map(|l| e.per_layer[l].clone())
                    .collect();
                resgen_bounds::Gram::sum(&trained, n).scale(1.0 / e.width as f64)
            } else {
                e.normalized()
            }
        };
        let (k0, kt) = (kernel(&e0), kernel(&et));
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let fro = |a: &[f64]| dot(a, a).sqrt();
        let target_alignment = |k: &resgen_bounds::Gram| k.quad(&split.train.y) / (n as f64 * fro(&k.data));
        Ok(vec![
            Record::new(&[])
                .with(KERNEL_CHANGE, relative_change(&kt.data, &k0.data))
                .with(KERNEL_ALIGNMENT, dot(&kt.data, &k0.data) / (fro(&kt.data) * fro(&k0.data)))
                .with(TARGET_ALIGNMENT_INIT, target_alignment(&k0))
                .with(TARGET_ALIGNMENT_FINAL, target_alignment(&kt))
                .with(TRACE_RATIO, kt.trace() / k0.trace())
                .with(RADIUS, v.last.radius(cfg.model.width))
                .with(HIDDEN_SHARE, hidden_share)
                .with_all(v.progress())
                .with(DIVERGED, 0.0),
        ])
    }

    fn work(cell: &Cell, p: &ViewParams) -> (u64, f64) {
        steps_work(&cell.config, p.max_iterations as u64)
    }

    fn derived(t: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        let table = exponents_table(t.raw, KERNEL_CHANGE, super::shared::REACHED, Some(crate::fits::LAZY_REGION));
        Ok(vec![
            (DEPTH_EXPONENT, table),
            (LAZY_WIDTH, lazy_width_table(t.raw)),
            (LAZY_WIDTH_FIT, lazy_width_fit_table(t.raw)),
        ])
    }
}

/// The columns a cell measures on its trained network (none where GD diverged).
const MEASURED: [&str; 6] =
    [KERNEL_CHANGE, KERNEL_ALIGNMENT, TARGET_ALIGNMENT_INIT, TARGET_ALIGNMENT_FINAL, TRACE_RATIO, RADIUS];

/// 1 if GD's steps diverged before the target (the cell is censored: no kernel change).
pub const DIVERGED: &str = "diverged";

/// The depth-exponent table's suffix: `results/<name>-depth-exponent.csv`.
pub const DEPTH_EXPONENT: &str = "depth-exponent";

/// The lazy-width table's suffix: `results/<name>-lazy-width.csv`.
pub const LAZY_WIDTH: &str = "lazy-width";

/// The kernel-change thresholds of the lazy-width table.
pub const LAZY_TAUS: [f64; 3] = [0.2, 0.5, 1.0];

/// The cells of one network, grouped for the fits: each cell's observation and whether it
/// reached the target (`measured` = 1 with a finite value).
fn cells_by_arch<'a>(
    raw: &'a [crate::record::RawRecord],
    quantity: &str,
    measured: &str,
) -> Vec<(&'a str, Vec<crate::fits::Trained>)> {
    use super::ntk_fluctuation::key_value;
    let val = |vals: &[(String, Option<f64>)], name: &str| vals.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
    let mut nets: Vec<(&str, Vec<crate::fits::Trained>)> = Vec::new();
    for (k, seed, vals) in raw {
        let Some(arch) = k.iter().find(|(n, _)| n == crate::spec::grid::ARCH).map(|(_, v)| v.as_str()) else {
            continue;
        };
        let (Some(depth), Some(width)) =
            (key_value(k, crate::spec::grid::DEPTH), key_value(k, crate::spec::grid::WIDTH))
        else {
            continue;
        };
        let y = val(vals, quantity).unwrap_or(f64::NAN);
        let reached = val(vals, measured) == Some(1.0) && y.is_finite();
        let cell = crate::fits::Trained { obs: resgen_stats::Obs { cluster: *seed, depth, width, y }, reached };
        match nets.iter_mut().find(|(a, _)| *a == arch) {
            Some((_, v)) => v.push(cell),
            None => nets.push((arch, vec![cell])),
        }
    }
    nets
}

/// The lazy width per depth (`<name>-lazy-width.csv`), per network and threshold tau in
/// [`LAZY_TAUS`]: each seed's width at which the kernel change falls to tau (interpolated in
/// `(ln m, ln kc)` between the widths tried, over the cells that reached the target), and
/// whether it lies inside the widths tried (`seeds_inside`), below the narrowest
/// (`seeds_below`: already lazy there) or above the widest (`seeds_above`: censored). The
/// geometric mean `lazy_width` is given only where every seed's width lies inside;
/// `above_widest` (the widest width) and `below_narrowest` (the narrowest) mark where some seed's
/// lies outside; `fitted_width` is the width at which the depth-exponent
/// fit (`kc = A L^b m^g` over the lazy region) reaches tau.
pub(crate) fn lazy_width_table(raw: &[crate::record::RawRecord]) -> String {
    use crate::fits::LAZY_REGION;
    use crate::num::fmt;
    use resgen_stats::tobit::Response;
    use resgen_stats::{DepthLaw, pooled_fit};
    let header: Vec<String> = [
        "arch",
        "depth",
        "tau",
        "lazy_width",
        "seeds_inside",
        "seeds_below",
        "seeds_above",
        "above_widest",
        "below_narrowest",
        "fitted_width",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for (arch, cells) in cells_by_arch(raw, KERNEL_CHANGE, super::shared::REACHED) {
        let inside: Vec<resgen_stats::Obs> =
            cells.iter().filter(|c| c.reached && c.obs.y <= LAZY_REGION).map(|c| c.obs).collect();
        let fit = pooled_fit(&inside, DepthLaw::Power);
        let (depths, seeds) = depths_and_seeds(&cells);
        for &depth in &depths {
            for tau in LAZY_TAUS {
                let (mut found, mut below, mut above) = (Vec::new(), 0, 0);
                let (mut narrowest, mut widest) = (f64::INFINITY, 0.0f64);
                for &seed in &seeds {
                    match seed_crossing(&cells, depth, seed, tau) {
                        Some(Response::Exact(m)) => found.push(m),
                        Some(Response::AtMost(m)) => {
                            below += 1;
                            narrowest = narrowest.min(m);
                        }
                        Some(Response::Above(m)) => {
                            above += 1;
                            widest = widest.max(m);
                        }
                        None => {}
                    }
                }
                let all_inside = !found.is_empty() && below == 0 && above == 0;
                let geo = (found.iter().map(|m: &f64| m.ln()).sum::<f64>() / found.len().max(1) as f64).exp();
                rows.push(vec![
                    arch.to_string(),
                    crate::record::key_number(depth),
                    crate::record::key_number(tau),
                    if all_inside { fmt(geo) } else { String::new() },
                    found.len().to_string(),
                    below.to_string(),
                    above.to_string(),
                    if above > 0 { fmt(widest) } else { String::new() },
                    if below > 0 { fmt(narrowest) } else { String::new() },
                    fit.as_ref().map_or(String::new(), |f| fmt(f.width_at(tau, depth))),
                ]);
            }
        }
    }
    resgen_data::output::csv_text(&header, &rows)
}

/// The distinct depths and seeds of one network's cells, ascending.
fn depths_and_seeds(cells: &[crate::fits::Trained]) -> (Vec<f64>, Vec<u64>) {
    let mut depths: Vec<f64> = cells.iter().map(|c| c.obs.depth).collect();
    depths.sort_by(f64::total_cmp);
    depths.dedup();
    let mut seeds: Vec<u64> = cells.iter().map(|c| c.obs.cluster).collect();
    seeds.sort_unstable();
    seeds.dedup();
    (depths, seeds)
}

/// One seed's width at which the kernel change falls to `tau` at `depth`, from its cells that
/// reached the target: the crossing interpolated in `(ln m, ln kc)` between the bracketing
/// widths, or at most the narrowest width (already below `tau` there), or above the widest
/// (censored); `None` where the seed has no such cell at that depth.
fn seed_crossing(
    cells: &[crate::fits::Trained],
    depth: f64,
    seed: u64,
    tau: f64,
) -> Option<resgen_stats::tobit::Response> {
    use resgen_stats::tobit::Response;
    let mut pts: Vec<(f64, f64)> = cells
        .iter()
        .filter(|c| c.reached && c.obs.depth == depth && c.obs.cluster == seed)
        .map(|c| (c.obs.width, c.obs.y))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (*pts.first()?, *pts.last()?);
    Some(if first.1 <= tau {
        Response::AtMost(first.0)
    } else {
        match resgen_stats::crossing_width(&pts, tau) {
            Some(m) => Response::Exact(m),
            None => Response::Above(last.0),
        }
    })
}

/// The lazy-width fit's suffix: `results/<name>-lazy-width-fit.csv`.
pub const LAZY_WIDTH_FIT: &str = "lazy-width-fit";

/// The lazy width's growth in depth (`<name>-lazy-width-fit.csv`), per network and tau in
/// [`LAZY_TAUS`]: `ln m*(L, seed) = a + p ln L + e`, fitted by maximum likelihood with every
/// seed's width at every depth in it, the censored ones included as censored (above the widest
/// width tried, or at most the narrowest: [`resgen_stats::tobit`]), with a jackknife t interval
/// over seeds. `p_log` is the exponent a width growing exactly like ln L has over the same
/// depths. A tau at which a network's widths are all censored at one end, or come from too few
/// depths, has no fit; its counts remain.
pub(crate) fn lazy_width_fit_table(raw: &[crate::record::RawRecord]) -> String {
    use crate::num::fmt;
    use resgen_stats::tobit::{Censored, Response, tobit};
    let header: Vec<String> = [
        "arch",
        "tau",
        "p",
        "p_lo",
        "p_hi",
        "sigma",
        "exact",
        "above_widest",
        "at_most_narrowest",
        "seeds",
        "depths",
        "p_log",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for (arch, cells) in cells_by_arch(raw, KERNEL_CHANGE, super::shared::REACHED) {
        let (depths, seeds) = depths_and_seeds(&cells);
        for tau in LAZY_TAUS {
            let mut obs = Vec::new();
            for &depth in &depths {
                for &seed in &seeds {
                    if let Some(y) = seed_crossing(&cells, depth, seed, tau) {
                        obs.push(Censored { cluster: seed, x: depth.ln(), y: y.map(f64::ln) });
                    }
                }
            }
            let count = |f: fn(&Response) -> bool| obs.iter().filter(|o| f(&o.y)).count().to_string();
            let mut row = vec![arch.to_string(), crate::record::key_number(tau)];
            match tobit(&obs) {
                Some(f) => row.extend([fmt(f.b.estimate), fmt(f.b.lo), fmt(f.b.hi), fmt(f.sigma)]),
                None => row.extend(std::iter::repeat_n(String::new(), 4)),
            }
            row.extend([
                count(|r| matches!(r, Response::Exact(_))),
                count(|r| matches!(r, Response::Above(_))),
                count(|r| matches!(r, Response::AtMost(_))),
                seeds.len().to_string(),
                match (depths.first(), depths.last()) {
                    (Some(a), Some(z)) => format!("L = {a} to {z}"),
                    _ => String::new(),
                },
                crate::fits::p_log_of_depths(obs.iter().map(|o| o.x.exp())).map(fmt).unwrap_or_default(),
            ]);
            rows.push(row);
        }
    }
    resgen_data::output::csv_text(&header, &rows)
}

/// A depth-exponent table (`<name>-depth-exponent.csv`): per network, the fit
/// `quantity = A L^b m^g` of [`crate::fits::exponents_in_region`] to every cell's value, the
/// seeds as the bootstrap's clusters. A cell whose `measured` column is not 1, or whose value
/// is missing (a failed measurement), is counted as censored; with `region = Some(bound)`, a
/// cell above `bound` is counted as outside the region.
pub(crate) fn exponents_table(
    raw: &[crate::record::RawRecord],
    quantity: &str,
    measured: &str,
    region: Option<f64>,
) -> String {
    let nets = cells_by_arch(raw, quantity, measured);
    let (header, rows) = crate::fits::exponents_in_region(&nets, region.map(|b| (quantity, b)));
    resgen_data::output::csv_text(&header, &rows)
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let (exponent_max, ratio_min) = (rule.num("exponent_max")?, rule.num("ratio_min")?);
    let t = Table::main(r, "kernel-motion", &KernelMotion::columns())?;
    let c = Cells::load(r, "kernel-motion", &KernelMotion::columns())?;
    let widths = t.sorted_nums(WIDTH)?;
    let (w_lo, w_hi, l_hi) = (widths[0].clone(), widths[widths.len() - 1].clone(), t.max_num(DEPTH)?);
    let mut shrinks = true;
    let mut slopes = Vec::new();
    for arch in [RESNET, FC] {
        for depth in t.sorted_nums(DEPTH)? {
            let s = log_slope(&width_points(&c, &widths, &[(ARCH, arch), (DEPTH, depth.as_str())], KERNEL_CHANGE)?);
            shrinks &= s.is_some_and(|s| s.hi < exponent_max);
            slopes.push(format!("{arch} L = {depth} {}", slope_text(s)));
        }
    }
    let k = |a: &str, w: &str| t.get(&[(ARCH, a), (DEPTH, &l_hi), (WIDTH, w)], KERNEL_CHANGE);
    let ks = |a: &str| c.seeds(&[(ARCH, a), (DEPTH, &l_hi), (WIDTH, &w_hi)], KERNEL_CHANGE);
    let ratio = paired_ratio(&ks(FC)?, &ks(RESNET)?);
    Ok(Claim::new(
        "NTK motion under GD (beyond the paper, lazy training)",
        "kernel-motion",
        "||K_T - K_0||_F / ||K_0||_F at a matched training loss falls with width, and is smaller for the ResNet",
        format!(
            "at L = {l_hi}, m = {w_lo} to {w_hi}: ResNet {} to {}, FC {} to {}; FC over ResNet at m = {w_hi}: {}; exponent in m, 95% intervals over seeds: {} (rule: every exponent's interval below 0, the ratio's above 1 with every seed agreeing)",
            g(k(RESNET, &w_lo)?),
            g(k(RESNET, &w_hi)?),
            g(k(FC, &w_lo)?),
            g(k(FC, &w_hi)?),
            ratio_text(ratio),
            slopes.join(", ")
        ),
        Verdict::of(shrinks && above(ratio, ratio_min.ln())),
    ))
}
