//! Training: reproducibility, reaching zero training error, divergence handling, configs.

use resgen_models::BackendKind;
use resgen_train::{ConfigError, RunConfig, RunOptions, StopReason, train_run};

fn sphere_cfg(extra: &[&str]) -> RunConfig {
    let text = r#"
        [data]
        source = "sphere"
        d = 10
        n_train = 60
        n_test = 200
        [model]
        width = 64
        depth = 3
        [train]
        nu = 4.0
        iterations = 300
        log_every = 25
        save_weights = false
    "#;
    let over: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    RunConfig::from_toml_str(text, "test.toml", &over).unwrap()
}

fn opts(dir: &std::path::Path, backend: BackendKind) -> RunOptions {
    RunOptions { backend, out: Some(dir.to_path_buf()), quiet: true, name: "t".into() }
}

#[test]
fn same_seed_same_config_gives_identical_metrics_csv() {
    let cfg = sphere_cfg(&["train.iterations=40", "train.log_every=10"]);
    for (b, _) in resgen_tests::backends() {
        let a = tempfile::tempdir().unwrap();
        let c = tempfile::tempdir().unwrap();
        train_run(&cfg, &opts(a.path(), b)).unwrap();
        train_run(&cfg, &opts(c.path(), b)).unwrap();
        let ma = std::fs::read_to_string(a.path().join("metrics.csv")).unwrap();
        let mc = std::fs::read_to_string(c.path().join("metrics.csv")).unwrap();
        assert_eq!(ma, mc, "{b}: two runs of one config differ");
        assert_eq!(ma.lines().count(), 1 + 5, "header + iterations 0, 10, 20, 30, 40");
        let other = sphere_cfg(&["train.iterations=40", "train.log_every=10", "model.seed=1"]);
        let o = tempfile::tempdir().unwrap();
        train_run(&other, &opts(o.path(), b)).unwrap();
        assert_ne!(ma, std::fs::read_to_string(o.path().join("metrics.csv")).unwrap());
    }
}

#[test]
fn gd_drives_training_error_to_zero_on_a_separable_sphere_task() {
    // A half-space teacher is linearly separable; a width-64 network trained by full-batch GD
    // with eta = 4/m fits 60 points. Both networks, ResNet and FC.
    for arch in ["resnet", "fc"] {
        let cfg = sphere_cfg(&[&format!("model.arch={arch}")]);
        let dir = tempfile::tempdir().unwrap();
        let out = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap();
        let first = &out.rows[0];
        let last = out.rows.last().unwrap();
        assert!(first.train_error > 0.2, "{arch}: starts near chance ({})", first.train_error);
        assert_eq!(last.train_error, 0.0, "{arch}: training error after {} steps", last.iter);
        assert!(last.train_loss < first.train_loss / 2.0, "{arch}: loss {} -> {}", first.train_loss, last.train_loss);
        // The surrogate is below the loss (-l'(z) <= l(z)) and bounds half the 0-1 error.
        for r in &out.rows {
            assert!(r.train_surrogate <= r.train_loss + 1e-12);
            assert!(r.train_error <= 2.0 * r.train_surrogate + 1e-12);
        }
        // Distance from init: zero at iteration 0, positive after training.
        assert_eq!(first.dist_total(), 0.0);
        assert!(last.dist.iter().all(|d| *d > 0.0));
    }
}

#[test]
fn run_folder_holds_config_meta_metrics_distances_and_weights() {
    let cfg = sphere_cfg(&["train.iterations=20", "train.save_weights=true", "model.freeze_output=true"]);
    let dir = tempfile::tempdir().unwrap();
    let out = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap();
    for f in [
        "config.toml",
        "meta.json",
        "metrics.csv",
        "distances.csv",
        "weights_init.safetensors",
        "weights_final.safetensors",
        "weights_init.bpk",
        "weights_final.bpk",
    ] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    // The saved config reloads to the same config: the run can be repeated exactly.
    let again = RunConfig::load(&dir.path().join("config.toml"), &[]).unwrap();
    assert_eq!(again, cfg);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["status"], "completed");
    assert_eq!(meta["config_hash"], cfg.hash_hex());
    // metrics.csv columns: 8 fixed + 2 per layer (L + 1 = 4 layers).
    let text = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header.len(), 8 + 2 * 4);
    assert_eq!(header[0], "iter");
    assert_eq!(header[8], "dist_W1");
    assert_eq!(header[15], "sqrt_m_dist_W4");
    // The frozen output layer did not move; the final safetensors differ from the initial ones
    // exactly by the logged distance.
    let w0 = resgen_models::load_safetensors(&dir.path().join("weights_init.safetensors")).unwrap();
    let w1 = resgen_models::load_safetensors(&dir.path().join("weights_final.safetensors")).unwrap();
    let last = out.rows.last().unwrap();
    for (l, ((_, _, a), (_, _, b))) in w0.iter().zip(&w1).enumerate() {
        let d = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
        assert!((d - last.dist[l]).abs() <= 1e-4 * d.max(1e-6), "W{}: {d} vs {}", l + 1, last.dist[l]);
    }
    assert_eq!(last.dist[3], 0.0, "frozen W4 moved");
    let dist = std::fs::read_to_string(dir.path().join("distances.csv")).unwrap();
    assert!(dist.lines().nth(4).unwrap().starts_with("W4,false,0,0"), "{dist}");
}

#[test]
fn divergence_stops_with_the_iteration_and_keeps_logged_rows() {
    // eta = 1e7/m blows the outputs up within a few steps.
    let cfg = sphere_cfg(&["train.nu=1e7", "train.iterations=50", "train.log_every=1"]);
    let dir = tempfile::tempdir().unwrap();
    let e = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap_err().to_string();
    assert!(e.contains("diverged at iteration"), "{e}");
    let meta = std::fs::read_to_string(dir.path().join("meta.json")).unwrap();
    assert!(meta.contains("diverged"), "{meta}");
    let metrics = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert!(metrics.lines().count() >= 2, "the rows before divergence are kept:\n{metrics}");
}

#[test]
fn sgd_and_one_pass_sgd_run_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let cfg =
        sphere_cfg(&["train.algorithm=\"sgd\"", "train.batch_size=16", "train.iterations=30", "train.log_every=10"]);
    let out = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap();
    assert_eq!(out.rows.iter().map(|r| r.iter).collect::<Vec<_>>(), [0, 10, 20, 30]);
    let cfg = sphere_cfg(&["train.algorithm=one-pass-sgd", "train.iterations=1000", "train.log_every=20"]);
    let out = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap();
    assert_eq!(out.stop, StopReason::DataExhausted);
    assert_eq!(out.rows.last().unwrap().iter, 60, "one pass over n = 60 examples");
    // Cao-Gu step size: kappa R / (m sqrt(n)) = 1 * 1 / (64 * sqrt(60)).
    assert!((cfg.step_size(60) - 1.0 / (64.0 * 60f64.sqrt())).abs() < 1e-15);
}

#[test]
fn target_loss_stops_early() {
    let cfg = sphere_cfg(&["train.target_loss=0.3", "train.iterations=2000", "train.log_every=500"]);
    let dir = tempfile::tempdir().unwrap();
    let out = train_run(&cfg, &opts(dir.path(), BackendKind::default_compiled())).unwrap();
    assert_eq!(out.stop, StopReason::TargetLoss);
    let last = out.rows.last().unwrap();
    assert!(last.train_loss <= 0.3 && last.iter < 2000);
    // The previous logged row (if any) was above the target.
    assert!(out.rows.iter().rev().skip(1).all(|r| r.train_loss > 0.3));
}

#[test]
fn config_errors_name_the_key() {
    let e = RunConfig::from_toml_str("[model]\nwidht = 3\n", "c.toml", &[]).unwrap_err();
    assert!(
        matches!(e, ConfigError::Key { .. })
            && e.to_string().contains("model.widht")
            && e.to_string().contains("c.toml"),
        "{e}"
    );
    let e = RunConfig::from_toml_str("[model]\nwidth = \"wide\"\n", "c.toml", &[]).unwrap_err();
    assert!(e.to_string().contains("model.width"), "{e}");
    let e = RunConfig::from_toml_str("", "c.toml", &["train.nu=-1".into()]).unwrap_err();
    assert!(e.to_string().contains("train.nu"), "{e}");
    let e = RunConfig::from_toml_str("", "c.toml", &["model.theta=1/Q".into()]).unwrap_err();
    assert!(e.to_string().contains("model.theta"), "{e}");
    let e = RunConfig::from_toml_str("", "c.toml", &["nokey".into()]).unwrap_err();
    assert!(e.to_string().contains("key=value"), "{e}");
    let e = RunConfig::from_toml_str("[train\n", "c.toml", &[]).unwrap_err();
    assert!(e.to_string().contains("c.toml: invalid TOML"), "{e}");
    // Overrides take TOML literals and bare strings.
    let c =
        RunConfig::from_toml_str("", "c.toml", &["model.width=1024".into(), "model.theta=1/sqrt(L)".into()]).unwrap();
    assert_eq!(c.model.width, 1024);
    assert_eq!(c.model.theta.0, "1/sqrt(L)");
}

#[test]
fn asking_for_a_backend_not_compiled_names_the_feature() {
    for b in BackendKind::ALL.into_iter().filter(|b| !b.is_compiled()) {
        let e = b.device().unwrap_err().to_string();
        assert!(e.contains(&format!("--features {}", b.feature())), "{e}");
    }
    if BackendKind::Wgpu.is_compiled() {
        let e = BackendKind::Wgpu.checked_device(resgen_models::Precision::F64).unwrap_err().to_string();
        assert!(e.contains("does not support") || e.contains("no usable device"), "{e}");
    }
}

#[test]
fn gd_with_the_loss_on_the_device_logs_the_same_run() {
    // Trainer::set_device_loss (what GPU backends use): no read-back between logging steps,
    // the loss coefficients formed on the device in f32. Against the host path on every
    // backend: the same logged rows to f32 rounding over 40 steps; with a target loss the
    // host path is kept, so the stop comes at the same step; a diverging run still stops as
    // diverged (at the next logging step).
    for (b, dev) in resgen_tests::backends() {
        let run = |extra: &[&str], device_loss: bool| {
            let cfg = sphere_cfg(extra);
            let split = resgen_data::load(&cfg.data).unwrap();
            let mut t = resgen_train::Trainer::new(&cfg, split, &dev).unwrap();
            t.set_device_loss(device_loss);
            t.train(|_, _| {})
        };
        let steps = ["train.iterations=40", "train.log_every=10"];
        let ((host, s1), (device, s2)) = (run(&steps, false), run(&steps, true));
        assert_eq!((s1, s2), (StopReason::Iterations, StopReason::Iterations));
        assert_eq!(host.len(), 5);
        assert_eq!(host.len(), device.len());
        for (h, d) in host.iter().zip(&device) {
            assert_eq!(h.iter, d.iter);
            for (p, q) in [(h.train_loss, d.train_loss), (h.test_loss, d.test_loss), (h.dist_total(), d.dist_total())] {
                assert!((p - q).abs() <= 1e-4 * p.abs().max(1e-3), "{b} iter {}: {p} vs {q}", h.iter);
            }
        }
        // Logged rows move: the comparison above is not between two untrained networks.
        assert!(host[4].train_loss < host[0].train_loss - 0.05, "{b}: {:?}", host.iter().map(|m| m.train_loss));
        let target = ["train.target_loss=0.3", "train.iterations=300", "train.log_every=100"];
        let ((h, s1), (d, s2)) = (run(&target, false), run(&target, true));
        assert_eq!(s1, StopReason::TargetLoss, "{b}: the target is reached within the budget");
        assert_eq!((s2, h.last().unwrap().iter), (s1, d.last().unwrap().iter));
        let (_, stop) = run(&["train.iterations=30", "train.log_every=10", "train.nu=1e30"], true);
        assert!(matches!(stop, StopReason::Diverged(_)), "{b}: {stop:?}");
    }
}
