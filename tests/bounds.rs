//! Oracle tests of the kernels and bounds: the fast NTK against explicit Jacobians, the
//! analytic FC kernel against Monte Carlo, linear algebra and bounds against hand values.

use resgen_bounds::analytic::{fc_ntk, fc_ntk_entry};
use resgen_bounds::formulas::*;
use resgen_bounds::linalg::{cholesky_with_ridge, kernel_stats, lambda_max, lambda_min};
use resgen_bounds::ntk::{as_f64, empirical_ntk, empirical_ntk_explicit};
use resgen_bounds::rademacher::rademacher;
use resgen_bounds::{Gram, features};
use resgen_models::{Arch, Branch, ModelConfig, Net, Precision, Theta};
use resgen_tests::cpu_f64;

fn sphere(n: usize, d: usize, seed: u64) -> Vec<f64> {
    resgen_tests::sphere(n, d, seed).0
}

#[test]
fn fast_ntk_matches_explicit_jacobians_to_1e10() {
    let (_, dev) = cpu_f64();
    let (n, d) = (9, 5);
    let x = sphere(n, d, 2);
    for (arch, branch) in
        [(Arch::Resnet, Branch::OneLayer), (Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        for freeze in [false, true] {
            let cfg = ModelConfig {
                arch,
                branch,
                theta: Theta("0.5".into()),
                width: 12,
                depth: 4,
                seed: 3,
                freeze_input: freeze,
                ..Default::default()
            };
            let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
            let fast = empirical_ntk(&net, &x, n);
            let slow = empirical_ntk_explicit(&net, &x, n);
            // W1..W5, and V2..V4 for two-layer branches.
            assert_eq!(fast.per_layer.len(), if cfg.two_layer() { 8 } else { 5 });
            assert_eq!(slow.per_layer.len(), fast.per_layer.len());
            for (l, (a, b)) in fast.per_layer.iter().zip(&slow.per_layer).enumerate() {
                let r = b.rel_diff(a);
                assert!(r < 1e-10, "{arch:?} {branch:?} K_{}: relative difference {r}", l + 1);
            }
            assert!(slow.total.rel_diff(&fast.total) < 1e-10);
            // The streamed total (no per-layer blocks kept) adds the same blocks in the same order.
            assert_eq!(resgen_bounds::ntk::empirical_ntk_total(&net, &x, n).data, fast.total.data);
        }
    }
    // An f32 network is converted to f64 first; its kernel equals the f64 kernel of the same
    // (rounded) weights.
    let cfg = ModelConfig { width: 12, depth: 3, ..Default::default() };
    let net32 = Net::init(&cfg, d, Precision::F32, &dev).unwrap();
    let k = empirical_ntk(&as_f64(&net32), &x, n);
    let rounded: Vec<Vec<f64>> =
        Net::init_host(&cfg, d).into_iter().map(|w| w.into_iter().map(|v| v as f32 as f64).collect()).collect();
    let reference = empirical_ntk(&Net::from_host(&cfg, d, &rounded, Precision::F64, &dev), &x, n);
    let r = reference.total.rel_diff(&k.total);
    assert!(r < 1e-14, "f32 network's kernel vs the f64 kernel of its rounded weights: {r}");
    // And it is not the kernel of the unrounded weights to the last bit (the rounding shows).
    let unrounded = empirical_ntk(&Net::init(&cfg, d, Precision::F64, &dev).unwrap(), &x, n);
    assert!(unrounded.total.rel_diff(&k.total) > 1e-12);
}

/// `||a - b||_F / ||a||_F`: every entry counts, off-diagonal ones included.
fn frobenius_rel(a: &Gram, b: &Gram) -> f64 {
    let num: f64 = a.data.iter().zip(&b.data).map(|(p, q)| (p - q).powi(2)).sum();
    let den: f64 = a.data.iter().map(|p| p * p).sum();
    (num / den).sqrt()
}

#[test]
fn resnet_residual_gradients_scale_with_theta_fc_gradients_do_not() {
    // Per-layer ||grad_{W_l} f||_F^2 / m at init against the analytic per-layer diagonal
    // blocks: 1/2 for every FC hidden layer (Sigma_{l-1} Sigma'_l / 2 with Sigma = Sigma' = 1
    // on the diagonal), and theta^2 B_l q_{l-1} / 2 for the ResNet's residual layers (theta =
    // 1/L = 1/8: theta^2 / 2 = 1/128 times B_l q_{l-1}, both of order 1). At m = 512
    // a per-example block fluctuates by about sqrt(5/m) = 10%; the mean over 8 points (one
    // draw of W) is allowed 15%.
    let (_, dev) = cpu_f64();
    let (n, d, m, depth) = (8, 10, 512, 8);
    let x = sphere(n, d, 4);
    for arch in [Arch::Resnet, Arch::Fc] {
        let cfg = ModelConfig { arch, width: m, depth, seed: 1, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
        let feat = features::grad_features(&net, net.upload(&x, n, d));
        let norms = features::layer_grad_sq_norms(&feat);
        for l in 2..=depth {
            let mean = norms[l - 1].iter().sum::<f64>() / n as f64 / m as f64;
            let want = match arch {
                Arch::ResnetLearnedScale => unreachable!("the paper networks only"),
                Arch::Fc => 0.5,
                Arch::Resnet => {
                    let mut w = f64::NAN;
                    let theta = 1.0 / depth as f64;
                    resgen_bounds::analytic::resnet_ntk_blocks(1.0, 1.0, 1.0, depth, theta, 2.0, |k, v| {
                        if k == l {
                            w = v;
                        }
                    });
                    // Of order theta^2 (the old check), and now its value.
                    assert!(w > 0.5 * theta * theta && w < 2.0 * theta * theta, "{w}");
                    w
                }
            };
            assert!((mean / want - 1.0).abs() < 0.15, "{arch:?} W{l}: {mean} vs analytic {want}");
        }
    }
}

#[test]
fn analytic_fc_ntk_matches_monte_carlo_and_the_gap_shrinks_with_width() {
    // The mean over seeds of the empirical K/m converges to the analytic kernel as m grows.
    // At finite width the kernel of one network fluctuates multiplicatively: log ||h_l||^2
    // gains variance about 5/m per ReLU layer (relative variance of relu(g)^2 is 5), so one
    // seed's kernel has relative spread about sqrt(5 L / m) (20% at L = 16, m = 2048). With S
    // seeds the mean's error is allowed 3 sqrt(5 L / (m S)) + 2% (the 2% for the O(L/m) bias),
    // and it must shrink from m = 128 to m = 2048.
    let (_, dev) = cpu_f64();
    let (n, d, seeds) = (5, 8, 8u64);
    let x = sphere(n, d, 6);
    for depth in [1, 4, 16] {
        let analytic = fc_ntk(&x, n, d, depth);
        let mut errors = Vec::new();
        for m in [128, 2048] {
            let mut mean = Gram::zeros(n);
            for seed in 0..seeds {
                let cfg = ModelConfig { arch: Arch::Fc, width: m, depth, seed, ..Default::default() };
                let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
                mean = mean.add(&empirical_ntk(&net, &x, n).normalized().scale(1.0 / seeds as f64));
            }
            // Every entry, relative to itself: the off-diagonal structure is checked, not only
            // the largest (diagonal) entries.
            let per_entry =
                analytic.data.iter().zip(&mean.data).fold(0.0f64, |a, (p, q)| a.max((p - q).abs() / p.abs()));
            errors.push((frobenius_rel(&analytic, &mean), per_entry));
        }
        let tol = 3.0 * (5.0 * depth as f64 / (2048.0 * seeds as f64)).sqrt() + 0.02;
        assert!(errors[1].0 < tol, "L={depth}: m=2048 Frobenius-relative error {} > {tol}", errors[1].0);
        assert!(errors[1].1 < tol, "L={depth}: m=2048 largest per-entry relative error {} > {tol}", errors[1].1);
        assert!(errors[1].0 < errors[0].0, "L={depth}: error did not shrink with m: {errors:?}");
    }
    // Diagonal by hand: K(x,x)/m = Sigma_L + L/2 = 1 + L/2 for unit x.
    assert!((fc_ntk_entry(1.0, 1.0, 1.0, 6) - 4.0).abs() < 1e-12);
    // One layer, orthogonal inputs: phi = pi/2, Sigma_1 = 1/pi, Sigma'_1 = 1/2, so
    // K/m = 1/pi + (1/2) * 0 * (1/2) = 1/pi.
    assert!((fc_ntk_entry(0.0, 1.0, 1.0, 1) - 1.0 / std::f64::consts::PI).abs() < 1e-12);
}

#[test]
fn analytic_nngp_matches_monte_carlo_of_the_outputs_covariance() {
    // The NNGP kernel is lim E f(x) f(x') over the initialization. The output layer W_{L+1} has
    // N(0, 1/m) entries and f = sqrt(m) W_{L+1} h_L, so over it alone E f(x) f(x') =
    // <h_L(x), h_L(x')> exactly; the Monte Carlo averages that over 8 seeds of the hidden
    // layers at m = 2048, for FC and both ResNet branches at L = 4 and 8 (theta = 1/L), and
    // must lie within the FC test's tolerance 3 sqrt(5 L / (m S)) + 2% of the recursion, every
    // entry relative to the largest.
    use resgen_bounds::analytic::{fc_nngp_entry, nngp, resnet_nngp_entry};
    let (_, dev) = cpu_f64();
    let (n, d, seeds, m) = (5, 8, 8u64, 2048);
    let x = sphere(n, d, 6);
    for (arch, branch) in
        [(Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        for depth in [4, 8] {
            let base = ModelConfig { arch, branch, width: m, depth, ..Default::default() };
            let want = nngp(&base, &x, n, d).unwrap();
            let mut mean = vec![0.0; n * n];
            for seed in 0..seeds {
                let net = Net::init(&ModelConfig { seed, ..base.clone() }, d, Precision::F64, &dev).unwrap();
                let h = resgen_models::to_host(net.forward_states(net.upload(&x, n, d)).hidden[depth - 1].clone());
                for i in 0..n {
                    for j in 0..n {
                        let dot: f64 = (0..m).map(|k| h[i * m + k] * h[j * m + k]).sum();
                        mean[i * n + j] += dot / seeds as f64;
                    }
                }
            }
            let scale = want.data.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let err = want.data.iter().zip(&mean).fold(0.0f64, |a, (p, q)| a.max((p - q).abs() / scale));
            let tol = 3.0 * (5.0 * depth as f64 / (m as f64 * seeds as f64)).sqrt() + 0.02;
            eprintln!("{arch:?} {branch:?} L={depth}: NNGP vs Monte Carlo {err:.4} (tolerance {tol:.4})");
            assert!(err < tol, "{arch:?} {branch:?} L={depth}: NNGP vs Monte Carlo {err} > {tol}");
        }
    }
    // By hand. FC, one layer, orthogonal unit inputs: Sigma_1 = 1/pi; the diagonal stays 1.
    assert!((fc_nngp_entry(0.0, 1.0, 1.0, 1) - 1.0 / std::f64::consts::PI).abs() < 1e-12);
    assert!((fc_nngp_entry(1.0, 1.0, 1.0, 7) - 1.0).abs() < 1e-12);
    // ResNet, L = 2, theta = 1/2, v = 2, unit x: q_2 = 1 + 1/pi + 1/4 (the module notes).
    let q2 = 1.0 + 1.0 / std::f64::consts::PI + 0.25;
    assert!((resnet_nngp_entry(1.0, 1.0, 1.0, 2, 0.5, 2.0) - q2).abs() < 1e-12);
}

#[test]
fn cholesky_eigenvalues_and_ridge_against_hand_values() {
    // K = [[4, 2], [2, 3]]: eigenvalues (7 +- sqrt(17)) / 2 = 5.5616, 1.4384;
    // K^{-1} = [[3, -2], [-2, 4]] / 8, so y = (1, 1) gives y^T K^{-1} y = (3 - 4 + 4) / 8 = 3/8.
    let k = Gram { n: 2, data: vec![4.0, 2.0, 2.0, 3.0] };
    let s = kernel_stats(&k, &[1.0, 1.0]).unwrap();
    let (hi, lo) = ((7.0 + 17f64.sqrt()) / 2.0, (7.0 - 17f64.sqrt()) / 2.0);
    assert!((s.lambda_max - hi).abs() < 1e-9 && (s.lambda_min - lo).abs() < 1e-9, "{s:?}");
    assert!((s.complexity - (3.0f64 / 8.0 / 2.0).sqrt()).abs() < 1e-12);
    assert_eq!(s.ridge, 0.0);
    assert_eq!(s.trace, 7.0);
    // A rank-one kernel needs a ridge, and it is reported.
    let r1 = Gram { n: 3, data: vec![1.0; 9] };
    let c = cholesky_with_ridge(&r1).unwrap();
    assert!(c.ridge > 0.0 && c.ridge < 1e-6, "ridge {}", c.ridge);
    // Its eigenvalues are 3, 0, 0: the eigendecomposition gives 0 to rounding (either sign),
    // the power iteration 3.
    assert!(lambda_min(&r1).abs() < 1e-14, "{}", lambda_min(&r1));
    assert!((lambda_max(&r1) - 3.0).abs() < 1e-9);
    // The second-difference matrix [[2, 1, 0], [1, 2, 1], [0, 1, 2]] has eigenvalues
    // 2 + 2 cos(k pi / 4), k = 1..3: 2 - sqrt(2), 2, 2 + sqrt(2).
    let t = Gram { n: 3, data: vec![2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0] };
    let ev = resgen_bounds::linalg::eigenvalues(&t).unwrap();
    let want = [2.0 - 2f64.sqrt(), 2.0, 2.0 + 2f64.sqrt()];
    assert!(ev.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-14), "{ev:?}");
    // Solves against the inverse: [[2, 1, 0], [1, 2, 1], [0, 1, 2]]^-1 = [[3, -2, 1], [-2, 4,
    // -2], [1, -2, 3]] / 4, so the solve of e_1 is (3, -2, 1) / 4 and e_1^T K^-1 e_1 = 3/4.
    let ct = cholesky_with_ridge(&t).unwrap();
    let v = ct.solve(&[1.0, 0.0, 0.0]);
    assert!(v.iter().zip([0.75, -0.5, 0.25]).all(|(a, b)| (a - b).abs() < 1e-15), "{v:?}");
    assert!((ct.inv_quad(&[1.0, 0.0, 0.0]) - 0.75).abs() < 1e-15);
    // NaN entries are an error, not a silent NaN.
    assert!(cholesky_with_ridge(&Gram { n: 1, data: vec![f64::NAN] }).is_err());
}

#[test]
fn rademacher_terms_against_hand_values() {
    // K = I_4 (one layer): closed form (omega / n) sqrt(tr I) = omega / 2 with n = 4; and
    // sqrt(eps^T I eps) = 2 for every sign vector, so Monte Carlo is exactly omega / 2 too.
    // omega = R / sqrt(m) = 2 / sqrt(16) = 0.5, so both are 0.25.
    let id = Gram { n: 4, data: (0..16).map(|k| if k % 5 == 0 { 1.0 } else { 0.0 }).collect() };
    let r = rademacher(std::slice::from_ref(&id), 2.0, 16, 50, 0);
    assert!((r.bound - 0.25).abs() < 1e-15 && (r.mc - 0.25).abs() < 1e-15 && r.mc_stderr < 1e-15);
    // K = 1 1^T: sqrt(eps^T K eps) = |sum eps|; for n = 4, E|S| = (2*4*1 + 2*2*4) / 16 = 1.5,
    // so Rad = (0.5 / 4) * 1.5 = 0.1875, while the closed form gives (0.5/4) * 2 = 0.25.
    let ones = Gram { n: 4, data: vec![1.0; 16] };
    let r = rademacher(&[ones], 2.0, 16, 20000, 1);
    assert!((r.bound - 0.25).abs() < 1e-15);
    assert!((r.mc - 0.1875).abs() < 4.0 * r.mc_stderr, "{} +- {}", r.mc, r.mc_stderr);
}

#[test]
fn bound_formulas_against_hand_values() {
    // n = 100, delta = e^-1: confidence = sqrt(1 / 100) = 0.1.
    let delta = (-1.0f64).exp();
    let k = BoundConstants { delta, ..BoundConstants::default() };
    assert_eq!((k.c_eps, k.c_radius, k.c_conf, k.c_ntk), (4.0, 1.0, 1.0, 1.0));
    assert!((confidence(100, delta) - 0.1).abs() < 1e-15);
    // Cao-Gu FC: 4 * 0.05 + 1 * 5 * 2 / 10 + 1 * 0.1 = 0.2 + 1.0 + 0.1 = 1.3.
    assert!((cao_gu_fc(0.05, 5, 2.0, 100, &k) - 1.3).abs() < 1e-12);
    // Cao-Gu NTK: 1 * 5 * 0.3 + 0.1 = 1.6; with c_ntk = 2: 3.1.
    assert!((cao_gu_ntk(0.3, 5, 100, &k) - 1.6).abs() < 1e-12);
    assert!((cao_gu_ntk(0.3, 5, 100, &BoundConstants { c_ntk: 2.0, ..k }) - 3.1).abs() < 1e-12);
    // ResNet: 4 * 0.05 + 2 / 10 + 0.1 = 0.5; with c_eps = 2: 0.4; with c_radius = 3: 0.9.
    assert!((frei_cao_gu_resnet(0.05, 2.0, 100, &k) - 0.5).abs() < 1e-12);
    assert!((frei_cao_gu_resnet(0.05, 2.0, 100, &BoundConstants { c_eps: 2.0, ..k }) - 0.4).abs() < 1e-12);
    assert!((frei_cao_gu_resnet(0.05, 2.0, 100, &BoundConstants { c_radius: 3.0, ..k }) - 0.9).abs() < 1e-12);
    // Rademacher route (docs/derivations.md): 2 E_S + Rad + eps_lin + 6 sqrt(log(2G/delta) / (2n)).
    // n = 50, G = 1, delta = 2 e^-1: log(2 / delta) = 1, 6 sqrt(1 / 100) = 0.6;
    // 2 * 0.1 + 0.2 + 0.05 + 0.6 = 1.05.
    assert!((rademacher_route(0.1, 0.2, 0.05, 50, 1, 2.0 * delta) - 1.05).abs() < 1e-12);
    // The union over G = 4 radii with delta = 8 e^-4: log(8 / delta) = 4, 6 sqrt(4 / 100) = 1.2.
    let delta4 = 8.0 * (-4.0f64).exp();
    assert!((rademacher_confidence(50, delta4, 4) - 1.2).abs() < 1e-12);
    // Measured-Rademacher bound: 4 * 0.05 + 0.3 + 1.2 = 1.7 (same expression for any network).
    let k4 = BoundConstants { delta: delta4, ..k };
    assert!((measured_rademacher(0.05, 0.3, 50, 4, &k4) - 1.7).abs() < 1e-12);
    // Constants are validated with the field named.
    assert!(BoundConstants { delta: 1.5, ..k }.validate().unwrap_err().to_string().contains("delta"));
    assert!(BoundConstants { c_eps: -1.0, ..k }.validate().unwrap_err().to_string().contains("c_eps"));
}

#[test]
fn cao_gu_infimum_relabeling_against_hand_worked_cases() {
    use resgen_bounds::qp::infimum_relabeling;
    // K = [[5, 2], [2, 1]] (det 1), K^-1 = [[1, -2], [-2, 5]], y = (1, 1):
    // at y~ = y the value is 1 - 4 + 5 = 2. Over y~ >= 1: with y~_2 = 1, y~_1^2 - 4 y~_1 + 5 is
    // minimal at y~_1 = 2 (value 1); KKT: (K^-1 y~) = (2 - 2, -4 + 5) = (0, 1), zero where
    // y~_1 > 1 and >= 0 where y~_2 = 1, so the infimum is 1 at y~ = (2, 1).
    let k = Gram { n: 2, data: vec![5.0, 2.0, 2.0, 1.0] };
    let r = infimum_relabeling(&k, &[1.0, 1.0], 1e-12, 10_000).unwrap();
    assert!((r.value_at_y - 2.0).abs() < 1e-9, "{}", r.value_at_y);
    assert!((r.value - 1.0).abs() < 1e-9 && r.gap < 1e-9, "{} gap {}", r.value, r.gap);
    assert!((r.y_tilde[0] - 2.0).abs() < 1e-6 && (r.y_tilde[1] - 1.0).abs() < 1e-9, "{:?}", r.y_tilde);
    assert!((r.complexity() - 0.5f64.sqrt()).abs() < 1e-9 && (r.complexity_at_y() - 1.0).abs() < 1e-9);
    // Flipping every label flips y~ and keeps the value.
    let r = infimum_relabeling(&k, &[-1.0, -1.0], 1e-12, 10_000).unwrap();
    assert!((r.value - 1.0).abs() < 1e-9 && (r.y_tilde[0] + 2.0).abs() < 1e-6);
    // K = I: y~^T y~ >= n with equality at y~ = y: the infimum equals the y~ = y value, 3.
    let id = Gram { n: 3, data: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0] };
    let r = infimum_relabeling(&id, &[1.0, -1.0, 1.0], 1e-12, 10_000).unwrap();
    assert!((r.value - 3.0).abs() < 1e-12 && (r.value_at_y - 3.0).abs() < 1e-12);
    assert_eq!(r.y_tilde, vec![1.0, -1.0, 1.0]);
    // Labels must be +-1.
    assert!(infimum_relabeling(&id, &[1.0, 0.5, 1.0], 1e-12, 10).is_err());
}

#[test]
fn cao_gu_infimum_is_feasible_optimal_and_below_the_plain_value_on_a_real_kernel() {
    use resgen_bounds::qp::infimum_relabeling;
    // A kernel from a random ReLU feature map (n = 25, PSD, moderately conditioned).
    let (n, p) = (25, 60);
    let mut state = 12345u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let feats: Vec<f64> = (0..n * p).map(|_| rnd().max(0.0) + 0.1 * rnd()).collect();
    let mut k = Gram::zeros(n);
    for i in 0..n {
        for j in 0..n {
            k.data[i * n + j] = (0..p).map(|t| feats[i * p + t] * feats[j * p + t]).sum::<f64>() / p as f64
                + if i == j { 0.05 } else { 0.0 };
        }
    }
    let y: Vec<f64> = (0..n).map(|i| if (i * 7) % 3 == 0 { 1.0 } else { -1.0 }).collect();
    let r = infimum_relabeling(&k, &y, 1e-10, 100_000).unwrap();
    assert!(r.value <= r.value_at_y + 1e-12, "{} > {}", r.value, r.value_at_y);
    assert!(r.gap <= 1e-10 * r.value + 1e-12, "gap {}", r.gap);
    // Feasible, and no feasible perturbation does better (value through an independent solve).
    assert!(r.y_tilde.iter().zip(&y).all(|(a, b)| a * b >= 1.0 - 1e-12));
    let chol = cholesky_with_ridge(&k).unwrap();
    assert!((chol.inv_quad(&r.y_tilde) - r.value).abs() < 1e-8 * r.value);
    for i in 0..n {
        let mut z = r.y_tilde.clone();
        z[i] += 0.05 * y[i];
        assert!(chol.inv_quad(&z) >= r.value - 1e-9);
    }
}

#[test]
fn linearization_is_exact_at_w0_and_second_order_nearby() {
    // f_lin(W0) = f(W0) exactly; for W = W0 + t V the error is O(t^2) (away from ReLU kinks),
    // so halving t divides it by about 4 (t small enough that no pre-activation changes sign:
    // min |z| over 6 x 64 units is ~1e-3, far above t ~ 1e-4); and for the output layer alone f is linear in W, so a
    // change of W_{L+1} only is linearized exactly.
    let (_, dev) = cpu_f64();
    let (n, d) = (6, 5);
    let x = sphere(n, d, 3);
    for arch in [Arch::Resnet, Arch::Fc] {
        let cfg = ModelConfig { arch, width: 64, depth: 3, seed: 2, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
        let w0 = net.host_weights();
        let (max0, _) = features::linearization_error(&net, &w0, &x, n);
        assert!(max0 < 1e-12, "{arch:?}: {max0}");
        let dir = Net::init_host(&ModelConfig { seed: 99, ..cfg.clone() }, d);
        let shifted = |t: f64| -> Vec<Vec<f64>> {
            w0.iter().zip(&dir).map(|(a, b)| a.iter().zip(b).map(|(p, q)| p + t * q).collect()).collect()
        };
        let (e1, _) = features::linearization_error(&net, &shifted(1e-4), &x, n);
        let (e2, _) = features::linearization_error(&net, &shifted(5e-5), &x, n);
        let ratio = e1 / e2;
        assert!((3.0..5.0).contains(&ratio), "{arch:?}: error ratio {ratio} for halved step ({e1}, {e2})");
        let mut out_only = w0.clone();
        out_only[3].iter_mut().zip(&dir[3]).for_each(|(p, q)| *p += q);
        let (eo, _) = features::linearization_error(&net, &out_only, &x, n);
        assert!(eo < 1e-10, "{arch:?}: output-layer change should be exact, got {eo}");
    }
}

#[test]
fn packed_symmetric_products_match_the_dense_ones() {
    // Hand value: K = [[2, 1, 0], [1, 3, -1], [0, -1, 4]], v = (1, 2, 3):
    // K v = (2 + 2 + 0, 1 + 6 - 3, 0 - 2 + 12) = (4, 4, 10).
    use resgen_bounds::{Gram, linalg::PackedSym};
    let k = Gram { n: 3, data: vec![2.0, 1.0, 0.0, 1.0, 3.0, -1.0, 0.0, -1.0, 4.0] };
    let p = PackedSym::new(&k);
    assert_eq!(p.matvec(&[1.0, 2.0, 3.0]), vec![4.0, 4.0, 10.0]);
    // A random symmetric 37 x 37 against the dense product (row sums in plain order).
    let n = 37;
    let a: Vec<f64> = (0..n * n).map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0).collect();
    let mut sym = Gram::zeros(n);
    for i in 0..n {
        for j in 0..n {
            sym.data[i * n + j] = a[i * n + j] + a[j * n + i];
        }
    }
    let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
    let w: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).cos()).collect();
    let dense = |x: &[f64]| -> Vec<f64> { (0..n).map(|i| (0..n).map(|j| sym.at(i, j) * x[j]).sum()).collect() };
    let p = PackedSym::new(&sym);
    let (pv, pw) = p.matvec2(&v, &w);
    for (got, want) in [(p.matvec(&v), dense(&v)), (pv, dense(&v)), (pw, dense(&w))] {
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
    }
}

#[test]
fn ntrf_optimum_matches_projected_gradient_in_parameter_space() {
    // Oracle: projected gradient descent on the explicit linearized model in parameter space,
    // u_l in R^{#params_l}, f = f0 + sum_l J_l u_l, ||u_l|| <= omega = R / sqrt(m), with the
    // Jacobians J_l from one backward pass per example.
    use resgen_bounds::ntrf;
    let (_, dev) = cpu_f64();
    let (n, d, m) = (8, 4, 6);
    let (x, y) = resgen_tests::sphere(n, d, 12);
    for arch in [Arch::Resnet, Arch::Fc] {
        let cfg = ModelConfig { arch, width: m, depth: 2, seed: 4, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
        let ntk = empirical_ntk(&net, &x, n);
        let f0 = net.predict(net.upload(&x, n, d));
        let problem = ntrf::NtrfProblem { per_layer: &ntk.per_layer, f0: &f0, y: &y, width: m };
        let mut jac: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 3];
        for i in 0..n {
            let xi = net.upload(&x[i * d..(i + 1) * d], 1, d);
            let (_, g) = net.weighted_output_grads(xi, |_| vec![1.0]);
            for (l, gl) in g.into_iter().enumerate() {
                jac[l].push(resgen_models::to_host(gl.unwrap()));
            }
        }
        for radius in [0.5, 2.0, 8.0] {
            let limits = ntrf::SolverLimits { tol: 1e-10, gap_tol: 0.0, max_iter: 100_000 };
            let sol = ntrf::solve(problem, radius, None, limits);
            assert!(sol.kkt_residual < 1e-8, "{arch:?} R={radius}: KKT residual {}", sol.kkt_residual);
            assert!(sol.gap < 1e-8, "{arch:?} R={radius}: duality gap {}", sol.gap);
            // The gap certifies an early stop: 5 iterations leave the loss above the optimum by
            // at most the reported gap.
            let early = ntrf::solve(problem, radius, None, ntrf::SolverLimits { tol: 0.0, gap_tol: 0.0, max_iter: 5 });
            assert_eq!(early.iterations, 5);
            assert!(
                early.loss >= sol.loss - 1e-12 && early.loss - sol.loss <= early.gap + 1e-12,
                "{arch:?} R={radius}: early loss {} vs optimum {}, gap {}",
                early.loss,
                sol.loss,
                early.gap
            );
            // Explicit PGD with step 4n / ||J||^2 (a bound on the smoothness), many iterations.
            let omega = radius / (m as f64).sqrt();
            let fro: f64 = jac.iter().flatten().flatten().map(|v| v * v).sum();
            let eta = 4.0 * n as f64 / fro;
            let mut u: Vec<Vec<f64>> = jac.iter().map(|j| vec![0.0; j[0].len()]).collect();
            let mut loss = 0.0;
            for _ in 0..200_000 {
                let f: Vec<f64> = (0..n)
                    .map(|i| {
                        f0[i]
                            + (0..3).map(|l| jac[l][i].iter().zip(&u[l]).map(|(a, b)| a * b).sum::<f64>()).sum::<f64>()
                    })
                    .collect();
                let z: Vec<f64> = f.iter().zip(&y).map(|(a, b)| a * b).collect();
                loss = resgen_models::logistic_loss_mean(&z);
                let g: Vec<f64> = (0..n).map(|i| -y[i] / (1.0 + z[i].exp()) / n as f64).collect();
                for l in 0..3 {
                    for p in 0..u[l].len() {
                        u[l][p] -= eta * (0..n).map(|i| g[i] * jac[l][i][p]).sum::<f64>();
                    }
                    let norm = u[l].iter().map(|v| v * v).sum::<f64>().sqrt();
                    if norm > omega {
                        u[l].iter_mut().for_each(|v| *v *= omega / norm);
                    }
                }
            }
            assert!(
                (sol.loss - loss).abs() < 1e-6,
                "{arch:?} R={radius}: kernel solver {} vs explicit PGD {loss}",
                sol.loss
            );
            // Larger balls can only lower the optimum.
            assert!(
                sol.loss
                    <= resgen_models::logistic_loss_mean(&f0.iter().zip(&y).map(|(a, b)| a * b).collect::<Vec<_>>())
                        + 1e-12
            );
        }
        let limits = ntrf::SolverLimits { tol: 1e-9, gap_tol: 0.0, max_iter: 100_000 };
        let grid = ntrf::solve_grid(problem, &[0.5, 1.0, 2.0, 4.0], limits);
        assert!(grid.windows(2).all(|w| w[1].loss <= w[0].loss + 1e-9), "eps_NTRF must not increase with R");
    }
}

/// The analytic kernel's relative error against the mean empirical kernel `K / m` over
/// `seeds` initializations, at m = 128 and m = 2048.
fn monte_carlo_errors(base: &ModelConfig, x: &[f64], n: usize, d: usize, seeds: u64) -> Vec<f64> {
    let (_, dev) = cpu_f64();
    let analytic = resgen_bounds::analytic::ntk(base, x, n, d).unwrap();
    [128, 2048]
        .into_iter()
        .map(|m| {
            let mut mean = Gram::zeros(n);
            for seed in 0..seeds {
                let cfg = ModelConfig { width: m, seed, ..base.clone() };
                let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
                mean = mean.add(&empirical_ntk(&net, x, n).normalized().scale(1.0 / seeds as f64));
            }
            analytic.rel_diff(&mean)
        })
        .collect()
}

#[test]
fn analytic_resnet_ntk_matches_monte_carlo_and_hand_values() {
    // Same check as for the FC kernel, for the ResNet's recursion (which carries the mean of
    // the non-negative residual stream as an extra state). With theta = 1/L the branches add
    // little fluctuation, so the per-seed spread is about sqrt(5 (1 + L theta^2) / m): the
    // tolerance is 3 sqrt(5 (1 + L theta^2) / (m S)) + 2%. Covered: theta = 1/L and
    // 1/sqrt(L), residual variance 2/m and 1/m; the error must shrink from m = 128 to 2048.
    use resgen_bounds::analytic::resnet_ntk_entry;
    use resgen_models::{ResidualVariance, Theta};
    let (n, d, seeds) = (5, 8, 8u64);
    let x = sphere(n, d, 7);
    for (depth, theta, var) in [
        (1, "1/L", ResidualVariance::TwoOverM),
        (4, "1/L", ResidualVariance::TwoOverM),
        (16, "1/L", ResidualVariance::TwoOverM),
        (16, "1/sqrt(L)", ResidualVariance::TwoOverM),
        (8, "1/sqrt(L)", ResidualVariance::OneOverM),
    ] {
        let base = ModelConfig {
            arch: Arch::Resnet,
            depth,
            theta: Theta(theta.into()),
            residual_variance: var,
            ..Default::default()
        };
        let errors = monte_carlo_errors(&base, &x, n, d, seeds);
        let t = base.theta.value(depth).unwrap();
        let tol = 3.0 * (5.0 * (1.0 + depth as f64 * t * t) / (2048.0 * seeds as f64)).sqrt() + 0.02;
        assert!(errors[1] < tol, "L={depth} theta={theta}: m=2048 relative error {} > {tol}", errors[1]);
        assert!(errors[1] < errors[0], "L={depth} theta={theta}: error did not shrink: {errors:?}");
    }
    // By hand (module docs): L = 2, theta = 1/2, v = 2, unit x: q_1 = 1, s_1 = 1/sqrt(pi),
    // q_2 = 1 + 2 (1/2)(1/sqrt(pi)) sqrt(1/pi) + (1/4) 1 = 5/4 + 1/pi, B_2 = 1,
    // B_1 = 1 + (1/4)(2/2) 1 = 5/4, K/m = q_2 + (1/4)(1/2) q_1 + (5/4)(1/2) = 2 + 1/pi.
    let pi = std::f64::consts::PI;
    assert!((resnet_ntk_entry(1.0, 1.0, 1.0, 2, 0.5, 2.0) - (2.0 + 1.0 / pi)).abs() < 1e-12);
    // L = 1 is a one-hidden-layer net, the same as the FC kernel at L = 1.
    assert!((resnet_ntk_entry(0.3, 1.0, 1.0, 1, 1.0, 2.0) - fc_ntk_entry(0.3, 1.0, 1.0, 1)).abs() < 1e-12);
    // theta = 0: the stream is h_1 and only W_1 and the output layer count, as for FC at L = 1.
    assert!((resnet_ntk_entry(0.3, 1.0, 1.0, 9, 0.0, 2.0) - fc_ntk_entry(0.3, 1.0, 1.0, 1)).abs() < 1e-12);
}

#[test]
fn analytic_two_layer_ntk_matches_monte_carlo_and_hand_values() {
    // The two-layer branch's recursion (analytic module docs) against the mean empirical kernel
    // over 8 seeds, with the error shrinking from m = 128 to 2048. Tolerance as for the
    // one-layer branch with two fluctuating matrices per block: 3 sqrt(5 (1 + 2 L theta^2) /
    // (m S)) + 2%. Covered: theta = 1/2 at L = 2, 1/sqrt(L) at L = 8, theta = 1 at L = 4
    // (stream grows like 2^{L-1}), residual variance 1/m.
    use resgen_bounds::analytic::two_layer_ntk_entry;
    use resgen_models::ResidualVariance;
    let (n, d, seeds) = (5, 8, 8u64);
    let x = sphere(n, d, 7);
    for (depth, theta, var) in [
        (2, "0.5", ResidualVariance::TwoOverM),
        (8, "1/sqrt(L)", ResidualVariance::TwoOverM),
        (4, "1", ResidualVariance::TwoOverM),
        (6, "1/sqrt(L)", ResidualVariance::OneOverM),
    ] {
        let base = ModelConfig {
            arch: Arch::Resnet,
            branch: Branch::TwoLayer,
            depth,
            theta: Theta(theta.into()),
            residual_variance: var,
            ..Default::default()
        };
        let errors = monte_carlo_errors(&base, &x, n, d, seeds);
        let t = base.theta.value(depth).unwrap();
        let tol = 3.0 * (5.0 * (1.0 + 2.0 * depth as f64 * t * t) / (2048.0 * seeds as f64)).sqrt() + 0.02;
        eprintln!("two-layer L={depth} theta={theta}: relative errors {errors:?} (tolerance {tol:.4})");
        assert!(errors[1] < tol, "L={depth} theta={theta}: m=2048 relative error {} > {tol}", errors[1]);
        assert!(errors[1] < errors[0], "L={depth} theta={theta}: error did not shrink: {errors:?}");
    }
    // By hand (module docs), v = 2, u = 1, unit x, on the diagonal:
    // K/m = (3/2)(1 + theta^2)^{L-1} + (3/2)(L-1) theta^2 (1 + theta^2)^{L-2}.
    // L = 2, theta = 1/2: q_2 = 5/4, V_2 block (1/4)(1)(1) = 1/4, W_2 block (1/4)(1)(1/2)(1) = 1/8,
    // B_1 = 1 + (1/4)(2)(1)(1/2) = 5/4, W_1 block 5/8: 5/4 + 1/4 + 1/8 + 5/8 = 9/4.
    assert!((two_layer_ntk_entry(1.0, 1.0, 1.0, 2, 0.5, 2.0, 1.0) - 2.25).abs() < 1e-12);
    let (l, t2) = (7.0f64, 0.09f64);
    let want = 1.5 * (1.0 + t2).powf(l - 1.0) + 1.5 * (l - 1.0) * t2 * (1.0 + t2).powf(l - 2.0);
    assert!((two_layer_ntk_entry(1.0, 1.0, 1.0, 7, 0.3, 2.0, 1.0) - want).abs() < 1e-12 * want);
    // L = 1 and theta = 0 both leave a one-hidden-layer net: the FC kernel at L = 1.
    let fc1 = fc_ntk_entry(0.3, 1.0, 1.0, 1);
    assert!((two_layer_ntk_entry(0.3, 1.0, 1.0, 1, 1.0, 2.0, 1.0) - fc1).abs() < 1e-12);
    assert!((two_layer_ntk_entry(0.3, 1.0, 1.0, 9, 0.0, 2.0, 1.0) - fc1).abs() < 1e-12);
    // The branch is centred: unlike the one-layer branch, theta enters only squared, so the
    // kernel at theta and -theta agree (the recursion has no first-order term).
    let (a, b) =
        (two_layer_ntk_entry(0.3, 1.0, 0.8, 5, 0.4, 2.0, 1.0), two_layer_ntk_entry(0.3, 1.0, 0.8, 5, -0.4, 2.0, 1.0));
    assert!((a - b).abs() < 1e-15 * a);
}

#[test]
#[ignore = "heavy: about 4 minutes and 4 GiB (m = 4096, L = 32, 8 seeds per network); run with --ignored"]
fn analytic_ntk_matches_monte_carlo_at_m4096_l32() {
    // The full-size check, for both networks at the default theta = 1/L. Tolerance as
    // above: 3 sqrt(5 L_eff / (m S)) + 2% with L_eff = 1 + L theta^2 for the ResNet and L for
    // FC (0.058 and 0.23 here). Measured: ResNet 0.020, FC 0.102.
    let (_, dev) = cpu_f64();
    let (n, d, m, depth, seeds) = (5, 8, 4096, 32, 8u64);
    let x = sphere(n, d, 7);
    for arch in [Arch::Resnet, Arch::Fc] {
        let base = ModelConfig { arch, depth, width: m, ..Default::default() };
        let analytic = resgen_bounds::analytic::ntk(&base, &x, n, d).unwrap();
        let mut mean = Gram::zeros(n);
        for seed in 0..seeds {
            let net = Net::init(&ModelConfig { seed, ..base.clone() }, d, Precision::F64, &dev).unwrap();
            mean = mean.add(&empirical_ntk(&net, &x, n).normalized().scale(1.0 / seeds as f64));
        }
        let l_eff = match arch {
            Arch::Resnet => 1.0 + 1.0 / depth as f64,
            Arch::Fc => depth as f64,
            Arch::ResnetLearnedScale => unreachable!("the paper networks only"),
        };
        let tol = 3.0 * (5.0 * l_eff / (m as f64 * seeds as f64)).sqrt() + 0.02;
        let err = analytic.rel_diff(&mean);
        eprintln!("{arch:?}: relative error {err:.4} (tolerance {tol:.4})");
        assert!(err < tol, "{arch:?}: {err} > {tol}");
    }
}

#[test]
fn ntk_diagonal_for_the_step_size_matches_the_batched_kernel() {
    // Net::ntk_diagonal (one backward pass, used by train.step_scale = "ntk-trace") against the
    // diagonal of the batched empirical NTK, both networks; with a frozen output layer its
    // block is left out.
    let (_, dev) = resgen_tests::cpu_f64();
    let (n, d) = (7, 5);
    let (x, _) = resgen_tests::sphere(n, d, 3);
    for (arch, branch) in
        [(Arch::Resnet, Branch::OneLayer), (Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        for freeze_output in [false, true] {
            let cfg = ModelConfig { arch, branch, width: 24, depth: 3, seed: 4, freeze_output, ..Default::default() };
            let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
            let k = empirical_ntk(&net, &x, n);
            let diag = net.ntk_diagonal(net.upload(&x, n, d));
            for (i, got) in diag.iter().enumerate() {
                let want = k.total.at(i, i) - if freeze_output { k.per_layer[3].at(i, i) } else { 0.0 };
                assert!((got - want).abs() < 1e-10 * want, "{arch:?} frozen={freeze_output} i={i}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn forward_prediction_against_hand_values_and_a_wide_network() {
    use resgen_bounds::analytic::forward_prediction;
    let pi = std::f64::consts::PI;
    // L = 2, theta = 1/2, v = 2 (module docs): q_2 = 5/4 + 1/pi; h_2 - h_1 = theta relu(W_2 h_1)
    // has squared norm theta^2 (v/2) q_1 = 1/4, so the relative change is 1/2.
    let cfg = ModelConfig { depth: 2, theta: Theta("0.5".into()), ..Default::default() };
    let p = forward_prediction(&cfg).unwrap();
    assert!((p[1].0 - (1.25 + 1.0 / pi).sqrt()).abs() < 1e-12 && (p[1].1 - 0.5).abs() < 1e-12, "{p:?}");
    // FC: norms stay 1 and ||h_L - h_1|| -> sqrt(2 - 2/pi).
    let fc = forward_prediction(&ModelConfig { arch: Arch::Fc, depth: 4, ..Default::default() }).unwrap();
    assert!(fc.iter().all(|(q, _)| *q == 1.0) && (fc[3].1 - (2.0 - 2.0 / pi).sqrt()).abs() < 1e-12);
    // A wide ResNet (m = 4096, L = 16, theta = 1/sqrt(L)) is within a few percent of the limit.
    let (_, dev) = resgen_tests::cpu_f64();
    let (n, d) = (20, 10);
    let (x, _) = resgen_tests::sphere(n, d, 1);
    let cfg = ModelConfig { depth: 16, width: 4096, theta: Theta("1/sqrt(L)".into()), ..Default::default() };
    let pred = forward_prediction(&cfg).unwrap();
    let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
    let fw = net.forward_states(net.upload(&x, n, d));
    let h: Vec<Vec<f64>> = fw.hidden.into_iter().map(resgen_models::to_host).collect();
    let m = cfg.width;
    let (mut norm, mut change) = (0.0, 0.0);
    for i in 0..n {
        let (a, b) = (&h[15][i * m..(i + 1) * m], &h[0][i * m..(i + 1) * m]);
        norm += a.iter().map(|v| v * v).sum::<f64>().sqrt() / n as f64;
        let diff: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
        change += (diff / b.iter().map(|q| q * q).sum::<f64>()).sqrt() / n as f64;
    }
    assert!((norm / pred[15].0 - 1.0).abs() < 0.05, "||h_L|| {norm} vs {}", pred[15].0);
    assert!((change / pred[15].1 - 1.0).abs() < 0.05, "change {change} vs {}", pred[15].1);

    // Two-layer branches, by hand: q_l = (1 + theta^2)^{l-1} and <h_l, h_1> = 1 (V_l centred),
    // so at L = 3, theta = 1/2: ||h_3|| = 5/4 and ||h_3 - h_1|| = sqrt(25/16 - 1) = 3/4.
    let two = ModelConfig { depth: 3, theta: Theta("0.5".into()), branch: Branch::TwoLayer, ..Default::default() };
    let p = forward_prediction(&two).unwrap();
    assert!((p[2].0 - 1.25).abs() < 1e-12 && (p[2].1 - 0.75).abs() < 1e-12, "{p:?}");
    // And a wide two-layer network (m = 2048, L = 8, theta = 1/sqrt(L)) is within a few percent.
    let cfg = ModelConfig {
        depth: 8,
        width: 2048,
        theta: Theta("1/sqrt(L)".into()),
        branch: Branch::TwoLayer,
        ..Default::default()
    };
    let pred = forward_prediction(&cfg).unwrap();
    let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
    let fw = net.forward_states(net.upload(&x, n, d));
    let h: Vec<Vec<f64>> = fw.hidden.into_iter().map(resgen_models::to_host).collect();
    let m = cfg.width;
    let (mut norm, mut change) = (0.0, 0.0);
    for i in 0..n {
        let (a, b) = (&h[7][i * m..(i + 1) * m], &h[0][i * m..(i + 1) * m]);
        norm += a.iter().map(|v| v * v).sum::<f64>().sqrt() / n as f64;
        let diff: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
        change += (diff / b.iter().map(|q| q * q).sum::<f64>()).sqrt() / n as f64;
    }
    assert!((norm / pred[7].0 - 1.0).abs() < 0.05, "two-layer ||h_L|| {norm} vs {}", pred[7].0);
    assert!((change / pred[7].1 - 1.0).abs() < 0.05, "two-layer change {change} vs {}", pred[7].1);
}

#[test]
fn route_radius_rounds_up_on_the_grid_and_counts_the_union() {
    use resgen_bounds::defaults::radius_grid;
    use resgen_bounds::evaluate::grid_radius_at_least;
    let g = radius_grid();
    assert_eq!(g.len(), 20);
    // 0.3 lies between 2^-2 and 2^-1.5: rounded up to 2^-1.5, union over the 20 grid radii.
    let (r, count) = grid_radius_at_least(0.3, &g);
    assert!((r - 2f64.powf(-1.5)).abs() < 1e-12 && count == 20);
    // 200 > 2^7.5 = 181.02: the sequence continues to 2^8 = 256, one radius more.
    let (r, count) = grid_radius_at_least(200.0, &g);
    assert!((r - 256.0).abs() < 1e-9 && count == 21, "{r} {count}");
}

#[test]
fn lambda_max_upper_bound_holds_even_when_the_power_iteration_stalls() {
    use resgen_bounds::linalg::lambda_max_eig;
    // K = 1 u u^T + 0.5 v v^T with v the iteration's start vector (its documented formula,
    // 1 + 0.37 sin(1.618 i), normalized) and u orthogonal to it: the iteration starts on an
    // eigenvector, the Rayleigh quotient stays at 0.5 and "converges" there, below
    // lambda_max = 1. The certified bound max(rho + r, sqrt(||K||_F^2 - (rho - r)^2)) is
    // sqrt(1.25 - 0.25) = 1 exactly.
    let mut v: Vec<f64> = (0..2).map(|i| 1.0 + 0.37 * ((i as f64 * 1.618).sin())).collect();
    let nv = (v[0] * v[0] + v[1] * v[1]).sqrt();
    v.iter_mut().for_each(|a| *a /= nv);
    let u = [-v[1], v[0]];
    let data = (0..4).map(|ij| 1.0 * u[ij / 2] * u[ij % 2] + 0.5 * v[ij / 2] * v[ij % 2]).collect();
    let k = Gram { n: 2, data };
    let e = lambda_max_eig(&k);
    assert!((e.value - 0.5).abs() < 1e-9, "the iteration stalls at 0.5: {e:?}");
    assert!(e.upper >= 1.0 - 1e-12 && e.upper <= 1.0 + 1e-9, "{e:?}");
    // On a kernel with a dominant eigenvalue the bound is tight: K = diag(3, 1, 0.5) rotated
    // by the Householder reflection H = I - 2 w w^T / (w^T w), w = (1, 2, 2).
    let w = [1.0, 2.0, 2.0];
    let h = |i: usize, j: usize| f64::from(u8::from(i == j)) - 2.0 * w[i] * w[j] / 9.0;
    let diag = [3.0, 1.0, 0.5];
    let data = (0..9).map(|ij| (0..3).map(|t| h(ij / 3, t) * diag[t] * h(t, ij % 3)).sum()).collect();
    let e = lambda_max_eig(&Gram { n: 3, data });
    assert!(e.converged && (e.value - 3.0).abs() < 1e-9 && e.upper >= 3.0 && e.upper < 3.0 + 1e-6, "{e:?}");
}

#[test]
fn kernel_predictors_against_hand_values_and_the_linearized_network() {
    use resgen_bounds::predictor::*;
    // Two GD steps in function space by hand: K = diag(2, 1), y = (1, -1), f0 = 0, eta = 1.
    // Step 1: g = -y sigmoid(-y f) / 2 = (-1/4, 1/4), f = -K g = (1/2, -1/4).
    // Step 2: g_1 = -sigmoid(-1/2) / 2, g_2 = sigmoid(-1/4) / 2; f = f - K g.
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let k = Gram { n: 2, data: vec![2.0, 0.0, 0.0, 1.0] };
    // One test point with K(x_t, X) = (1, 1).
    let (f, ft) = linearized_gd(&k, &[1.0, 1.0], &[1.0, -1.0], (&[0.0, 0.0], &[0.0]), 1.0, 2).unwrap();
    let (g1, g2) = (-sig(-0.5) / 2.0, sig(-0.25) / 2.0);
    let want = [0.5 - 2.0 * g1, -0.25 - g2];
    assert!((f[0] - want[0]).abs() < 1e-15 && (f[1] - want[1]).abs() < 1e-15, "{f:?} vs {want:?}");
    // The test point moves by -K(x_t, X) g at each step: -(-1/4 + 1/4) - (g1 + g2).
    assert!((ft[0] + (g1 + g2)).abs() < 1e-15, "{ft:?}");
    // Outputs that overflow are reported with their step: K = 8 I, eta = 1e308 gives
    // f_1 = 1e308 * 8 / 4 = 2e308 = inf.
    let k8 = Gram { n: 2, data: vec![8.0, 0.0, 0.0, 8.0] };
    assert_eq!(linearized_gd(&k8, &[1.0, 1.0], &[1.0, -1.0], (&[0.0, 0.0], &[0.0]), 1e308, 5).unwrap_err(), 1);
    // Kernel regression: K = 2 I gives alpha = y / 2, so K(x_t, X) alpha = (1 - 1) / 2 = 0 for
    // (1, 1) and 1 for (1, -1).
    let krr = kernel_regression(&Gram { n: 2, data: vec![2.0, 0.0, 0.0, 2.0] }, &[1.0, 1.0, 1.0, -1.0], &[1.0, -1.0])
        .unwrap();
    // (Through a Cholesky factor sqrt(2): equal to rounding.)
    assert!(krr[0].abs() < 1e-15 && (krr[1] - 1.0).abs() < 1e-15, "{krr:?}");
    // Agreement: differences (0, 2, 0, 0): rmse sqrt(4 / 4) = 1; one sign of four differs.
    assert_eq!(agreement(&[1.0, 1.0, -1.0, 2.0], &[1.0, -1.0, -1.0, 2.0]), (1.0, 0.25));

    // On a real network: the cross kernel is the off-diagonal block of the kernel on all points,
    // over the trained layers only; one function-space step equals the linearized network at
    // W0 - eta grad L_S(W0) (the network's and its linearization's gradients agree at W0).
    let (_, dev) = cpu_f64();
    let (n, nt, d) = (8, 4, 5);
    let (mut x, mut y) = resgen_tests::sphere(n + nt, d, 13);
    let xt = x.split_off(n * d);
    y.truncate(n);
    for (arch, branch, freeze_output) in [
        (Arch::Resnet, Branch::OneLayer, false),
        (Arch::Fc, Branch::OneLayer, true),
        (Arch::Resnet, Branch::TwoLayer, false),
    ] {
        let cfg = ModelConfig { arch, branch, width: 16, depth: 3, seed: 2, freeze_output, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
        let (ktr, kx) = train_and_cross_kernels(&net, &x, n, &xt, nt);
        let all: Vec<f64> = x.iter().chain(&xt).copied().collect();
        let full = empirical_ntk(&net, &all, n + nt);
        let frozen = if freeze_output { Some(&full.per_layer[cfg.depth]) } else { None };
        let want = |i: usize, j: usize| full.total.at(i, j) - frozen.map_or(0.0, |k| k.at(i, j));
        for i in 0..n + nt {
            for j in 0..n {
                let got = if i < n { ktr.at(i, j) } else { kx[(i - n) * n + j] };
                assert!((got - want(i, j)).abs() < 1e-10 * want(i, i).abs(), "{arch:?} {branch:?} ({i},{j})");
            }
        }
        let eta = 0.3 / ktr.trace() * n as f64;
        let f0 = net.predict(net.upload(&x, n, d));
        let f0t = net.predict(net.upload(&xt, nt, d));
        let (_, ft1) = linearized_gd(&ktr, &kx, &y, (&f0, &f0t), eta, 1).unwrap();
        let (_, grads) = net.loss_grads(net.upload(&x, n, d), &y);
        let w1: Vec<Vec<f64>> = net
            .host_weights()
            .into_iter()
            .zip(grads)
            .map(|(w, g)| match g {
                Some(g) => w.iter().zip(resgen_models::to_host(g)).map(|(a, b)| a - eta * b).collect(),
                None => w,
            })
            .collect();
        let feat = features::grad_features(&net, net.upload(&xt, nt, d));
        let lin = features::linearized_outputs(&net, &feat, &w1);
        for (a, b) in ft1.iter().zip(&lin) {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "{arch:?} {branch:?}: {a} vs {b}");
        }
    }
}
