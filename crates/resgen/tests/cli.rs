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
