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
use resgen_models::{Net, Precision};

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

/// The kernel-motion kind.
pub struct KernelMotion;

impl ExperimentKind for KernelMotion {
    type Params = ViewParams;

    fn columns() -> Vec<String> {
        names(
            &[KERNEL_CHANGE, KERNEL_ALIGNMENT, TARGET_ALIGNMENT_INIT, TARGET_ALIGNMENT_FINAL, TRACE_RATIO, RADIUS],
            &PROGRESS,
        )
    }

    fn measure(cell: &Cell, p: &ViewParams, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let kdev = ctx.kernel_device()?;
        let (split, mut views) = train_views(cfg, p.matched()?, ctx.backend, false)?;
        let v = views.remove(0);
        let (n, d) = (split.train.n, split.train.d);
        let net0 = Net::init(&cfg.model, d, Precision::F64, kdev)?;
        let net_t = Net::from_host(&cfg.model, d, &v.weights, Precision::F64, kdev);
        let k0 = ntk::empirical_ntk(&net0, &split.train.x, n).normalized();
        let kt = ntk::empirical_ntk(&net_t, &split.train.x, n).normalized();
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
                .with_all(v.progress()),
        ])
    }

    fn work(cell: &Cell, p: &ViewParams) -> (u64, f64) {
        steps_work(&cell.config, p.max_iterations as u64)
    }

    fn derived(t: &Summary) -> Result<Vec<Derived>, ExperimentError> {
        let table = exponents_table(t.raw, KERNEL_CHANGE, "reached", Some(crate::stats::LAZY_REGION));
        Ok(vec![(DEPTH_EXPONENT, table)])
    }
}

/// The depth-exponent table's suffix: `results/<name>-depth-exponent.csv`.
pub const DEPTH_EXPONENT: &str = "depth-exponent";

/// A depth-exponent table (`<name>-depth-exponent.csv`): per network, the fit
/// `quantity = A L^b m^g` of [`crate::stats::exponents_in_region`] to every cell's value, the
/// seeds as the bootstrap's clusters. A cell whose `measured` column is not 1, or whose value
/// is missing (a failed measurement), is counted as censored; with `region = Some(bound)`, a
/// cell above `bound` is counted as outside the region.
pub(crate) fn exponents_table(
    raw: &[crate::record::RawRecord],
    quantity: &str,
    measured: &str,
    region: Option<f64>,
) -> String {
    use super::ntk_fluctuation::key_value;
    let val = |vals: &[(String, Option<f64>)], name: &str| vals.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
    let mut nets: Vec<(&str, Vec<crate::stats::Trained>)> = Vec::new();
    for (k, seed, vals) in raw {
        let Some(arch) = k.iter().find(|(n, _)| n == "arch").map(|(_, v)| v.as_str()) else { continue };
        let (Some(depth), Some(width)) = (key_value(k, "depth"), key_value(k, "width")) else { continue };
        let y = val(vals, quantity).unwrap_or(f64::NAN);
        let reached = val(vals, measured) == Some(1.0) && y.is_finite();
        let cell = crate::stats::Trained { obs: crate::stats::Obs { cluster: *seed, depth, width, y }, reached };
        match nets.iter_mut().find(|(a, _)| *a == arch) {
            Some((_, v)) => v.push(cell),
            None => nets.push((arch, vec![cell])),
        }
    }
    let (header, rows) = crate::stats::exponents_in_region(&nets, region.map(|b| (quantity, b)));
    resgen_train::output::csv_text(&header, &rows)
}
