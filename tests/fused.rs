//! The fused CPU step (host buffers kept across steps, the update folded into the
//! weight-gradient GEMM) against Burn's tensor step and against finite differences.

use resgen_models::{FusedNet, Net, Precision, logistic_coefficients, logistic_loss_mean};
use resgen_tests::{cpu_f64, max_rel, sphere};
use resgen_train::{RunConfig, StopReason, Trainer};

/// Small cousins of the benchmark's shapes (n/m/L/d 512/512/8/784, 1024/1024/4/784,
/// 1000/512/32/784, 256/2048/8/784): the same depths, the same ratios of n to m where they
/// matter (n = m, n = 2m, n = m / 8), inputs in R^24.
const COUSINS: [(usize, usize, usize); 4] = [(16, 16, 8), (32, 32, 4), (30, 16, 32), (8, 64, 8)];

/// The networks: FC, ResNet with one- and two-layer branches, each trained whole and with
/// frozen input and output layers.
const NETS: [(&str, &[&str]); 6] = [
    ("fc", &[]),
    ("resnet", &[]),
    ("resnet", &["model.branch=\"two-layer\""]),
    ("fc", &["model.freeze_input=true", "model.freeze_output=true"]),
    ("resnet", &["model.freeze_input=true", "model.freeze_output=true"]),
    ("resnet", &["model.branch=\"two-layer\"", "model.freeze_input=true", "model.freeze_output=true"]),
];

fn run_cfg((n, m, l): (usize, usize, usize), arch: &str, precision: &str, extra: &[&str]) -> RunConfig {
    let text = format!(
        r#"
        [data]
        source = "sphere"
        d = 24
        n_train = {n}
        n_test = 5
        [model]
        arch = "{arch}"
        width = {m}
        depth = {l}
        theta = "1/sqrt(L)"
        [train]
        nu = 0.5
        step_scale = "ntk-trace"
        iterations = 100
        log_every = 30
        precision = "{precision}"
        save_weights = false
        "#
    );
    let over: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    RunConfig::from_toml_str(&text, "fused.toml", &over).unwrap()
}

#[test]
fn fused_step_matches_the_tensor_step_over_100_steps() {
    // The same 100 GD steps (logged every 30, so the weights are written back and read in
    // again mid-run) by the fused step and by Burn's tensor step: every logged loss and
    // distance, and the final weights, agree to 1e-12 relative in f64 (measured: at most
    // 4e-15) and 2e-5 in f32, on every shape's small cousin, for every network, trained whole
    // and with frozen layers. Frozen matrices stay bit-identical to W0.
    //
    // The f32 bound is f32's rounding (6e-8) carried through 32 layers and 100 steps: the two
    // paths sum their products in different orders, and a pre-activation within rounding of
    // zero takes a different relu branch. Measured: at most 1.2e-5 (a depth-32 two-layer
    // branch). The step size is the kernel-normalized one (nu = 0.5): at eta = nu / m a
    // depth-32 FC network of width 16 oscillates, and there both f32 paths leave the f64
    // trajectory by 1e-2 within 30 steps, so no f32 comparison of them can be tight.
    let (_, dev) = cpu_f64();
    for (precision, tol) in [("f64", 1e-12), ("f32", 2e-5)] {
        for shape in COUSINS {
            for (arch, extra) in NETS {
                let cfg = run_cfg(shape, arch, precision, extra);
                let what = format!("{precision} {shape:?} {arch} {extra:?}");
                let split = resgen_data::load(&cfg.data).unwrap();
                let mut fused = Trainer::new(&cfg, split.clone(), &dev).unwrap();
                let mut tensor = Trainer::new(&cfg, split, &dev).unwrap();
                fused.set_fused(true);
                tensor.set_fused(false);
                assert!(fused.is_fused() && !tensor.is_fused(), "{what}");
                let ((rf, sf), (rt, st)) = (fused.train(|_, _| {}), tensor.train(|_, _| {}));
                assert_eq!((sf, st), (StopReason::Iterations, StopReason::Iterations), "{what}");
                assert_eq!(rf.len(), 5, "{what}: logged at 0, 30, 60, 90, 100");
                for (a, b) in rf.iter().zip(&rt) {
                    assert_eq!(a.iter, b.iter);
                    let pairs =
                        [(a.train_loss, b.train_loss), (a.test_loss, b.test_loss), (a.dist_total(), b.dist_total())];
                    for (p, q) in pairs {
                        let close = p == q || (p - q).abs() <= tol * p.abs().max(q.abs());
                        assert!(close, "{what} iter {}: {p} vs {q}", a.iter);
                    }
                }
                // The losses moved: the comparison is of a run that trained.
                assert!(
                    rf[4].train_loss < 0.99 * rf[0].train_loss,
                    "{what}: {} -> {}",
                    rf[0].train_loss,
                    rf[4].train_loss
                );
                let (wf, wt, w0) = (fused.net.host_weights(), tensor.net.host_weights(), fused.w0.host_weights());
                assert!(max_rel(&wt, &wf) < tol, "{what}: weights differ by {}", max_rel(&wt, &wf));
                for k in 1..=wf.len() {
                    assert_eq!(
                        fused.net.is_trained(k),
                        wf[k - 1] != w0[k - 1],
                        "{what}: matrix {k} moved iff it trains"
                    );
                }
            }
        }
    }
}

#[test]
fn fused_training_resumes_where_it_stopped() {
    // 60 steps in one call equal 30 + 30 in two (the buffers are reloaded from the network at
    // each call), to the last bit; and the network read between the calls is current.
    let (_, dev) = cpu_f64();
    let cfg = run_cfg((16, 16, 8), "resnet", "f32", &[]);
    let split = resgen_data::load(&cfg.data).unwrap();
    let mut one = Trainer::new(&cfg, split.clone(), &dev).unwrap();
    let mut two = Trainer::new(&cfg, split, &dev).unwrap();
    one.set_fused(true);
    two.set_fused(true);
    one.cfg.train.iterations = 60;
    two.cfg.train.iterations = 30;
    one.train(|_, _| {});
    let (rows, _) = two.train(|_, _| {});
    let mid = two.net.host_weights();
    assert_ne!(mid, two.w0.host_weights(), "the network read between calls has moved");
    assert_eq!(rows.last().unwrap().dist, two.net.distances(&two.w0), "the logged distance is the network's");
    two.train(|_, _| {});
    assert_eq!(one.net.host_weights(), two.net.host_weights());
}

#[test]
fn fused_gradients_match_finite_differences() {
    // One fused step with eta = 1 in f64 moves each trained W by minus the gradient of the mean
    // logistic loss; that gradient, read off as W0 - W1, against central differences of the
    // loss computed by the tensor path's own forward pass (h = 1e-6), at 6 entries of every
    // matrix: agreement to 1e-6 of the matrix's largest gradient entry. Frozen matrices do not
    // move.
    let (_, dev) = cpu_f64();
    let (n, d) = (10, 7);
    let (x, y) = sphere(n, d, 5);
    for (arch, extra) in NETS {
        let cfg = run_cfg((n, 12, 4), arch, "f64", extra).model;
        let net = Net::init(&cfg, d, Precision::F64, &dev).unwrap();
        let w0 = net.host_weights();
        let mut fused = FusedNet::new(&net, &x, n);
        let f = fused.forward();
        fused.backward_step(&logistic_coefficients(&f, &y), 1.0);
        let w1 = fused.host_weights();
        let loss = |host: &[Vec<f64>]| {
            let net = Net::from_host(&cfg, d, host, Precision::F64, &dev);
            let f = net.predict(net.upload(&x, n, d));
            let z: Vec<f64> = f.iter().zip(&y).map(|(a, b)| a * b).collect();
            logistic_loss_mean(&z)
        };
        let mut checked = 0;
        for k in 0..w0.len() {
            if !net.is_trained(k + 1) {
                assert_eq!(w0[k], w1[k], "{arch} {extra:?}: frozen matrix {} moved", k + 1);
                continue;
            }
            let grad: Vec<f64> = w0[k].iter().zip(&w1[k]).map(|(a, b)| a - b).collect();
            let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{arch}: matrix {} has a zero gradient", k + 1);
            let len = grad.len();
            for j in [0, len / 5, 2 * len / 5, len / 2, 4 * len / 5, len - 1] {
                let h = 1e-6;
                let (mut plus, mut minus) = (w0.clone(), w0.clone());
                plus[k][j] += h;
                minus[k][j] -= h;
                let fd = (loss(&plus) - loss(&minus)) / (2.0 * h);
                assert!(
                    (fd - grad[j]).abs() <= 1e-6 * scale,
                    "{arch} {extra:?}: matrix {} entry {j}: fused {} vs finite difference {fd}",
                    k + 1,
                    grad[j]
                );
                checked += 1;
            }
        }
        assert!(checked >= 12, "{arch}: {checked} entries checked");
    }
}

#[test]
fn thin_products_need_four_times_the_work_to_run_on_the_pool() {
    use resgen_models::runs_on_pool;
    let w = resgen_models::PARALLEL_MIN_WORK; // 192^3 = 7,077,888 multiply-adds
    assert_eq!(w, 7_077_888);
    // Square products: the threshold itself, one row short of it.
    assert!(runs_on_pool(192, 192, 192, w));
    assert!(!runs_on_pool(191, 192, 192, w));
    // 64 examples (not thin): 64 * 512 * 512 = 16.8M >= 7.1M, in every position of the product.
    assert!(runs_on_pool(64, 512, 512, w) && runs_on_pool(512, 512, 64, w) && runs_on_pool(512, 64, 512, w));
    // 50 examples (thin): 50 * 512^2 = 13.1M and 50 * 640^2 = 20.5M stay below 4 * 7.1M = 28.3M,
    // 50 * 768^2 = 29.5M reaches it; the thin side may be any of the three.
    assert!(!runs_on_pool(50, 512, 512, w) && !runs_on_pool(512, 512, 50, w) && !runs_on_pool(640, 50, 640, w));
    assert!(runs_on_pool(50, 768, 768, w) && runs_on_pool(768, 768, 50, w));
    // RESGEN_PARALLEL_MIN_WORK = 0 puts every product on the pool, a huge value none.
    assert!(runs_on_pool(1, 1, 1, 0));
    assert!(!runs_on_pool(4096, 4096, 4096, usize::MAX));
}
