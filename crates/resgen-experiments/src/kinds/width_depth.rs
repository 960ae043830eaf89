//! width-depth: the headline, as depth exponents. The experiment measures with kernel-motion's
//! kind (`kinds/kernel_motion.rs`); its verdict reads three measurements at once, the trained
//! depth exponent (width-depth), the one of the first GD steps (kernel-velocity) and the one at
//! initialization (ntk-fluctuation), so it has a module of its own.

use std::path::Path;

use resgen_stats::Interval;

use super::ExperimentKind;
use super::kernel_motion::KernelMotion;
use super::kernel_velocity::KernelVelocity;
use crate::ExperimentError;
use crate::fits::{
    CELLS, CENSORED, DEPTH_EXPONENT_NUMBERS, FLUCTUATION_NUMBERS, LAW, OUTSIDE_REGION, P, P_HI, P_LO, POINTS, POWER,
};
use crate::results::Table;
use crate::spec::grid::{ARCH, DEPTH, FC, RESNET, WIDTH};
use crate::verdict::{Claim, Outcome, Verdict, iv};

/// ResNet's exponent counts as "no power of L" below this.
pub const RESNET_P_MAX: f64 = 0.25;
/// FC's exponent counts as "a power of L" above this.
pub const FC_P_MIN: f64 = 0.5;

/// Confirmed when every ResNet interval lies below [`RESNET_P_MAX`] and every FC interval
/// above [`FC_P_MIN`]; not confirmed when some interval lies on the wrong side (a ResNet
/// interval wholly above `FC_P_MIN`, or an FC one wholly below `RESNET_P_MAX`); otherwise,
/// or without any interval for a network, not measurable.
pub fn headline_verdict(resnet: &[Interval], fc: &[Interval]) -> Outcome {
    if resnet.is_empty() || fc.is_empty() {
        return Outcome::NotMeasurable;
    }
    if resnet.iter().any(|i| i.lo > FC_P_MIN) || fc.iter().any(|i| i.hi < RESNET_P_MAX) {
        return Outcome::NotConfirmed;
    }
    if resnet.iter().all(|i| i.hi < RESNET_P_MAX) && fc.iter().all(|i| i.lo > FC_P_MIN) {
        return Outcome::Confirmed;
    }
    Outcome::NotMeasurable
}

/// The 95% interval of the power-law depth exponent `p` of `arch` in a depth-exponent table.
pub fn exponent(t: &Table, arch: &str, law: Option<&str>) -> Result<Interval, ExperimentError> {
    let mut k = vec![(ARCH, arch)];
    k.extend(law.map(|l| (LAW, l)));
    Ok(Interval { estimate: t.get_col(&k, P)?, lo: t.get_col(&k, P_LO)?, hi: t.get_col(&k, P_HI)? })
}

/// The headline as depth exponents: the width at which the NTK stays put grows like `L^p`, from
/// trained networks (width-depth: the kernel change at the target loss), at the start of GD
/// (kernel-velocity: the kernel's change per unit of output change) and without training
/// (ntk-fluctuation: the kernel's fluctuation at initialization). The verdict follows the three
/// measurements' intervals by [`headline_verdict`]'s thresholds.
pub fn claim(r: &Path) -> Result<Claim, ExperimentError> {
    let trained = Table::load(r, "width-depth-depth-exponent", &DEPTH_EXPONENT_NUMBERS)?;
    let free = Table::load(r, "ntk-fluctuation-depth-exponent", &FLUCTUATION_NUMBERS)?;
    let velocity = Table::load(r, "kernel-velocity-depth-exponent", &DEPTH_EXPONENT_NUMBERS)?;
    let t = Table::main(r, "width-depth", &KernelMotion::columns())?;
    let (w_lo, w_hi, l_lo, l_hi) = (t.min_num(WIDTH)?, t.max_num(WIDTH)?, t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let tv = Table::main(r, "kernel-velocity", &KernelVelocity::columns())?;
    let (vw_lo, vw_hi, vl_lo, vl_hi) = (tv.min_num(WIDTH)?, tv.max_num(WIDTH)?, tv.min_num(DEPTH)?, tv.max_num(DEPTH)?);
    let (ve_res, ve_fc) = (exponent(&velocity, RESNET, Some(POWER))?, exponent(&velocity, FC, Some(POWER))?);
    let vcount = |arch: &str, c: &str| velocity.get_col(&[(ARCH, arch), (LAW, POWER)], c).map(|v| format!("{v:.0}"));
    let (tr_res, tr_fc) = (exponent(&trained, RESNET, Some(POWER))?, exponent(&trained, FC, Some(POWER))?);
    let (fr_res, fr_fc) = (exponent(&free, RESNET, Some(POWER))?, exponent(&free, FC, Some(POWER))?);
    let count = |arch: &str, c: &str| trained.get_col(&[(ARCH, arch), (LAW, POWER)], c).map(|v| format!("{v:.0}"));
    let v = Verdict::bare(headline_verdict(&[tr_res, ve_res, fr_res], &[tr_fc, ve_fc, fr_fc]));
    Ok(Claim::new(
        "width needed grows like log L (ResNet) vs polynomially (FC), as a depth exponent",
        "width-depth",
        &format!(
            "the width at which the NTK stays put grows like L^p: p < {} (ResNet), p > {} (FC), in every measurement",
            RESNET_P_MAX, FC_P_MIN
        ),
        format!(
            "p with 95% interval over seeds; trained (kernel change at training loss 0.1, m = {w_lo} to {w_hi}, L = {l_lo} to {l_hi}, fitted where it is <= 1): ResNet {} from {} of {} cells, FC {} from {} of {} cells (outside the region: ResNet {}, FC {}; censored: ResNet {}, FC {}); at the start of GD (kernel-velocity, the kernel's change per unit of output change after the first steps, m = {vw_lo} to {vw_hi}, L = {vl_lo} to {vl_hi}): ResNet {} from {} of {} cells, FC {} from {} of {} cells (censored, the kernel dead at W0 or the steps diverged: ResNet {}, FC {}); at initialization (ntk-fluctuation): ResNet {}, FC {}",
            iv(tr_res),
            count(RESNET, POINTS)?,
            count(RESNET, CELLS)?,
            iv(tr_fc),
            count(FC, POINTS)?,
            count(FC, CELLS)?,
            count(RESNET, OUTSIDE_REGION)?,
            count(FC, OUTSIDE_REGION)?,
            count(RESNET, CENSORED)?,
            count(FC, CENSORED)?,
            iv(ve_res),
            vcount(RESNET, POINTS)?,
            vcount(RESNET, CELLS)?,
            iv(ve_fc),
            vcount(FC, POINTS)?,
            vcount(FC, CELLS)?,
            vcount(RESNET, CENSORED)?,
            vcount(FC, CENSORED)?,
            iv(fr_res),
            iv(fr_fc)
        ),
        v,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_follows_the_intervals() {
        let iv = |lo, hi| Interval { estimate: (lo + hi) / 2.0, lo, hi };
        use Outcome::*;
        assert_eq!(headline_verdict(&[iv(-0.1, 0.2)], &[iv(0.8, 1.5), iv(0.6, 2.0)]), Confirmed);
        // A ResNet interval reaching past 0.25: not resolved.
        assert_eq!(headline_verdict(&[iv(-0.1, 0.3)], &[iv(0.8, 1.5)]), NotMeasurable);
        // A ResNet interval wholly above 0.5, or an FC one wholly below 0.25: contradicted.
        assert_eq!(headline_verdict(&[iv(0.6, 0.9)], &[iv(0.8, 1.5)]), NotConfirmed);
        assert_eq!(headline_verdict(&[iv(-0.1, 0.2)], &[iv(-0.3, 0.1)]), NotConfirmed);
        assert_eq!(headline_verdict(&[], &[iv(0.8, 1.5)]), NotMeasurable);
    }
}
