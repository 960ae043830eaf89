//! width-depth: the headline, as depth exponents. The experiment measures with kernel-motion's
//! kind (`kinds/kernel_motion.rs`); its verdict reads three measurements at once, the trained
//! depth exponent (width-depth), the one of the first GD steps (kernel-velocity) and the one at
//! initialization (ntk-fluctuation), so it has a module of its own.

use std::path::Path;

use resgen_stats::Interval;

use super::ExperimentKind;
use super::kernel_motion::{HIDDEN_SHARE, KernelMotion};
use super::kernel_velocity::KernelVelocity;
use crate::ExperimentError;
use crate::fits::{
    CELLS, CENSORED, DEPTH_EXPONENT_NUMBERS, DEPTHS, FLUCTUATION_NUMBERS, LAW, OUTSIDE_REGION, P, P_HI, P_LO, P_LOG,
    POINTS, POWER, POWER_DEEP, POWER_SHALLOW,
};
use crate::results::Table;
use crate::spec::grid::{ARCH, DEPTH, FC, LEARNED_SCALE, RESNET, WIDTH};
use crate::verdict::{Claim, Outcome, Verdict, g, iv};

/// A network's depth exponent from one estimator: `p` with its interval, and `p_log`, the
/// exponent a width growing exactly like `ln L` has over the same cells' depths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponent {
    pub p: Interval,
    pub p_log: f64,
}

/// The headline's rule (set with the exploratory tables in view, fixed before the confirm run):
/// the theory predicts a width logarithmic in `L` for the ResNet and polynomial for FC, so the
/// line between them is `p_log`.
/// Confirmed when every ResNet interval lies below its `p_log` (no faster than log L) and every
/// FC interval above its own (faster than log L); not confirmed when some interval lies wholly
/// on the wrong side (a ResNet interval above `p_log`, an FC one below); otherwise, or without
/// an exponent for a network, not measurable at this scale.
pub fn headline_verdict(resnet: &[Exponent], fc: &[Exponent]) -> Outcome {
    if resnet.is_empty() || fc.is_empty() {
        return Outcome::NotMeasurable;
    }
    if resnet.iter().any(|e| e.p.lo > e.p_log) || fc.iter().any(|e| e.p.hi < e.p_log) {
        return Outcome::NotConfirmed;
    }
    if resnet.iter().all(|e| e.p.hi < e.p_log) && fc.iter().all(|e| e.p.lo > e.p_log) {
        return Outcome::Confirmed;
    }
    Outcome::NotMeasurable
}

/// The prediction the headline rows state.
pub const PREDICTION: &str = "grows no faster than log L for the ResNet (p's interval below p_log, the exponent a width growing exactly like ln L has as a power law over the same depths) and faster than log L for FC (p's interval above p_log)";

/// The depth exponent of `arch` in a depth-exponent table, fitted by `law` (the power law, or
/// the power law over one half of the depths), with its `p_log`.
pub fn exponent(t: &Table, arch: &str, law: &str) -> Result<Exponent, ExperimentError> {
    let k = [(ARCH, arch), (LAW, law)];
    let p = Interval { estimate: t.get_col(&k, P)?, lo: t.get_col(&k, P_LO)?, hi: t.get_col(&k, P_HI)? };
    Ok(Exponent { p, p_log: t.get_col(&k, P_LOG)? })
}

/// An exponent in words: `0.120 [0.0500, 0.200] (p_log 0.564)`.
pub fn exponent_text(e: Exponent) -> String {
    format!("{} (p_log {})", iv(e.p), g(e.p_log))
}

/// One power law or two: `p` over the shallow and the deep half of the depths, per network.
fn halves_text(t: &Table) -> Result<String, ExperimentError> {
    let mut parts = Vec::new();
    for (arch, name) in [(RESNET, "ResNet"), (FC, "FC")] {
        let depths = |law: &str| t.text(&[(ARCH, arch), (LAW, law)], DEPTHS);
        let (s, d) = (exponent(t, arch, POWER_SHALLOW)?, exponent(t, arch, POWER_DEEP)?);
        parts.push(format!("{name} {} at {}, {} at {}", iv(s.p), depths(POWER_SHALLOW)?, iv(d.p), depths(POWER_DEEP)?));
    }
    Ok(parts.join("; "))
}

/// One trained estimator's depth exponents (a kernel-motion sweep: width-depth, its frozen-layer
/// control, and their MNIST counterparts): both networks' `p`, the grid, and the counts.
struct Trained {
    res: Exponent,
    fc: Exponent,
    text: String,
}

/// Reads `<name>-depth-exponent.csv` and `<name>.csv` into the headline's words.
fn trained(r: &Path, name: &str, what: &str) -> Result<Trained, ExperimentError> {
    let e = Table::load(r, &format!("{name}-depth-exponent"), &DEPTH_EXPONENT_NUMBERS)?;
    let t = Table::main(r, name, &KernelMotion::columns())?;
    let (w_lo, w_hi, l_lo, l_hi) = (t.min_num(WIDTH)?, t.max_num(WIDTH)?, t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let (res, fc) = (exponent(&e, RESNET, POWER)?, exponent(&e, FC, POWER)?);
    let count = |arch: &str, c: &str| e.get_col(&[(ARCH, arch), (LAW, POWER)], c).map(|v| format!("{v:.0}"));
    let text = format!(
        "{what} (m = {w_lo} to {w_hi}, L = {l_lo} to {l_hi}): ResNet {} from {} of {} cells, FC {} from {} of {} cells (outside the region: ResNet {}, FC {}; censored, not reached or diverged: ResNet {}, FC {}; over each half of the depths: {})",
        exponent_text(res),
        count(RESNET, POINTS)?,
        count(RESNET, CELLS)?,
        exponent_text(fc),
        count(FC, POINTS)?,
        count(FC, CELLS)?,
        count(RESNET, OUTSIDE_REGION)?,
        count(FC, OUTSIDE_REGION)?,
        count(RESNET, CENSORED)?,
        count(FC, CENSORED)?,
        halves_text(&e)?
    );
    Ok(Trained { res, fc, text })
}

/// The hidden layers' share of `tr K` at `W0` at the deepest and shallowest depth, widest width,
/// per network (mean over seeds), from a kernel-motion table.
fn hidden_share_text(r: &Path, name: &str) -> Result<String, ExperimentError> {
    let t = Table::load(r, name, &[&format!("{HIDDEN_SHARE}_mean")])?;
    let (w, l_lo, l_hi) = (t.max_num(WIDTH)?, t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let at = |a: &str, l: &str| t.get_col(&[(ARCH, a), (DEPTH, l), (WIDTH, &w)], &format!("{HIDDEN_SHARE}_mean"));
    Ok(format!(
        "W_2..W_L carry {} (L = {l_lo}) to {} (L = {l_hi}) of the ResNet's tr K at W0 and m = {w}, {} to {} of FC's",
        pct(at(RESNET, &l_lo)?),
        pct(at(RESNET, &l_hi)?),
        pct(at(FC, &l_lo)?),
        pct(at(FC, &l_hi)?)
    ))
}

/// The width at which the kernel change falls to `tau`, per depth, from a lazy-width table
/// (`<name>-lazy-width.csv`): the geometric mean over seeds where every seed's lies inside the
/// widths tried, else how many seeds lie inside, above the widest (censored there) and below
/// the narrowest.
fn lazy_widths_text(r: &Path, name: &str, arch: &str, tau: &str) -> Result<String, ExperimentError> {
    use super::kernel_motion::LAZY_WIDTH;
    let t = Table::load(r, &format!("{name}-{LAZY_WIDTH}"), &[])?;
    let mut parts = Vec::new();
    for depth in t.sorted_nums(DEPTH)? {
        let k = [(ARCH, arch), (DEPTH, depth.as_str()), ("tau", tau)];
        let n = |c: &str| t.text(&k, c);
        let (inside, below, above) = (n("seeds_inside")?, n("seeds_below")?, n("seeds_above")?);
        let total: usize = [&inside, &below, &above].iter().map(|s| s.parse::<usize>().unwrap_or(0)).sum();
        let lazy = n("lazy_width")?;
        parts.push(if !lazy.is_empty() {
            format!("L = {depth} {} ({inside} of {total} seeds)", g(lazy.parse().unwrap_or(f64::NAN)))
        } else {
            let mut w = vec![format!("L = {depth}: {inside} of {total} seeds inside")];
            if above != "0" {
                w.push(format!("{above} above m = {} (censored there)", n("above_widest")?));
            }
            if below != "0" {
                w.push(format!("{below} at or below m = {}", n("below_narrowest")?));
            }
            w.join(", ")
        });
    }
    Ok(parts.join("; "))
}

/// A lazy-width fit (`<name>-lazy-width-fit.csv`) in words: `p` with its interval and
/// `p_log`, and how many seeds' widths were exact or censored at either end.
fn tobit_text(r: &Path, name: &str, arch: &str, tau: &str) -> Result<String, ExperimentError> {
    use super::kernel_motion::LAZY_WIDTH_FIT;
    let t = Table::load(r, &format!("{name}-{LAZY_WIDTH_FIT}"), &["exact", "above_widest", "at_most_narrowest"])?;
    let k = [(ARCH, arch), ("tau", tau)];
    let n = |c: &str| t.get_col(&k, c).map(|v| format!("{v:.0}"));
    let p = t.text(&k, P)?;
    let fit = if p.is_empty() {
        "no fit".to_string()
    } else {
        exponent_text(Exponent {
            p: Interval { estimate: t.get_col(&k, P)?, lo: t.get_col(&k, P_LO)?, hi: t.get_col(&k, P_HI)? },
            p_log: t.get_col(&k, P_LOG)?,
        })
    };
    Ok(format!(
        "{fit} ({} exact, {} above the widest, {} at most the narrowest)",
        n("exact")?,
        n("above_widest")?,
        n("at_most_narrowest")?
    ))
}

fn pct(x: f64) -> String {
    format!("{}%", g(100.0 * x))
}

/// What the frozen-layer control says beside the main measurement, in words.
fn control_words(main: Outcome, control: Outcome) -> &'static str {
    match (main, control) {
        (a, b) if a == b => "the control agrees with the main measurement",
        (Outcome::Confirmed, _) => {
            "the control does not agree: with the input and output layers frozen the prediction does not show, so the main measurement's result rests on the layers whose size does not change with depth"
        }
        (_, Outcome::Confirmed) => {
            "the control does not agree: the hidden layers alone show the prediction, which the main measurement, with the input and output layers in the kernel, does not"
        }
        _ => "neither the control nor the main measurement decides the prediction",
    }
}

/// The headline as depth exponents: the width at which the NTK stays put grows like `L^p`, from
/// trained networks (width-depth: the kernel change at the target loss) on the sphere teacher
/// and on MNIST, each beside its frozen-layer control (W_1 and W_{L+1} not trained, the kernel
/// the hidden layers' alone), at the start of GD (kernel-velocity: the kernel's change per
/// unit of output change) and without training (ntk-fluctuation: the kernel's fluctuation at
/// initialization). The verdict follows every measurement's intervals against their `p_log`
/// by [`headline_verdict`]. The rule's one number, `lazy_region_max`, is the kernel change up
/// to which the trained fits read a cell; the fits use [`crate::fits::LAZY_REGION`], and a file
/// that states another value is an error rather than a silent mismatch.
pub fn claim(r: &Path, rule: &crate::spec::Rule) -> Result<Claim, ExperimentError> {
    check_region(rule)?;
    let main = trained(
        r,
        "width-depth",
        "trained on the sphere teacher (kernel change at the target loss, fitted where it is <= 1)",
    )?;
    let control = trained(
        r,
        "width-depth-frozen",
        "its control, W_1 and W_{L+1} frozen and the kernel the hidden layers' alone",
    )?;
    let mnist = trained(r, "width-depth-mnist", "trained on MNIST")?;
    let mnist_control = trained(r, "width-depth-mnist-frozen", "its control")?;
    let free = Table::load(r, "ntk-fluctuation-depth-exponent", &FLUCTUATION_NUMBERS)?;
    let velocity = Table::load(r, "kernel-velocity-depth-exponent", &DEPTH_EXPONENT_NUMBERS)?;
    let tv = Table::main(r, "kernel-velocity", &KernelVelocity::columns())?;
    let (vw_lo, vw_hi, vl_lo, vl_hi) = (tv.min_num(WIDTH)?, tv.max_num(WIDTH)?, tv.min_num(DEPTH)?, tv.max_num(DEPTH)?);
    let (ve_res, ve_fc) = (exponent(&velocity, RESNET, POWER)?, exponent(&velocity, FC, POWER)?);
    let vcount = |arch: &str, c: &str| velocity.get_col(&[(ARCH, arch), (LAW, POWER)], c).map(|v| format!("{v:.0}"));
    let (fr_res, fr_fc) = (exponent(&free, RESNET, POWER)?, exponent(&free, FC, POWER)?);
    let pair = |t: &Trained| headline_verdict(&[t.res], &[t.fc]);
    let v = Verdict::bare(headline_verdict(
        &[main.res, control.res, mnist.res, mnist_control.res, ve_res, fr_res],
        &[main.fc, control.fc, mnist.fc, mnist_control.fc, ve_fc, fr_fc],
    ));
    Ok(Claim::new(
        "width needed grows like log L (ResNet) vs polynomially (FC), as a depth exponent",
        "width-depth",
        &format!(
            "the width at which GD stays in the kernel regime grows like L^p, and {PREDICTION}, in every measurement"
        ),
        format!(
            "p with 95% t interval over seeds; {}; {}: {}. {}; {}: {}. Hidden layers' share: {}. FC's lazy width measured past the grid (width-depth-wide, m = 32 to 2048; geometric mean over seeds), tau = 1: {}; the lazy width's growth in L with every seed's width in the likelihood, censored ones as censored (Tobit, jackknife t over seeds; reported, not part of the rule): FC (width-depth-wide) tau = 1 {}, tau = 0.5 {}; ResNet (width-depth) tau = 0.2 {}, tau = 0.5 {}. At the start of GD (kernel-velocity, the kernel's change per unit of output change after the first steps, m = {vw_lo} to {vw_hi}, L = {vl_lo} to {vl_hi}): ResNet {} from {} of {} cells, FC {} from {} of {} cells (censored, the kernel dead at W0 or the steps diverged: ResNet {}, FC {}; over each half: {}); at initialization (ntk-fluctuation): ResNet {}, FC {} (over each half: {}). GD reaches the target at far smaller widths than these (min-width): what is measured is the width at which it stays in the kernel regime",
            main.text,
            control.text,
            control_words(pair(&main), pair(&control)),
            mnist.text,
            mnist_control.text,
            control_words(pair(&mnist), pair(&mnist_control)),
            hidden_share_text(r, "width-depth")?,
            lazy_widths_text(r, "width-depth-wide", FC, "1")?,
            tobit_text(r, "width-depth-wide", FC, "1")?,
            tobit_text(r, "width-depth-wide", FC, "0.5")?,
            tobit_text(r, "width-depth", RESNET, "0.2")?,
            tobit_text(r, "width-depth", RESNET, "0.5")?,
            exponent_text(ve_res),
            vcount(RESNET, POINTS)?,
            vcount(RESNET, CELLS)?,
            exponent_text(ve_fc),
            vcount(FC, POINTS)?,
            vcount(FC, CELLS)?,
            vcount(RESNET, CENSORED)?,
            vcount(FC, CENSORED)?,
            halves_text(&velocity)?,
            exponent_text(fr_res),
            exponent_text(fr_fc),
            halves_text(&free)?
        ),
        v,
    ))
}

/// The rule's `lazy_region_max` must be the region the fits use.
fn check_region(rule: &crate::spec::Rule) -> Result<(), ExperimentError> {
    let region = rule.num("lazy_region_max")?;
    if region != crate::fits::LAZY_REGION {
        return Err(ExperimentError::Key {
            path: rule.path.clone(),
            key: "verdict.lazy_region_max".into(),
            message: format!("{region}, but the depth-exponent fits read cells up to {}", crate::fits::LAZY_REGION),
        });
    }
    Ok(())
}

/// The headline's rule for one network predicted to need a width no faster than log L:
/// confirmed when every interval lies below its `p_log`, not confirmed when one lies wholly
/// above it, otherwise (or without an exponent) not measurable.
pub fn below_log_verdict(es: &[Exponent]) -> Outcome {
    if es.is_empty() {
        return Outcome::NotMeasurable;
    }
    if es.iter().any(|e| e.p.lo > e.p_log) {
        return Outcome::NotConfirmed;
    }
    if es.iter().all(|e| e.p.hi < e.p_log) {
        return Outcome::Confirmed;
    }
    Outcome::NotMeasurable
}

/// Beyond the paper: the ResNet with a learned residual scale per block (`resnet-learned-scale`,
/// a general-path network) against the headline's ResNet side. Its trained depth exponent
/// (width-depth-learned-scale) and the one of its first GD steps (kernel-velocity-learned-scale),
/// each with the fixed-scale ResNet's on the same seeds beside it, decided by
/// [`below_log_verdict`] on the learned-scale network's exponents. `lazy_region_max` is the
/// headline's number.
pub fn learned_scale_claim(r: &Path, rule: &crate::spec::Rule) -> Result<Claim, ExperimentError> {
    check_region(rule)?;
    let name = "width-depth-learned-scale";
    let trained = Table::load(r, &format!("{name}-depth-exponent"), &DEPTH_EXPONENT_NUMBERS)?;
    let velocity = Table::load(r, "kernel-velocity-learned-scale-depth-exponent", &DEPTH_EXPONENT_NUMBERS)?;
    let t = Table::main(r, name, &KernelMotion::columns())?;
    let (w_lo, w_hi, l_lo, l_hi) = (t.min_num(WIDTH)?, t.max_num(WIDTH)?, t.min_num(DEPTH)?, t.max_num(DEPTH)?);
    let learned = [exponent(&trained, LEARNED_SCALE, POWER)?, exponent(&velocity, LEARNED_SCALE, POWER)?];
    let fixed = [exponent(&trained, RESNET, POWER)?, exponent(&velocity, RESNET, POWER)?];
    let count = |e: &Table, arch: &str, c: &str| e.get_col(&[(ARCH, arch), (LAW, POWER)], c).map(|v| format!("{v:.0}"));
    let words = |e: &Table, x: Exponent, arch: &str| -> Result<String, ExperimentError> {
        Ok(format!(
            "{} from {} of {} cells (outside the region {}, censored {})",
            exponent_text(x),
            count(e, arch, POINTS)?,
            count(e, arch, CELLS)?,
            count(e, arch, OUTSIDE_REGION)?,
            count(e, arch, CENSORED)?
        ))
    };
    Ok(Claim::new(
        "with a learned residual scale per block, the width needed still grows no faster than log L",
        name,
        "beyond the paper: a ResNet whose residual scale alpha_l is trained (alpha_l = 1/L at W0) needs a width that grows with depth no faster than log L, like the fixed-scale ResNet (p's interval below p_log in every measurement)",
        format!(
            "p with 95% t interval over seeds, m = {w_lo} to {w_hi}, L = {l_lo} to {l_hi}. Trained to the target loss (kernel change fitted where it is <= 1): learned scale {}; fixed scale, same seeds: {}. At the start of GD (kernel-velocity-learned-scale): learned scale {}; fixed scale {}. The learned-scale network trains by autodiff and its kernel includes the scales' blocks",
            words(&trained, learned[0], LEARNED_SCALE)?,
            words(&trained, fixed[0], RESNET)?,
            words(&velocity, learned[1], LEARNED_SCALE)?,
            words(&velocity, fixed[1], RESNET)?
        ),
        Verdict::bare(below_log_verdict(&learned)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_learned_scale_rule_is_the_headline_resnet_side() {
        let e = |lo: f64, hi: f64| Exponent { p: Interval { estimate: (lo + hi) / 2.0, lo, hi }, p_log: 0.56 };
        use Outcome::*;
        assert_eq!(below_log_verdict(&[e(-0.1, 0.2), e(0.1, 0.5)]), Confirmed);
        assert_eq!(below_log_verdict(&[e(-0.1, 0.2), e(0.3, 0.6)]), NotMeasurable);
        assert_eq!(below_log_verdict(&[e(-0.1, 0.2), e(0.6, 0.9)]), NotConfirmed);
        assert_eq!(below_log_verdict(&[]), NotMeasurable);
    }

    #[test]
    fn verdict_follows_the_intervals_against_p_log() {
        // p_log 0.56 (L = 2 to 32) unless said.
        let e = |lo: f64, hi: f64| Exponent { p: Interval { estimate: (lo + hi) / 2.0, lo, hi }, p_log: 0.56 };
        use Outcome::*;
        assert_eq!(headline_verdict(&[e(-0.1, 0.2)], &[e(0.8, 1.5), e(0.6, 2.0)]), Confirmed);
        // A ResNet interval reaching past p_log: not resolved, though it excludes 0.25.
        assert_eq!(headline_verdict(&[e(0.3, 0.6)], &[e(0.8, 1.5)]), NotMeasurable);
        // Pure log growth over L = 2 to 32 has p = 0.56: an FC interval around it is not
        // "faster than log L", whatever a fixed threshold of 0.5 would say.
        assert_eq!(headline_verdict(&[e(-0.1, 0.2)], &[e(0.51, 0.6)]), NotMeasurable);
        // A ResNet interval wholly above p_log, or an FC one wholly below: contradicted.
        assert_eq!(headline_verdict(&[e(0.6, 0.9)], &[e(0.8, 1.5)]), NotConfirmed);
        assert_eq!(headline_verdict(&[e(-0.1, 0.2)], &[e(-0.3, 0.5)]), NotConfirmed);
        assert_eq!(headline_verdict(&[], &[e(0.8, 1.5)]), NotMeasurable);
        // Each exponent against its own p_log: FC's over L = 2 to 8 only is 0.66.
        let fc_shallow = Exponent { p: Interval { estimate: 0.7, lo: 0.6, hi: 0.8 }, p_log: 0.66 };
        assert_eq!(headline_verdict(&[e(-0.1, 0.2)], &[fc_shallow]), NotMeasurable);
    }
}
