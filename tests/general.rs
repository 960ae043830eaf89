//! The general path (any Burn module, trained and measured by autodiff) against the paper
//! networks' written-out fast path, and the third network, which has only the general path,
//! against finite differences.

use resgen_bounds::ntk;
use resgen_models::{Arch, Branch, Model, ModelConfig, Net, Network, Precision, Tensor};
use resgen_tests::{cpu_f64, max_rel, rel, sphere};
use resgen_train::{RunConfig, StopReason, Trainer};

/// A small f64 run: n = 12 on the sphere in R^5, m = 16, L = 4, 25 GD steps logged every 5.
fn run_cfg(arch: &str, extra: &[&str]) -> RunConfig {
    let text = format!(
        r#"
        [data]
        source = "sphere"
        d = 5
        n_train = 12
        n_test = 6
        [model]
        arch = "{arch}"
        width = 16
        depth = 4
        theta = "1/sqrt(L)"
        [train]
        nu = 2.0
        iterations = 25
        log_every = 5
        precision = "f64"
        save_weights = false
        "#
    );
    let over: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    RunConfig::from_toml_str(&text, "general.toml", &over).unwrap()
}

#[test]
fn both_paths_train_the_paper_networks_to_the_same_run_and_kernel() {
    // For each network (FC, ResNet with one- and two-layer branches), with and without frozen
    // input and output layers, and once by mini-batch SGD: the same 25 GD steps (the kernel-normalized step size, f64) on
    // the fast path (written-out backward pass) and on the general path (Burn's autodiff of the
    // same module), then the empirical NTK at the trained weights by the factorized fast path
    // and by per-example autodiff gradients. Logged losses, distances, weights and every
    // layer's kernel block agree to 1e-12 relative.
    let (_, dev) = cpu_f64();
    let cases: [(&str, &[&str]); 7] = [
        ("fc", &[]),
        ("resnet", &[]),
        ("resnet", &["model.branch=\"two-layer\""]),
        ("fc", &["model.freeze_input=true", "model.freeze_output=true"]),
        ("resnet", &["model.freeze_input=true", "model.freeze_output=true"]),
        ("resnet", &["model.branch=\"two-layer\"", "model.freeze_input=true"]),
        // Mini-batch SGD (batches of 4, reshuffled each epoch) through the same two paths.
        ("fc", &["train.algorithm=\"sgd\"", "train.batch_size=4"]),
    ];
    for (arch, extra) in cases {
        let cfg = run_cfg(arch, &extra.iter().chain(&["train.step_scale=\"ntk-trace\""]).copied().collect::<Vec<_>>());
        let split = resgen_data::load(&cfg.data).unwrap();
        let mut fast = Trainer::new(&cfg, split.clone(), &dev).unwrap();
        let net = Net::init(&cfg.model, split.train.d, Precision::F64, &dev).unwrap();
        let mut general = Trainer::with_model(&cfg, split.clone(), Model::general(net)).unwrap();
        assert!(fast.net.is_fast_path() && !general.net.is_fast_path());
        let what = format!("{arch} {extra:?}");
        assert!(rel(fast.eta(), general.eta(), 0.0) < 1e-12, "{what}: eta {} vs {}", fast.eta(), general.eta());
        let ((rf, sf), (rg, sg)) = (fast.train(|_, _| {}), general.train(|_, _| {}));
        assert_eq!((sf, sg), (StopReason::Iterations, StopReason::Iterations));
        assert_eq!(rf.len(), 6);
        for (a, b) in rf.iter().zip(&rg) {
            for (p, q) in [(a.train_loss, b.train_loss), (a.test_loss, b.test_loss)] {
                assert!(rel(p, q, 1e-300) < 1e-12, "{what} iter {}: loss {p} vs {q}", a.iter);
            }
            for (p, q) in a.dist.iter().zip(&b.dist) {
                assert!((p - q).abs() <= 1e-12 * a.dist_total().max(1e-300), "{what} iter {}: {p} vs {q}", a.iter);
            }
        }
        // Training moved the network: the comparison is not between two untouched copies.
        assert!(rf[5].train_loss < rf[0].train_loss - 0.01, "{what}: {} -> {}", rf[0].train_loss, rf[5].train_loss);
        let (wf, wg) = (fast.net.host_weights(), general.net.host_weights());
        assert!(max_rel(&wf, &wg) < 1e-12, "{what}: weights differ by {}", max_rel(&wf, &wg));
        for (k, (a, b)) in wf.iter().zip(&fast.w0.host_weights()).enumerate() {
            assert_eq!(a == b, !fast.net.is_trained(k + 1), "{what}: W{} moved iff it trains", k + 1);
        }
        let (n, x) = (split.train.n, &split.train.x);
        let kf = ntk::empirical_ntk(fast.net.as_net().unwrap(), x, n);
        let kg = ntk::model_ntk(&general.net, x, n);
        assert_eq!(kf.per_layer.len(), kg.per_layer.len());
        for (l, (a, b)) in kf.per_layer.iter().zip(&kg.per_layer).enumerate() {
            let d = a.rel_diff(b);
            assert!(d < 1e-12, "{what}: kernel block {} differs by {d}", l + 1);
        }
        // The linearization error at W0 (the outputs are of order 1, the error a difference of
        // two such numbers: agreement to 1e-11 absolute), not zero after 25 steps.
        let net0 = Net::init(&cfg.model, split.train.d, Precision::F64, &dev).unwrap();
        let w = fast.net.host_weights();
        let (a, b) = resgen_bounds::features::linearization_error(&net0, &w, x, n);
        let (c, e) = resgen_bounds::features::model_linearization_error(&Model::general(net0), &w, x, n);
        assert!((a - c).abs() < 1e-11 && (b - e).abs() < 1e-11, "{what}: eps_lin {a} {b} vs {c} {e}");
        assert!(a > 1e-6, "{what}: eps_lin {a}");
        // And the diagonal the step size is normalized by.
        let xt = fast.net.upload(x, n, split.train.d);
        for (p, q) in fast.net.ntk_diagonal(xt.clone()).iter().zip(general.net.ntk_diagonal(xt)) {
            assert!(rel(*p, q, 1e-300) < 1e-12, "{what}: ntk diagonal {p} vs {q}");
        }
    }
}

/// The learned-scale network of `cfg` with all of its parameters flattened (`W1..W{L+1}`,
/// then `alpha2..alphaL`), for finite differences.
fn perturbed_output(model: &Model, host: &[Vec<f64>], x: &[f64], n: usize, d: usize) -> Vec<f64> {
    let mut m = model.clone();
    m.set_host(host);
    m.predict(m.upload(x, n, d))
}

#[test]
fn the_learned_scale_network_starts_as_the_resnet_and_its_kernel_matches_finite_differences() {
    // The third network exists only as a Burn module (no derivative written anywhere). At
    // initialization (alpha_l = theta, the ResNet's W0) its outputs and the W-blocks of its
    // kernel are the ResNet's; every block of its kernel, the alpha blocks included, matches
    // K = J J^T with J from central differences of the outputs in f64 (step 1e-6, so a
    // truncation error of order 1e-12 and a rounding error of order 1e-10 relative).
    let (_, dev) = cpu_f64();
    let (n, d) = (5, 3);
    let (x, _) = sphere(n, d, 3);
    let cfg = ModelConfig { arch: Arch::ResnetLearnedScale, width: 6, depth: 3, seed: 4, ..Default::default() };
    let model = Model::init(&cfg, d, Precision::F64, &dev).unwrap();
    assert!(!model.is_fast_path());
    assert_eq!(model.names(), ["W1", "W2", "W3", "W4", "alpha2", "alpha3"]);
    let resnet = Net::init(&ModelConfig { arch: Arch::Resnet, ..cfg.clone() }, d, Precision::F64, &dev).unwrap();
    let xt = model.upload(&x, n, d);
    for (p, q) in model.predict(xt.clone()).iter().zip(resnet.predict(xt)) {
        assert!(rel(*p, q, 1e-300) < 1e-14, "{p} vs {q}");
    }
    let k = ntk::model_ntk(&model, &x, n);
    let kr = ntk::empirical_ntk(&resnet, &x, n);
    for l in 0..4 {
        assert!(k.per_layer[l].rel_diff(&kr.per_layer[l]) < 1e-12, "W{} block", l + 1);
    }
    // Finite differences over every parameter entry.
    let host = model.host_weights();
    let h = 1e-6;
    for (p, values) in host.iter().enumerate() {
        let mut jac = vec![vec![0.0; values.len()]; n];
        for e in 0..values.len() {
            let mut up = host.clone();
            up[p][e] += h;
            let mut down = host.clone();
            down[p][e] -= h;
            let (fu, fd) = (perturbed_output(&model, &up, &x, n, d), perturbed_output(&model, &down, &x, n, d));
            for i in 0..n {
                jac[i][e] = (fu[i] - fd[i]) / (2.0 * h);
            }
        }
        let block = &k.per_layer[p];
        let scale = block.data.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(scale > 0.0, "{} block is zero", model.names()[p]);
        for i in 0..n {
            for j in 0..n {
                let fd: f64 = jac[i].iter().zip(&jac[j]).map(|(a, b)| a * b).sum();
                let err = (fd - block.data[i * n + j]).abs() / scale;
                assert!(
                    err < 1e-7,
                    "{} block ({i}, {j}): autodiff {} vs finite differences {fd}",
                    model.names()[p],
                    block.data[i * n + j]
                );
            }
        }
    }
}

#[test]
fn the_learned_scale_network_trains_its_scales_and_keeps_frozen_layers() {
    // GD through autodiff moves every trained parameter (the scales too) and no frozen one, and
    // lowers the loss; a second run of the same config is bit-identical.
    let (_, dev) = cpu_f64();
    let cfg = run_cfg("resnet-learned-scale", &["model.freeze_input=true"]);
    let split = resgen_data::load(&cfg.data).unwrap();
    let run = || {
        let mut t = Trainer::new(&cfg, split.clone(), &dev).unwrap();
        let (rows, stop) = t.train(|_, _| {});
        (t, rows, stop)
    };
    let (t, rows, stop) = run();
    assert_eq!(stop, StopReason::Iterations);
    assert!(rows[5].train_loss < rows[0].train_loss - 0.01, "{} -> {}", rows[0].train_loss, rows[5].train_loss);
    let names = t.net.names();
    for (k, (a, b)) in t.net.host_weights().iter().zip(t.w0.host_weights()).enumerate() {
        let frozen = k == 0;
        assert_eq!(t.net.is_trained(k + 1), !frozen, "{}", names[k]);
        assert_eq!(*a == b, frozen, "{} moved iff it trains", names[k]);
    }
    let (t2, rows2, _) = run();
    assert_eq!(rows, rows2);
    assert_eq!(t.net.host_weights(), t2.net.host_weights());
}

#[test]
fn the_general_path_refuses_what_it_cannot_do_by_name() {
    let (_, dev) = cpu_f64();
    // A two-layer branch is not part of the learned-scale network.
    let cfg = ModelConfig {
        arch: Arch::ResnetLearnedScale,
        branch: Branch::TwoLayer,
        width: 4,
        depth: 2,
        ..Default::default()
    };
    let e = Model::init(&cfg, 3, Precision::F64, &dev).unwrap_err().to_string();
    assert!(e.contains("model.branch"), "{e}");
    // The written-out network cannot be built for it.
    let cfg = ModelConfig { arch: Arch::ResnetLearnedScale, width: 4, depth: 2, ..Default::default() };
    let e = Net::init(&cfg, 3, Precision::F64, &dev).unwrap_err().to_string();
    assert!(e.contains("resnet-learned-scale") && e.contains("general"), "{e}");
    // A kind that needs the fast path says so, naming the kinds that do run it.
    let e = resgen_experiments::Kind::Rademacher.check_arch(Arch::ResnetLearnedScale).unwrap_err().to_string();
    assert!(e.contains("rademacher") && e.contains("kernel-motion"), "{e}");
    assert!(resgen_experiments::Kind::KernelMotion.check_arch(Arch::ResnetLearnedScale).is_ok());
}

/// A user's own network, two linear maps `f(x) = x A b`, with nothing of resgen's but the
/// [`Network`] impl.
#[derive(burn::module::Module, Debug)]
struct Bilinear {
    first: burn::module::Param<Tensor<2>>,
    rest: Vec<burn::module::Param<Tensor<2>>>,
}

impl Network for Bilinear {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.first.val()).matmul(self.rest[0].val())
    }
}

#[test]
fn any_module_is_trained_and_its_kernel_measured_with_its_own_parameter_names() {
    // f(x) = x A b with A: [d, k], b: [k, 1]. By hand: df/dA = x b^T and df/db = A^T x, so the
    // kernel's blocks are K_A(i, j) = (x_i . x_j)(b . b) and K_b(i, j) = x_i^T A A^T x_j; one GD
    // step on sum_i c_i f(x_i) moves b by -lr A^T X^T c.
    let (_, dev) = cpu_f64();
    let (n, d, k) = (4, 3, 2);
    let (x, _) = sphere(n, d, 7);
    let a = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5];
    let b = [1.25, -0.5];
    let up = |v: &[f64], r: usize, c: usize| {
        burn::module::Param::from_tensor(Tensor::<2>::from_data(
            burn::tensor::TensorData::new(v.to_vec(), [r, c]),
            (&dev, Precision::F64.dtype()),
        ))
    };
    let net = Bilinear { first: up(&a, d, k), rest: vec![up(&b, k, 1)] };
    assert_eq!(Network::param_names(&net), ["first", "rest.0"]);
    let cfg = ModelConfig { width: k, depth: 1, ..Default::default() };
    let mut model = Model::General(resgen_models::GeneralNet::new(&cfg, d, Precision::F64, &dev, Box::new(net)));
    let kern = ntk::general_ntk(&model, &x, n);
    let xa: Vec<Vec<f64>> =
        (0..n).map(|i| (0..k).map(|c| (0..d).map(|r| x[i * d + r] * a[r * k + c]).sum()).collect()).collect();
    let bb: f64 = b.iter().map(|v| v * v).sum();
    for i in 0..n {
        for j in 0..n {
            let xx: f64 = (0..d).map(|r| x[i * d + r] * x[j * d + r]).sum();
            let kb: f64 = (0..k).map(|c| xa[i][c] * xa[j][c]).sum();
            assert!(rel(kern.per_layer[0].data[i * n + j], xx * bb, 1e-12) < 1e-13, "K_A ({i}, {j})");
            assert!(rel(kern.per_layer[1].data[i * n + j], kb, 1e-12) < 1e-13, "K_b ({i}, {j})");
        }
    }
    // One step with c = (1, -1, 0.5, 2) and lr = 0.1.
    let c = [1.0, -1.0, 0.5, 2.0];
    let (_, grads) = model.loss_grads_with(model.upload(&x, n, d), &c);
    model.step(grads, 0.1);
    let moved = &model.host_weights()[1];
    for col in 0..k {
        let g: f64 = (0..n).map(|i| c[i] * xa[i][col]).sum();
        assert!(rel(moved[col], b[col] - 0.1 * g, 1e-12) < 1e-13, "b[{col}]: {} vs {}", moved[col], b[col] - 0.1 * g);
    }
}
