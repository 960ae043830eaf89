//! ntk-complexity: spectrum, `sqrt(y^T K^-1 y / n)`, its infimum over relabelings and the
//! Cao-Gu corollary, for the empirical and (optionally) the analytic kernel (the NTK
//! complexity favours the ResNet).

use crate::ExperimentError;
use resgen_bounds::defaults::QP_MAX_SWEEPS;
use resgen_bounds::formulas::BoundConstants;
use resgen_bounds::{analytic, formulas, linalg, qp};

use super::params::{InvalidParam, Validate, params_with_bounds};
use super::shared::{init_kernels, names};
use super::{Context, ExperimentKind};
use crate::record::{Record, key};
use crate::spec::Cell;

/// Key: [`EMPIRICAL`] or `analytic`.
pub const KERNEL: &str = "kernel";
/// The empirical kernel's rows.
pub const EMPIRICAL: &str = "empirical";
/// Key: the bound constants, as [`BoundConstants::describe`] writes them.
pub const CONSTANTS: &str = "constants";
/// The smallest eigenvalue.
pub const LAMBDA_MIN: &str = "lambda_min";
/// The condition number.
pub const CONDITION: &str = "condition";
/// `sqrt(y^T K^-1 y / n)`.
pub const COMPLEXITY: &str = "complexity";
/// Its infimum over relabelings.
pub const COMPLEXITY_INF: &str = "complexity_inf";
/// The relabeling QP's duality gap.
pub const QP_DUALITY_GAP: &str = "qp_duality_gap";
/// The Cao-Gu corollary's bound.
pub const CAO_GU_NTK_BOUND: &str = "cao_gu_ntk_bound";
/// The same at the infimum.
pub const CAO_GU_NTK_INF_BOUND: &str = "cao_gu_ntk_inf_bound";
/// The ridge the Cholesky factorization needed.
pub const RIDGE: &str = "ridge";

params_with_bounds! {
    /// ntk-complexity's `[params]`: whether to add the analytic kernel, and the bound constants.
    pub struct Params {
        /// Also the analytic (infinite-width) kernel.
        analytic: bool = true,
    }
}

impl Validate for Params {
    fn validate(&self) -> Result<(), InvalidParam> {
        <BoundConstants as Validate>::validate(&self.bounds)
    }
}

/// The ntk-complexity kind.
pub struct NtkComplexity;

impl ExperimentKind for NtkComplexity {
    type Params = Params;

    fn columns() -> Vec<String> {
        names(
            &[
                LAMBDA_MIN,
                CONDITION,
                COMPLEXITY,
                COMPLEXITY_INF,
                QP_DUALITY_GAP,
                CAO_GU_NTK_BOUND,
                CAO_GU_NTK_INF_BOUND,
                RIDGE,
            ],
            &[],
        )
    }

    fn measure(cell: &Cell, p: &Params, ctx: &Context) -> Result<Vec<Record>, ExperimentError> {
        let cfg = &cell.config;
        let constants = p.bounds;
        let (split, k, _) = init_kernels(cfg, ctx)?;
        let (n, d) = (split.train.n, split.train.d);
        let mut kernels = vec![(EMPIRICAL, k.normalized())];
        if p.analytic {
            kernels.push(("analytic", analytic::ntk(&cfg.model, &split.train.x, n, d)?));
        }
        let cg_depth = formulas::cao_gu_depth(cfg.model.depth);
        kernels
            .into_iter()
            .map(|(name, kern)| {
                let s = linalg::kernel_stats(&kern, &split.train.y)?;
                let inf = qp::infimum_relabeling(&kern, &split.train.y, 1e-9, QP_MAX_SWEEPS)?;
                Ok(Record::new(&[key(KERNEL, name), key(CONSTANTS, constants.describe())])
                    .with(LAMBDA_MIN, s.lambda_min)
                    .with(CONDITION, s.condition)
                    .with(COMPLEXITY, s.complexity)
                    .with(COMPLEXITY_INF, inf.complexity())
                    .with(QP_DUALITY_GAP, inf.gap)
                    .with(CAO_GU_NTK_BOUND, formulas::cao_gu_ntk(s.complexity, cg_depth, n, &constants))
                    .with(CAO_GU_NTK_INF_BOUND, formulas::cao_gu_ntk(inf.complexity(), cg_depth, n, &constants))
                    .with(RIDGE, s.ridge))
            })
            .collect()
    }
}

// The verdict.

/// The claim's row of the summary: what the theory predicts, the numbers measured, and the
/// verdict by the rule written here (its numbers in the experiment file's `[verdict]` table,
/// sides in the text).
pub fn claim(r: &std::path::Path, rule: &crate::spec::Rule) -> Result<crate::verdict::Claim, ExperimentError> {
    use crate::results::{Cells, Table};
    use crate::spec::grid::*;
    use crate::verdict::*;
    let diff_min = rule.num("diff_min")?;
    let t = Table::main(r, "ntk-complexity", &NtkComplexity::columns())?;
    let c = Cells::load(r, "ntk-complexity", &NtkComplexity::columns())?;
    let (lo, hi) = (t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let mut parts = Vec::new();
    let mut res_lower = true;
    for ds in t.values(DATASET)? {
        let v = |a: &str, d: &str| t.get(&[(DATASET, &ds), (ARCH, a), (DEPTH, d), (KERNEL, EMPIRICAL)], COMPLEXITY_INF);
        let sv = |a: &str| c.seeds(&[(DATASET, &ds), (ARCH, a), (DEPTH, &hi), (KERNEL, EMPIRICAL)], COMPLEXITY_INF);
        let diff = paired_diff(&sv(FC)?, &sv(RESNET)?);
        res_lower &= above(diff, diff_min);
        parts.push(format!(
            "{ds}: ResNet {} to {}, FC {} to {}, FC minus ResNet at L = {hi} {}",
            g(v(RESNET, &lo)?),
            g(v(RESNET, &hi)?),
            g(v(FC, &lo)?),
            g(v(FC, &hi)?),
            diff_text(diff)
        ));
    }
    Ok(Claim::new(
        "NTK complexity favours the ResNet",
        "ntk-complexity",
        "inf sqrt(y~^T K^-1 y~ / n) (empirical K / m, no depth factor) smaller for the ResNet at depth",
        format!(
            "infimum complexity, L = {lo} to {hi}, 95% intervals over seeds (rule: FC minus ResNet above 0 at L = {hi}, every seed agreeing, on every data set): {}",
            parts.join("; ")
        ),
        Verdict::of(res_lower),
    ))
}
