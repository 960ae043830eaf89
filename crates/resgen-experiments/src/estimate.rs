//! An upper bound on a profile's training work, from its cells' configs alone (nothing runs):
//! the GD steps and their FLOPs, for planning a sweep and for ordering experiments cheapest
//! first where time is short (bench/gpu.sh on an offline GPU host).
//!
//! Counted: every full-batch GD step a cell may take, at `6 n (d m + (L - 1) m^2 + m)` FLOPs
//! each ([`step_gflop`](crate::kinds::step_gflop)), with the steps at their cap
//! (`train.iterations`, or `max_iterations` where the kind trains to a matched loss; every width
//! of min-width's doubling search, within `max_step_gflop`). Not counted: the kernels and bounds (f64, on the
//! CPU), evaluation passes and initialization; kinds that do not train count zero steps. So
//! this ranks the GPU-bound experiments by their training and says nothing of CPU-bound ones.

use crate::ExperimentError;
use crate::spec::{Cell, Experiment};

/// The training work of one profile of one experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    /// Cells in the profile.
    pub cells: usize,
    /// GD steps at most, summed over cells.
    pub steps: u64,
    /// Their FLOPs, in GFLOP.
    pub gflop: f64,
}

/// The most GD steps and their GFLOP for one cell: its kind's
/// [`ExperimentKind::work`](crate::kinds::ExperimentKind::work) with the cell's parameters.
pub fn cell_work(cell: &Cell) -> Result<(u64, f64), ExperimentError> {
    cell.kind.work(cell)
}

/// The training work of `profile` of `exp`.
pub fn profile_work(exp: &Experiment, profile: &str) -> Result<Work, ExperimentError> {
    let cells = exp.cells(profile)?;
    let mut w = Work { cells: cells.len(), ..Default::default() };
    for c in &cells {
        let (s, g) = cell_work(c)?;
        w.steps += s;
        w.gflop += g;
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(text: &str) -> (tempfile::TempDir, Experiment) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.toml");
        // Every experiment file has a plot; the estimate does not read it.
        std::fs::write(&path, format!("{text}\n[plot]\nx = \"depth\"\ny = [\"v\"]\n")).unwrap();
        let exp = Experiment::load(&path).unwrap();
        (dir, exp)
    }

    #[test]
    fn counts_steps_and_flops_by_hand() {
        // gd-dynamics on a sphere (d = 20), n = 100, m = 128, L in {2, 4}, 300 steps, 2 seeds.
        // One step costs 6 n (d m + (L - 1) m^2 + m):
        //   L = 2: 600 * (2560 + 16384 + 128)     = 11,443,200 FLOP
        //   L = 4: 600 * (2560 + 3 * 16384 + 128) = 31,104,000 FLOP
        // so 2 seeds * 300 steps * (11,443,200 + 31,104,000) = 25.52832 GFLOP in 1200 steps.
        let (_d, exp) = experiment(
            r#"
kind = "gd-dynamics"
claim = "c"
seeds = [0, 1]
[base]
data.source = "sphere"
data.d = 20
data.n_train = 100
model.width = 128
train.iterations = 300
[profiles.quick]
grid = { "model.depth" = [2, 4] }
"#,
        );
        let w = profile_work(&exp, "quick").unwrap();
        assert_eq!((w.cells, w.steps), (4, 1200));
        assert!((w.gflop - 25.52832).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn min_width_counts_its_doubling_search_within_the_cap() {
        // Widths 4, 8, ..., 64 on MNIST (d = 784), n = 100, L = 2, 50 steps each. A step at m
        // costs 600 (784 m + m^2 + m): m = 32 -> 15,686,400 FLOP, m = 64 -> 32,601,600; a cap of
        // 0.02 GFLOP stops the search before m = 64, so widths 4, 8, 16, 32 run 50 steps each:
        // 50 * 600 * (785 * 60 + (16 + 64 + 256 + 1024)) = 1,453,800,000 FLOP in 200 steps.
        let (_d, exp) = experiment(
            r#"
kind = "min-width"
claim = "c"
seeds = [0]
[base]
data.source = "mnist"
data.task = "3v5"
data.n_train = 100
data.n_test = 100
model.depth = 2
[params]
max_iterations = 50
min_width = 4
max_width = 64
max_step_gflop = 0.02
[profiles.quick]
grid = { "model.arch" = ["resnet"] }
"#,
        );
        let w = profile_work(&exp, "quick").unwrap();
        assert_eq!((w.cells, w.steps), (1, 200));
        assert!((w.gflop - 1.4538).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn kinds_without_training_count_no_steps() {
        let (_d, exp) = experiment(
            r#"
kind = "ntk-complexity"
claim = "c"
seeds = [0]
[base]
data.source = "sphere"
data.n_train = 50
[profiles.quick]
grid = { "model.depth" = [2, 8] }
"#,
        );
        assert_eq!(profile_work(&exp, "quick").unwrap(), Work { cells: 2, steps: 0, gflop: 0.0 });
    }
}
