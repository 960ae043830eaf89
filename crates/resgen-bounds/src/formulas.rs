//! The generalization bounds of shared/theory.md, each with its hidden constants as parameters
//! (default 1). All return a bound on the expected 0-1 error.
//!
//! None of these is evaluated where its theorem holds: the width requirements (polynomial in
//! n and L, like n^7) are never met in practice. They are reported at the width used.

/// `sqrt(log(1/delta) / n)`, the confidence term shared by the Cao-Gu style bounds.
pub fn confidence(n: usize, delta: f64) -> f64 {
    ((1.0 / delta).ln() / n as f64).sqrt()
}

/// Cao and Gu (2019), Theorem 3.3, fully connected network:
/// `4 eps_NTRF(R) + c L R / sqrt(n) + c' sqrt(log(1/delta) / n)`.
/// `depth` is Cao-Gu's own count (L + 1 for resgen's L hidden layers).
pub fn cao_gu_fc(eps_ntrf: f64, depth: usize, radius: f64, n: usize, delta: f64, c: f64, c_conf: f64) -> f64 {
    4.0 * eps_ntrf + c * depth as f64 * radius / (n as f64).sqrt() + c_conf * confidence(n, delta)
}

/// Cao and Gu (2019), NTK corollary: `c L sqrt(y^T Theta^{-1} y / n) + c' sqrt(log(1/delta) / n)`,
/// with `complexity = sqrt(y^T Theta^{-1} y / n)`.
pub fn cao_gu_ntk(complexity: f64, depth: usize, n: usize, delta: f64, c: f64, c_conf: f64) -> f64 {
    c * depth as f64 * complexity + c_conf * confidence(n, delta)
}

/// Frei, Cao and Gu (2019), ResNet (reconstructed from the abstract):
/// `c1 eps_NTRF(R) + c R / sqrt(n) + c' sqrt(log(1/delta) / n)`, no polynomial factor of L.
/// The theory notes allow `c1` in {2, 4}; resgen's default is 4, as in the FC bound, so that
/// the two differ only in the depth factor.
pub fn frei_cao_gu_resnet(eps_ntrf: f64, radius: f64, n: usize, delta: f64, c1: f64, c: f64, c_conf: f64) -> f64 {
    c1 * eps_ntrf + c * radius / (n as f64).sqrt() + c_conf * confidence(n, delta)
}

/// The Rademacher route with measured terms:
/// `2 (E_S(W) + Rad_S / 2 + eps_lin) + 3 sqrt(log(2/delta) / (2n))`.
pub fn rademacher_route(surrogate: f64, rad: f64, eps_lin: f64, n: usize, delta: f64) -> f64 {
    2.0 * (surrogate + 0.5 * rad + eps_lin) + 3.0 * ((2.0 / delta).ln() / (2.0 * n as f64)).sqrt()
}
