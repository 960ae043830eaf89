//! Smoke tests of the `resgen` binary: a real run on the bundled MNIST data and clear errors.

use std::process::Command;

fn resgen() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_resgen"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

#[test]
fn train_on_bundled_mnist_writes_a_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = resgen()
        .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
        .arg(dir.path())
        .args([
            "--set",
            "model.width=32",
            "--set",
            "train.iterations=30",
            "--set",
            "data.n_train=100",
            "--set",
            "data.n_test=100",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("30 iterations"), "{stdout}");
    let metrics = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    // Iterations 0, 10, 20, 30.
    assert_eq!(metrics.lines().count(), 5);
    let cfg = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(cfg.contains("width = 32") && cfg.contains("n_train = 100"), "{cfg}");
}

#[test]
fn errors_are_clear_and_exit_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[model]\ndepht = 3\n").unwrap();
    let out = resgen().args(["train", "--config"]).arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.toml") && err.contains("model.depht"), "{err}");

    let out = resgen().args(["train", "--config", "experiments/mnist-3v5.toml", "--device", "tpu"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown backend 'tpu'"));

    if !resgen_models::BackendKind::Cuda.is_compiled() {
        let out = resgen()
            .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--device", "cuda", "--out"])
            .arg(dir.path().join("c"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features cuda"));
    }
}

#[test]
fn ntk_and_bounds_commands_write_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let common = ["--set", "model.width=32", "--set", "data.n_train=40", "--set", "data.n_test=40"];
    let out = resgen()
        .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--set", "train.iterations=20", "--out"])
        .arg(&run)
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = resgen().args(["bounds", "--run"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = std::fs::read_to_string(run.join("bounds.csv")).unwrap();
    for key in [
        "test_error",
        "eps_lin_max",
        "rademacher_monte_carlo",
        "bound_cao_gu_ntk",
        "bound_rademacher_route",
        "bound_cao_gu_fc",
        "bound_frei_cao_gu_resnet",
    ] {
        assert!(table.contains(key), "{key} missing:\n{table}");
    }
    let ntk = dir.path().join("ntk");
    let out = resgen()
        .args([
            "ntk",
            "--config",
            "experiments/mnist-3v5.toml",
            "--analytic",
            "--npy",
            "--set",
            "model.arch=fc",
            "--out",
        ])
        .arg(&ntk)
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(ntk.join("summary.csv")).unwrap();
    assert!(summary.lines().next().unwrap().starts_with("kernel,normalization,n,trace,lambda_min"));
    // Rows: empirical total, one per layer (L + 1 = 5), analytic.
    assert_eq!(summary.lines().count(), 1 + 1 + 5 + 1);
    // A 40 x 40 f64 .npy: 128-byte header (10 + padded dict) then 40 * 40 * 8 bytes.
    let npy = std::fs::read(ntk.join("ntk_total.npy")).unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");
    assert_eq!(npy.len(), 128 + 40 * 40 * 8);
    // The ResNet's analytic kernel too: one more summary row, named "analytic".
    let out = resgen()
        .args(["ntk", "--config", "experiments/mnist-3v5.toml", "--analytic", "--out"])
        .arg(dir.path().join("r"))
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(dir.path().join("r/summary.csv")).unwrap();
    assert!(summary.lines().any(|l| l.starts_with("analytic,")), "{summary}");
}
