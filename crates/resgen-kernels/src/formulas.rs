//! The generalization bounds of docs/theory.md, each with its hidden constants as parameters
//! ([`BoundConstants`], defaults as in docs/theory.md). All return a bound on the expected 0-1
//! error. Derivations of the constants: docs/derivations.md.
//!
//! Which formula is which (the column names used everywhere in resgen):
//! - `cg_fc_formula`: Cao-Gu's FC bound, `c_eps eps_NTRF(R) + c_radius (L+1) R / sqrt(n) + conf`;
//! - `fcg_resnet_formula`: Frei-Cao-Gu's ResNet bound, `c_eps eps_NTRF(R) + c_radius R / sqrt(n) + conf`;
//! - `measured_rad`: the same template with the Rademacher term *measured* for the network at
//!   hand instead of bounded by a formula, `c_eps eps_NTRF(R) + Rad_S(F_lin(R)) + 6 sqrt(log(2G/delta) / (2n))`,
//!   one expression for both networks (so a difference between them is measured, not assumed);
//! - `cao_gu_ntk` (at `y~ = y`) and `cao_gu_ntk_inf` (infimum over relabelings, [`crate::qp`]);
//! - `rademacher_route`: `2 E_S(W) + Rad_S(F_lin(R)) + eps_lin + 6 sqrt(log(2G/delta) / (2n))`.
//!
//! Each formula is evaluated for both networks: a formula names the theorem it comes from, the
//! table's `arch` column names the network it is applied to. Where a formula is minimized over
//! the radius grid, it is minimized on its own (`r_star_<formula>`); "best" never means
//! anything else.
//!
//! None of these is evaluated where its theorem holds: the width requirements (polynomial in
//! n and L, like n^7) are never met in practice. They are reported at the width used.

use serde::{Deserialize, Serialize};

use crate::KernelError;

/// The confidence level and the constants hidden in the theorems' O(.), as options
/// (experiment `[params]`, `resgen bounds --delta ...`), recorded beside every bound value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoundConstants {
    /// Failure probability `delta` (default 0.05).
    pub delta: f64,
    /// Multiplier of `eps_NTRF(R)` in the three eps_NTRF bounds (default 4, as in Cao-Gu;
    /// docs/theory.md allows 2 or 4 for the ResNet).
    pub c_eps: f64,
    /// `c` in `c (L+1) R / sqrt(n)` (FC) and `c R / sqrt(n)` (ResNet) (default 1).
    pub c_radius: f64,
    /// `c'` in `c' sqrt(log(1/delta) / n)` of the Cao-Gu and Frei-Cao-Gu bounds (default 1).
    pub c_conf: f64,
    /// `c` in the NTK corollary `c (L+1) sqrt(y^T K^-1 y / n)` (default 1).
    pub c_ntk: f64,
}

impl Default for BoundConstants {
    fn default() -> Self {
        BoundConstants { delta: 0.05, c_eps: 4.0, c_radius: 1.0, c_conf: 1.0, c_ntk: 1.0 }
    }
}

impl BoundConstants {
    /// Checks ranges; errors name the field.
    pub fn validate(&self) -> Result<(), KernelError> {
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(KernelError::Delta(self.delta));
        }
        for (k, v) in
            [("c_eps", self.c_eps), ("c_radius", self.c_radius), ("c_conf", self.c_conf), ("c_ntk", self.c_ntk)]
        {
            if !(v.is_finite() && v >= 0.0) {
                return Err(KernelError::Constant { name: k, value: v });
            }
        }
        Ok(())
    }

    /// One line for tables and notes: `delta=0.05 c_eps=4 c_radius=1 c_conf=1 c_ntk=1`.
    pub fn describe(&self) -> String {
        format!(
            "delta={} c_eps={} c_radius={} c_conf={} c_ntk={}",
            self.delta, self.c_eps, self.c_radius, self.c_conf, self.c_ntk
        )
    }
}

/// `sqrt(log(1/delta) / n)`, the confidence term shared by the Cao-Gu style bounds.
pub fn confidence(n: usize, delta: f64) -> f64 {
    ((1.0 / delta).ln() / n as f64).sqrt()
}

/// `6 sqrt(log(2 G / delta) / (2n))`: the exact confidence term of the Rademacher route
/// (uniform convergence for [0, 1]-valued losses, times 2 for the 0-1 error), with a union bound
/// over a grid of `grid` radii (`grid = 1` for a radius fixed before seeing the data).
pub fn rademacher_confidence(n: usize, delta: f64, grid: usize) -> f64 {
    6.0 * ((2.0 * grid.max(1) as f64 / delta).ln() / (2.0 * n as f64)).sqrt()
}

/// Cao and Gu (2019), Theorem 3.3, fully connected network:
/// `c_eps eps_NTRF(R) + c L R / sqrt(n) + c' sqrt(log(1/delta) / n)`.
/// `depth` is Cao-Gu's own count (L + 1 for resgen's L hidden layers).
pub fn cao_gu_fc(eps_ntrf: f64, depth: usize, radius: f64, n: usize, k: &BoundConstants) -> f64 {
    k.c_eps * eps_ntrf + k.c_radius * depth as f64 * radius / (n as f64).sqrt() + k.c_conf * confidence(n, k.delta)
}

/// The depth Cao and Gu's formulas count for a network with `L` hidden layers: its number of
/// weight matrices, `L + 1`. The one place this convention is written.
pub fn cao_gu_depth(hidden_layers: usize) -> usize {
    hidden_layers + 1
}

/// Cao and Gu (2019), NTK corollary: `c L sqrt(y^T Theta^{-1} y / n) + c' sqrt(log(1/delta) / n)`,
/// with `complexity = sqrt(y^T Theta^{-1} y / n)` (or its infimum over relabelings).
pub fn cao_gu_ntk(complexity: f64, depth: usize, n: usize, k: &BoundConstants) -> f64 {
    k.c_ntk * depth as f64 * complexity + k.c_conf * confidence(n, k.delta)
}

/// Frei, Cao and Gu (2019), ResNet (reconstructed from the abstract):
/// `c_eps eps_NTRF(R) + c R / sqrt(n) + c' sqrt(log(1/delta) / n)`, no polynomial factor of L.
pub fn frei_cao_gu_resnet(eps_ntrf: f64, radius: f64, n: usize, k: &BoundConstants) -> f64 {
    k.c_eps * eps_ntrf + k.c_radius * radius / (n as f64).sqrt() + k.c_conf * confidence(n, k.delta)
}

/// The eps_NTRF bound with a measured Rademacher term, the same expression for both networks:
/// `c_eps eps_NTRF(R) + Rad_S(F_lin(R)) + 6 sqrt(log(2G/delta) / (2n))`, `G` the radius grid's
/// size. It bounds the linearized class (no `eps_lin` term): see docs/derivations.md, section 3.
pub fn measured_rademacher(eps_ntrf: f64, rad: f64, n: usize, grid: usize, k: &BoundConstants) -> f64 {
    k.c_eps * eps_ntrf + rad + rademacher_confidence(n, k.delta, grid)
}

/// The Rademacher route with measured terms and exact constants (docs/derivations.md, section 2):
/// `2 E_S(W) + Rad_S(F_lin(R)) + eps_lin + 6 sqrt(log(2G/delta) / (2n))`.
///
/// Caveats (stated with every table that reports it): `eps_lin` measured on the training points
/// is not the uniform bound the step needs; `Rad_S` is a Monte Carlo estimate (its standard
/// error is reported); the radius is chosen after training, hence the union bound over `G` radii.
pub fn rademacher_route(surrogate: f64, rad: f64, eps_lin: f64, n: usize, grid: usize, delta: f64) -> f64 {
    2.0 * surrogate + rad + eps_lin + rademacher_confidence(n, delta, grid)
}
