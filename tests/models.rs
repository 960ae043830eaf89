//! Oracle tests of the two networks: gradients against finite differences, initialization
//! statistics, forward-pass scale, the GD update, and identical `W0` on every backend.

use resgen_models::{Arch, Branch, Device, Model, ModelConfig, Net, Precision, Theta};
use resgen_tests::{backends, cpu_f64, rel, sphere};

fn small(arch: Arch) -> ModelConfig {
    ModelConfig { arch, width: 6, depth: 3, seed: 7, ..Default::default() }
}

/// `L_S` on the host in f64 from the network's outputs.
fn loss(net: &Net, x: &[f64], y: &[f64], d: usize) -> f64 {
    let f = net.predict(net.upload(x, y.len(), d));
    let z: Vec<f64> = f.iter().zip(y).map(|(a, b)| a * b).collect();
    resgen_models::logistic_loss_mean(&z)
}

#[test]
fn gradients_match_central_finite_differences_in_f64() {
    // Oracle: dL/dW_l[i, j] ~ (L(W + h e_ij) - L(W - h e_ij)) / 2h. Truncation is O(h^2) ~ 1e-12
    // relative; rounding is about eps |L| / h ~ 1e-16 * 0.7 / 1e-6 ~ 1e-10 absolute. So we
    // allow 1e-6 relative, or 1e-9 absolute for tiny gradients (the floor 1e-3 in `rel`).
    let (_, dev) = cpu_f64();
    let d = 5;
    let (x, y) = sphere(7, d, 3);
    for (arch, branch) in
        [(Arch::Resnet, Branch::OneLayer), (Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        // theta = 1/2 so that the two-layer branches' V_l gradients are not tiny.
        let cfg = ModelConfig { branch, theta: Theta("0.5".into()), ..small(arch) };
        let host = Net::init_host(&cfg, d);
        let net = Net::from_host(&cfg, d, &host, Precision::F64, &dev);
        let (_, grads) = net.loss_grads(net.upload(&x, y.len(), d), &y);
        let h = 1e-6;
        let mut checked = 0;
        for (li, g) in grads.iter().enumerate() {
            let g = resgen_models::to_host(g.clone().expect("every layer is trained"));
            assert_eq!(g.len(), host[li].len());
            for k in 0..host[li].len() {
                let mut plus = host.clone();
                plus[li][k] += h;
                let mut minus = host.clone();
                minus[li][k] -= h;
                let lp = loss(&Net::from_host(&cfg, d, &plus, Precision::F64, &dev), &x, &y, d);
                let lm = loss(&Net::from_host(&cfg, d, &minus, Precision::F64, &dev), &x, &y, d);
                let fd = (lp - lm) / (2.0 * h);
                assert!(
                    rel(g[k], fd, 1e-3) < 1e-6,
                    "{arch:?} {branch:?} {} entry {k}: backprop {} vs finite difference {fd}",
                    Net::matrix_name(cfg.depth, li + 1),
                    g[k]
                );
                checked += 1;
            }
        }
        // W1: 6x5, W2, W3: 6x6, W4: 1x6; two-layer branches add V2, V3: 6x6.
        let branches = if branch == Branch::TwoLayer && arch == Arch::Resnet { 72 } else { 0 };
        assert_eq!(checked, 30 + 36 + 36 + 6 + branches);
    }
}

#[test]
fn written_out_backprop_matches_burn_autodiff() {
    // The training step's gradients (Net::backprop, written out) against Burn's autodiff of the
    // same loss, in f64: both are exact up to rounding, so they agree to ~1e-13 relative.
    // Covered: both networks, theta = 1 (large branches) and 1/L, frozen input and output
    // layers (no gradient), and the outputs, which must equal the plain forward pass exactly.
    let (_, dev) = cpu_f64();
    let d = 9;
    let (x, y) = sphere(13, d, 8);
    let n = y.len() as f64;
    for (arch, branch) in
        [(Arch::Resnet, Branch::OneLayer), (Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        for (theta, freeze) in [("1/L", false), ("1", false), ("1/L", true)] {
            let cfg = ModelConfig {
                arch,
                branch,
                width: 11,
                depth: 4,
                seed: 6,
                theta: Theta(theta.into()),
                freeze_input: freeze,
                freeze_output: freeze,
                ..Default::default()
            };
            let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
            let (f, grads) = net.loss_grads(net.upload(&x, y.len(), d), &y);
            let (f_ad, grads_ad) = net.weighted_output_grads(net.upload(&x, y.len(), d), |f| {
                f.iter().zip(&y).map(|(fi, yi)| -yi / (1.0 + (yi * fi).exp()) / n).collect()
            });
            assert_eq!(f, net.predict(net.upload(&x, y.len(), d)), "{arch:?}: outputs differ from the forward pass");
            assert_eq!(f, f_ad);
            assert_eq!(grads.len(), Net::matrix_count(&cfg));
            assert_eq!(grads_ad.len(), Net::matrix_count(&cfg));
            for (l, (g, r)) in grads.into_iter().zip(grads_ad).enumerate() {
                assert_eq!(g.is_some(), net.is_trained(l + 1), "{arch:?} W{}: gradient presence", l + 1);
                assert_eq!(r.is_some(), net.is_trained(l + 1));
                let (Some(g), Some(r)) = (g, r) else { continue };
                let (g, r) = (resgen_models::to_host(g), resgen_models::to_host(r));
                let scale = r.iter().map(|v| v.abs()).fold(0.0, f64::max);
                let err = g.iter().zip(&r).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
                assert!(
                    scale > 0.0 && err <= 1e-12 * scale,
                    "{arch:?} {branch:?} theta {theta} {}: {err} vs {scale}",
                    Net::matrix_name(cfg.depth, l + 1)
                );
            }
        }
    }
}

#[test]
fn gradients_agree_across_backends_in_f32() {
    // Every compiled backend (f32) against the CPU f64 gradients: f32 rounding only.
    let (_, dev64) = cpu_f64();
    let d = 10;
    let (x, y) = sphere(16, d, 5);
    for arch in [Arch::Resnet, Arch::Fc] {
        let cfg = ModelConfig { arch, width: 32, depth: 4, seed: 1, ..Default::default() };
        let reference = Net::init(&cfg, d, Precision::F64, &dev64).unwrap();
        let (_, g64) = reference.loss_grads(reference.upload(&x, 16, d), &y);
        for (b, dev) in backends() {
            let net = Net::init(&cfg, d, Precision::F32, &dev).unwrap();
            let (_, g32) = net.loss_grads(net.upload(&x, 16, d), &y);
            for (l, (a, r)) in g32.into_iter().zip(&g64).enumerate() {
                let a = resgen_models::to_host(a.unwrap());
                let r = resgen_models::to_host(r.clone().unwrap());
                let scale = r.iter().map(|v| v.abs()).fold(0.0, f64::max);
                let err = a.iter().zip(&r).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
                assert!(err <= 1e-4 * scale, "{b} {arch:?} W{}: max error {err} vs scale {scale}", l + 1);
            }
        }
    }
}

#[test]
fn loss_coefficients_on_the_device_give_the_host_path_gradients() {
    // Net::loss_grads_on_device forms c_i = -y_i sigmoid(-y_i f_i) / n from the labels on the
    // device; the host path forms it in f64 from the read-back outputs. Same gradients: to
    // 1e-12 in f64 on the CPU, to f32 rounding on every compiled backend (GPU ones included).
    let d = 10;
    let (x, y) = sphere(16, d, 5);
    let cfgs = [
        ModelConfig { arch: Arch::Resnet, width: 32, depth: 4, seed: 1, ..Default::default() },
        ModelConfig { arch: Arch::Fc, width: 32, depth: 4, seed: 1, freeze_input: true, ..Default::default() },
        ModelConfig { width: 32, depth: 3, seed: 1, branch: Branch::TwoLayer, ..Default::default() },
    ];
    let (_, dev64) = cpu_f64();
    let mut runs: Vec<(String, Device, Precision, f64)> = vec![("cpu f64".into(), dev64, Precision::F64, 1e-12)];
    runs.extend(backends().into_iter().map(|(b, dev)| (format!("{b} f32"), dev, Precision::F32, 1e-5)));
    for cfg in &cfgs {
        for (name, dev, precision, tol) in &runs {
            let net = Net::init(cfg, d, *precision, dev).unwrap();
            let (_, host) = net.loss_grads(net.upload(&x, 16, d), &y);
            let yd = net.upload(&y, 16, 1);
            let device = net.loss_grads_on_device(net.upload(&x, 16, d), &yd);
            assert_eq!(host.len(), device.len());
            for (l, (a, b)) in host.into_iter().zip(device).enumerate() {
                match (a, b) {
                    (None, None) => {}
                    (Some(a), Some(b)) => {
                        let (a, b) = (resgen_models::to_host(a), resgen_models::to_host(b));
                        let scale = a.iter().map(|v| v.abs()).fold(0.0, f64::max);
                        let err = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
                        assert!(err <= tol * scale, "{name} {cfg:?} matrix {}: error {err}, scale {scale}", l + 1);
                    }
                    _ => panic!("{name}: matrix {} trained on one path only", l + 1),
                }
            }
        }
    }
}

#[test]
fn init_statistics_match_the_theory() {
    // Entries of W_1..W_L are N(0, 2/m), W_{L+1} is N(0, 1/m); with the 1/m option the residual
    // layers W_2..W_L are N(0, 1/m). For N entries the sample mean has sd sigma/sqrt(N) and the
    // sample variance has relative sd sqrt(2/N): we allow 5 of each.
    let d = 100;
    for (arch, resvar) in [
        (Arch::Resnet, resgen_models::ResidualVariance::TwoOverM),
        (Arch::Resnet, resgen_models::ResidualVariance::OneOverM),
        (Arch::Fc, resgen_models::ResidualVariance::TwoOverM),
    ] {
        // Two-layer branches add V_2, V_3 (matrices 5 and 6), N(0, 1/m), and keep W_l as above.
        let branch =
            if resvar == resgen_models::ResidualVariance::OneOverM { Branch::TwoLayer } else { Branch::OneLayer };
        let cfg = ModelConfig {
            arch,
            width: 256,
            depth: 3,
            residual_variance: resvar,
            branch,
            seed: 11,
            ..Default::default()
        };
        let host = Net::init_host(&cfg, d);
        assert_eq!(host.len(), if cfg.two_layer() { 6 } else { 4 });
        let m = 256.0;
        for (i, w) in host.iter().enumerate() {
            let l = i + 1;
            let expect =
                if l >= 4 || (l >= 2 && arch == Arch::Resnet && resvar == resgen_models::ResidualVariance::OneOverM) {
                    1.0 / m
                } else {
                    2.0 / m
                };
            let n = w.len() as f64;
            let mean = w.iter().sum::<f64>() / n;
            let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(mean.abs() < 5.0 * (expect / n).sqrt(), "{arch:?} W{l}: mean {mean}");
            assert!((var / expect - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "{arch:?} W{l}: var {var}, expected {expect}");
        }
    }
}

fn final_hidden_norm(cfg: &ModelConfig, dev: &resgen_models::Device, x: &[f64], n: usize, d: usize) -> Vec<f64> {
    let net = Net::init(cfg, d, Precision::F32, dev).unwrap();
    let fw = net.forward_states(net.upload(x, n, d));
    assert_eq!(fw.hidden.len(), cfg.depth);
    let h = resgen_models::to_host(fw.hidden.last().unwrap().clone());
    h.chunks(cfg.width).map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt()).collect()
}

#[test]
fn forward_scale_depth_free_with_theta_one_over_l() {
    // With N(0, 2/m) weights, E ||relu(W h)||^2 = ||h||^2, so ||h_1|| ~ 1 for ||x|| = 1.
    // ResNet, theta = 1/L: each block multiplies ||h||^2 by about (1 + c/L)^2, so ||h_L|| stays
    // within a constant (about e^c, c < 1) of 1 for every L. theta = 1: the branch is
    // non-negative like h, so ||h + b||^2 >= ||h||^2 + ||b||^2 ~ 2 ||h||^2 and ||h_L|| grows at
    // least like 2^((L-1)/2). FC: ||h_l|| ~ 1 at every depth (He scaling), up to fluctuations
    // of relative variance about 5/m per layer.
    let (_, dev) = cpu_f64();
    let d = 16;
    let (x, _) = sphere(8, d, 9);
    let m = 1024;
    for depth in [4, 16, 64] {
        let res = ModelConfig { arch: Arch::Resnet, width: m, depth, seed: 2, ..Default::default() };
        for norm in final_hidden_norm(&res, &dev, &x, 8, d) {
            assert!((0.5..3.0).contains(&norm), "ResNet theta=1/L, L={depth}: ||h_L|| = {norm}");
        }
        let fc = ModelConfig { arch: Arch::Fc, width: m, depth, seed: 2, ..Default::default() };
        for norm in final_hidden_norm(&fc, &dev, &x, 8, d) {
            assert!((1.0 / 3.0..3.0).contains(&norm), "FC, L={depth}: ||h_L|| = {norm}");
        }
    }
    let exploding = ModelConfig {
        arch: Arch::Resnet,
        width: m,
        depth: 16,
        theta: Theta("1".into()),
        seed: 2,
        ..Default::default()
    };
    for norm in final_hidden_norm(&exploding, &dev, &x, 8, d) {
        // 2^(15/2) ~ 181, allow sampling slack.
        assert!(norm > 100.0, "ResNet theta=1, L=16: ||h_L|| = {norm} should explode");
    }
}

#[test]
fn one_gd_step_moves_trained_layers_by_eta_grad_and_freezes_the_rest() {
    let d = 8;
    let (x, y) = sphere(12, d, 4);
    for (b, dev) in backends() {
        for (fi, fo) in [(false, false), (true, false), (false, true), (true, true)] {
            let cfg = ModelConfig { width: 16, depth: 3, freeze_input: fi, freeze_output: fo, ..Default::default() };
            let mut net = Net::init(&cfg, d, Precision::F32, &dev).unwrap();
            let before = net.host_weights();
            let (_, grads) = net.loss_grads(net.upload(&x, 12, d), &y);
            let grads_host: Vec<Option<Vec<f64>>> =
                grads.iter().map(|g| g.clone().map(resgen_models::to_host)).collect();
            let eta = 0.5;
            net.step(grads, eta);
            let after = net.host_weights();
            for l in 1..=net.num_layers() {
                let frozen = (l == 1 && fi) || (l == net.num_layers() && fo);
                assert_eq!(net.is_trained(l), !frozen);
                match &grads_host[l - 1] {
                    None => {
                        assert!(frozen, "{b}: W{l} trained but got no gradient");
                        assert_eq!(before[l - 1], after[l - 1], "{b}: frozen W{l} moved");
                    }
                    Some(g) => {
                        assert!(!frozen, "{b}: frozen W{l} got a gradient");
                        assert!(g.iter().any(|v| *v != 0.0), "{b}: W{l} has an all-zero gradient");
                        for k in 0..g.len() {
                            let step = after[l - 1][k] - before[l - 1][k];
                            // f32: w - eta g is rounded once, error <= ulp(|w|) ~ 1.2e-7 |w|.
                            let tol = 2e-7 * before[l - 1][k].abs().max(eta * g[k].abs()) + 1e-12;
                            assert!(
                                (step + eta * g[k]).abs() <= tol,
                                "{b} W{l}[{k}]: moved {step}, expected {}",
                                -eta * g[k]
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn same_seed_gives_the_same_w0_on_every_backend() {
    // W0 is drawn on the host from ChaCha8 and uploaded: each backend must hold exactly the
    // f32 rounding of the host draws.
    let cfg = ModelConfig { width: 24, depth: 3, seed: 42, ..Default::default() };
    let d = 7;
    let host = Net::init_host(&cfg, d);
    assert_eq!(host, Net::init_host(&cfg, d), "host draws are deterministic");
    let other = Net::init_host(&ModelConfig { seed: 43, ..cfg.clone() }, d);
    assert_ne!(host, other, "a different seed gives different weights");
    for (b, dev) in backends() {
        let net = Net::init(&cfg, d, Precision::F32, &dev).unwrap();
        for (l, (w, h)) in net.host_weights().iter().zip(&host).enumerate() {
            let rounded: Vec<f64> = h.iter().map(|v| *v as f32 as f64).collect();
            assert_eq!(w, &rounded, "{b}: W{} differs from the host draw", l + 1);
        }
    }
}

#[test]
fn without_any_adapter_gpu_backends_are_skipped_with_a_message() {
    // Reruns a backend-looping test of this binary in a child process that sees no graphics
    // adapter at all: it must pass on the CPU backend and say that it skipped wgpu.
    if !resgen_models::BackendKind::Wgpu.is_compiled() {
        eprintln!("skipping: wgpu is not compiled in (build with --features wgpu)");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "models::same_seed_gives_the_same_w0_on_every_backend", "--nocapture", "--test-threads=1"])
        .envs(resgen_models::HIDE_ADAPTERS_ENV)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stderr.contains("skipping backend wgpu"), "no skip message:\n{stderr}");
}

#[test]
fn forward_matches_a_host_reference_on_every_backend() {
    // Oracle: the forward pass written out with plain loops in f64.
    let d = 6;
    let (x, _) = sphere(5, d, 8);
    for (arch, branch) in
        [(Arch::Resnet, Branch::OneLayer), (Arch::Fc, Branch::OneLayer), (Arch::Resnet, Branch::TwoLayer)]
    {
        let cfg = ModelConfig { arch, branch, width: 10, depth: 4, seed: 5, ..Default::default() };
        let host = Net::init_host(&cfg, d);
        let theta = cfg.theta_value();
        let reference: Vec<f64> = x
            .chunks(d)
            .map(|xi| {
                let mv = |w: &[f64], v: &[f64]| -> Vec<f64> {
                    w.chunks(v.len()).map(|r| r.iter().zip(v).map(|(a, b)| a * b).sum::<f64>()).collect()
                };
                let mut h: Vec<f64> = mv(&host[0], xi).into_iter().map(|v| v.max(0.0)).collect();
                for (l, w) in (2..=cfg.depth).zip(&host[1..cfg.depth]) {
                    let mut b: Vec<f64> = mv(w, &h).into_iter().map(|v| v.max(0.0)).collect();
                    if cfg.two_layer() {
                        // V_l = host[L + l - 1]
                        b = mv(&host[cfg.depth + l - 1], &b);
                    }
                    h = match arch {
                        Arch::Resnet => h.iter().zip(&b).map(|(p, q)| p + theta * q).collect(),
                        Arch::Fc => b,
                        Arch::ResnetLearnedScale => unreachable!("the paper networks only"),
                    };
                }
                10f64.sqrt() * mv(&host[cfg.depth], &h)[0]
            })
            .collect();
        for (b, dev) in backends() {
            let net = Net::from_host(&cfg, d, &host, Precision::F32, &dev);
            let f = net.predict(net.upload(&x, 5, d));
            for (p, q) in f.iter().zip(&reference) {
                assert!((p - q).abs() < 1e-5 * q.abs().max(1.0), "{b} {arch:?} {branch:?}: {p} vs {q}");
            }
        }
    }
}

#[test]
fn theta_forms_parse_and_bad_ones_are_rejected() {
    // Values by hand at L = 16: 1/L = 0.0625, 2/L = 0.125, 1/sqrt(L) = 0.25, 3/sqrt(L) = 0.75.
    for (text, v) in
        [("1/L", 0.0625), ("2/L", 0.125), ("1/sqrt(L)", 0.25), ("3/sqrt(L)", 0.75), ("1", 1.0), ("0.05", 0.05)]
    {
        assert_eq!(Theta(text.into()).value(16).unwrap(), v, "{text}");
    }
    for bad in ["1/M", "abc", "-1", "x/L"] {
        assert!(Theta(bad.into()).value(16).is_err(), "{bad} should be rejected");
    }
}

#[test]
fn safetensors_round_trip_keeps_every_weight() {
    let (_, dev) = cpu_f64();
    let cfg = ModelConfig { width: 8, depth: 2, ..Default::default() };
    let dir = tempfile::tempdir().unwrap();
    for precision in [Precision::F32, Precision::F64] {
        let net = Net::init(&cfg, 3, precision, &dev).unwrap();
        let path = dir.path().join("w.safetensors");
        resgen_models::save_safetensors(&Model::Paper(net.clone()), &path).unwrap();
        let back = resgen_models::load_safetensors(&path).unwrap();
        let names: Vec<&str> = back.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["W1", "W2", "W3"]);
        assert_eq!(back[0].1, vec![8, 3]);
        assert_eq!(back[2].1, vec![1, 8]);
        for ((_, _, v), w) in back.iter().zip(net.host_weights()) {
            assert_eq!(v, &w);
        }
        let bpk = dir.path().join("w.bpk");
        resgen_models::save_burnpack(&net, &bpk).unwrap();
        // Reloaded into a network of another seed, every weight comes back bit for bit.
        let other = Net::init(&ModelConfig { seed: 99, ..cfg.clone() }, 3, precision, &dev).unwrap();
        assert_ne!(other.host_weights(), net.host_weights());
        let back = resgen_models::load_burnpack(&other, &bpk).unwrap();
        assert_eq!(back.host_weights(), net.host_weights());
        // A file for another shape is an error naming it, not a panic.
        let wide = Net::init(&ModelConfig { width: 16, ..cfg.clone() }, 3, precision, &dev).unwrap();
        let e = resgen_models::load_burnpack(&wide, &bpk).unwrap_err().to_string();
        assert!(e.contains("w.bpk"), "{e}");
    }
    // Two-layer branches at depth 11: W1..W12, then V2..V11 by number (not V10, V11, V2, ...).
    let cfg = ModelConfig { width: 3, depth: 11, branch: Branch::TwoLayer, ..Default::default() };
    let net = Net::init(&cfg, 2, Precision::F64, &dev).unwrap();
    let path = dir.path().join("v.safetensors");
    resgen_models::save_safetensors(&Model::Paper(net.clone()), &path).unwrap();
    let back = resgen_models::load_safetensors(&path).unwrap();
    let names: Vec<String> = back.iter().map(|(n, _, _)| n.clone()).collect();
    let expect: Vec<String> = (1..=12).map(|k| format!("W{k}")).chain((2..=11).map(|l| format!("V{l}"))).collect();
    assert_eq!(names, expect);
    for ((_, _, v), w) in back.iter().zip(net.host_weights()) {
        assert_eq!(v, &w);
    }
}

#[test]
fn quiet_panics_never_leave_the_panic_hook_silenced() {
    // Concurrent probes used to swap the process-global panic hook (take, set silent,
    // restore), so two of them could restore each other's silent hook and leave it installed.
    // `quietly` wraps the hook once and silences only its own thread: after many concurrent
    // quiet panics, an ordinary panic still reaches the hook installed before.
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() == Some(&"loud") {
            SEEN.fetch_add(1, Ordering::SeqCst);
        } else {
            previous(info);
        }
    }));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..50 {
                    assert!(resgen_models::quietly(|| panic!("quiet")).is_err());
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(SEEN.load(Ordering::SeqCst), 0, "a quiet panic reached the hook");
    assert!(std::panic::catch_unwind(|| panic!("loud")).is_err());
    assert_eq!(SEEN.load(Ordering::SeqCst), 1, "an ordinary panic was silenced");
    // The value of a closure that does not panic comes back.
    assert_eq!(resgen_models::quietly(|| 7).unwrap(), 7);
}

#[test]
fn panics_from_gpu_runtime_code_are_told_apart_from_ours() {
    // A wgpu probe's device is created on cubecl's own thread; its panic is printed unless
    // the hook recognizes the runtime's source path (CI saw the cubecl-wgpu panic text leak
    // into `--device wgpu`'s error without this). Paths as the Cargo registry lays them out:
    let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
    use resgen_models::is_gpu_runtime_location as runtime;
    assert!(runtime(&format!("{registry}/cubecl-wgpu-0.11.3/src/runtime.rs")));
    assert!(runtime(&format!("{registry}/cubecl-runtime-0.11.3/src/client.rs")));
    assert!(runtime(&format!("{registry}/wgpu-core-26.0.1/src/instance.rs")));
    assert!(runtime("C:\\cargo\\git\\checkouts\\wgpu\\src\\lib.rs"));
    // Ours, the standard library's and other crates' are not, even when a file is named wgpu.
    assert!(!runtime("crates/resgen-models/src/backend.rs"));
    assert!(!runtime("crates/resgen-models/src/wgpu.rs"));
    assert!(!runtime("/rustc/abc/library/core/src/result.rs"));
    assert!(!runtime(&format!("{registry}/burn-ndarray-0.22.0/src/ops.rs")));
    assert!(!runtime("tests/models.rs"));
}

#[cfg(feature = "blas")]
mod blas_route {
    use resgen_models::gemm_crate as gemm;

    /// `dst := alpha dst + beta lhs rhs` by a triple loop in f64, the oracle.
    #[allow(clippy::too_many_arguments)]
    fn naive(m: usize, n: usize, k: usize, dst0: &[f64], lhs: &[f64], rhs: &[f64], alpha: f64, beta: f64) -> Vec<f64> {
        (0..m * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                alpha * dst0[ij] + beta * (0..k).map(|p| lhs[i * k + p] * rhs[p * n + j]).sum::<f64>()
            })
            .collect()
    }

    #[test]
    fn matches_the_triple_loop_in_every_layout() {
        // Under RESGEN_GEMM=rust this checks the pure-Rust kernels instead.
        if std::env::var("RESGEN_GEMM").map_or(true, |v| v != "rust") {
            assert_eq!(resgen_models::gemm_provider(), "mkl");
        }
        let (m, n, k) = (197, 203, 211); // m n k = 8,438,101 >= 192^3 = 7,077,888: the BLAS route
        let lhs: Vec<f64> = (0..m * k).map(|i| ((i * 7 % 13) as f64 - 6.0) / 7.0).collect();
        let rhs: Vec<f64> = (0..k * n).map(|i| ((i * 5 % 11) as f64 - 5.0) / 5.0).collect();
        let dst0: Vec<f64> = (0..m * n).map(|i| (i % 3) as f64).collect();
        let (alpha, beta) = (0.5, -2.0);
        let want = naive(m, n, k, &dst0, &lhs, &rhs, alpha, beta);
        // Every combination of row- or column-major storage for the three matrices (a
        // column-major copy is what a transposed view gives gemm).
        for layout in 0..8u32 {
            let (d_col, l_col, r_col) = (layout & 1 == 1, layout & 2 == 2, layout & 4 == 4);
            let store = |v: &[f64], rows: usize, cols: usize, col: bool| -> (Vec<f64>, isize, isize) {
                if col {
                    let t = (0..rows * cols).map(|x| v[(x % rows) * cols + x / rows]).collect();
                    (t, 1, rows as isize) // (data, row stride, column stride)
                } else {
                    (v.to_vec(), cols as isize, 1)
                }
            };
            let (l, l_rs, l_cs) = store(&lhs, m, k, l_col);
            let (r, r_rs, r_cs) = store(&rhs, k, n, r_col);
            let (mut d, d_rs, d_cs) = store(&dst0, m, n, d_col);
            let (mut d32, lf, rf): (Vec<f32>, Vec<f32>, Vec<f32>) = (
                d.iter().map(|x| *x as f32).collect(),
                l.iter().map(|x| *x as f32).collect(),
                r.iter().map(|x| *x as f32).collect(),
            );
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    d.as_mut_ptr(),
                    d_cs,
                    d_rs,
                    true,
                    l.as_ptr(),
                    l_cs,
                    l_rs,
                    r.as_ptr(),
                    r_cs,
                    r_rs,
                    alpha,
                    beta,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
                gemm::gemm(
                    m,
                    n,
                    k,
                    d32.as_mut_ptr(),
                    d_cs,
                    d_rs,
                    true,
                    lf.as_ptr(),
                    l_cs,
                    l_rs,
                    rf.as_ptr(),
                    r_cs,
                    r_rs,
                    alpha as f32,
                    beta as f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            for i in 0..m {
                for j in 0..n {
                    let at = (i as isize * d_rs + j as isize * d_cs) as usize;
                    let w = want[i * n + j];
                    assert!((d[at] - w).abs() <= 1e-12 * (1.0 + w.abs()), "f64 layout {layout} ({i}, {j})");
                    assert!((d32[at] as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()), "f32 layout {layout} ({i}, {j})");
                }
            }
        }
    }

    /// `RESGEN_GEMM` picks the products that go to BLAS: a 4 x 4 x 4 product (64 multiply-adds,
    /// below the 192^3 threshold) only with `blas-all`, a 200 x 200 x 200 one (8,000,000) unless
    /// `rust`.
    /// CI runs the oracle tests of the small networks with `blas-all`, so this checks that they
    /// did go through BLAS there.
    #[test]
    fn the_route_follows_resgen_gemm() {
        let mode = std::env::var("RESGEN_GEMM").unwrap_or_else(|_| "blas".into());
        let routed = |s: usize| {
            let a = vec![1.0f64; s * s];
            let mut d = vec![0.0f64; s * s];
            let before = gemm::blas::calls();
            unsafe {
                gemm::gemm(
                    s,
                    s,
                    s,
                    d.as_mut_ptr(),
                    1,
                    s as isize,
                    false,
                    a.as_ptr(),
                    1,
                    s as isize,
                    a.as_ptr(),
                    1,
                    s as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            // Every entry of a product of all-ones s x s matrices is s.
            assert!(d.iter().all(|&v| v == s as f64), "{s} x {s} x {s} with RESGEN_GEMM={mode}");
            gemm::blas::calls() - before
        };
        let (small, large) = (routed(4), routed(200));
        match mode.as_str() {
            "blas-all" => assert_eq!((small, large), (1, 1)),
            "rust" => assert_eq!((small, large), (0, 0)),
            _ => assert_eq!((small, large), (0, 1)),
        }
    }
}
