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
fn cell_slots_take_the_spare_cores() {
    // Here, not in the suite: this process runs no sweep of its own, so no other test holds a
    // slot. Outside a sweep every core is spare; with one cell per pool thread none is, and
    // each slot gives its core back when dropped.
    use resgen_models::{CellSlot, spare_cores};
    let mut slots: Vec<CellSlot> = Vec::new();
    while spare_cores() {
        slots.push(CellSlot::take());
        assert!(slots.len() <= 4096, "every slot taken and still a spare core");
    }
    // rayon's pool has one thread per core unless RAYON_NUM_THREADS says otherwise.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        assert_eq!(slots.len(), std::thread::available_parallelism().unwrap().get());
    }
    slots.pop();
    assert!(spare_cores());
    slots.push(CellSlot::take());
    assert!(!spare_cores());
    drop(slots);
    assert!(spare_cores());
}

#[test]
fn the_tensor_step_is_part_of_a_runs_backend_identity() {
    // The fused CPU step (the default) and Burn's tensor step (RESGEN_STEP=tensor) round
    // differently, so a run records which one trained it, and sweeps never merge the two.
    let dir = tempfile::tempdir().unwrap();
    let backend = |step: Option<&str>, name: &str| {
        let mut c = resgen();
        c.args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
            .arg(dir.path().join(name))
            .args(["--set", "model.width=16", "--set", "train.iterations=3", "--set", "data.n_train=20"]);
        if let Some(step) = step {
            c.env("RESGEN_STEP", step);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let meta = std::fs::read_to_string(dir.path().join(name).join("meta.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&meta).unwrap();
        v["backend"].as_str().unwrap().to_string()
    };
    let fused = backend(None, "fused");
    assert!(fused == "flex" || fused == "flex+mkl", "{fused}");
    assert_eq!(backend(Some("fused"), "fused-named"), fused);
    assert_eq!(backend(Some("tensor"), "tensor"), format!("{fused}+tensor-step"));
}

#[test]
fn without_an_adapter_the_gpu_backend_is_a_clear_error() {
    // `resgen devices` says what each backend is; with every adapter hidden, a compiled wgpu
    // backend is reported unusable and `--device wgpu` fails with a message, not a panic.
    let out = resgen().arg("devices").envs(resgen_models::HIDE_ADAPTERS_ENV).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("flex     compiled in, usable"), "{stdout}");
    if !stdout.contains("wgpu     compiled in") {
        assert!(stdout.contains("wgpu     not compiled (enable the Cargo feature `wgpu`)"), "{stdout}");
        eprintln!("skipping the wgpu half: not compiled in (build with --features wgpu)");
        return;
    }
    assert!(stdout.contains("wgpu     compiled in, unusable here"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let out = resgen()
        .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--device", "wgpu", "--out"])
        .arg(dir.path())
        .envs(resgen_models::HIDE_ADAPTERS_ENV)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("wgpu") && stderr.contains("no usable device"), "{stderr}");
    assert!(stderr.contains("--device flex") && !stderr.contains("panicked"), "{stderr}");
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
fn an_experiment_parameter_out_of_range_fails_before_any_cell_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments/distance-from-init.toml");
    let text = std::fs::read_to_string(root).unwrap();
    assert!(text.contains("\ntarget_loss = 0.1\n"));
    let p = dir.path().join("x.toml");
    std::fs::write(&p, text.replace("\ntarget_loss = 0.1\n", "\ntarget_loss = -1\n")).unwrap();
    let (runs, results) = (dir.path().join("runs"), dir.path().join("results"));
    let out = resgen().arg("run").arg(&p).arg("--runs").arg(&runs).arg("--results").arg(&results).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr, format!("error: {}: params.target_loss: must be a finite number > 0, got -1\n", p.display()));
    assert!(!runs.exists() && !results.exists(), "a cell ran");
}

#[test]
fn a_malformed_bench_shape_names_the_flag_and_the_form() {
    for shape in ["abc", "8/16/2", "8/16/2/4/5", "8/0/2/4", "8/16/x/4"] {
        let out = resgen().args(["bench", "--shape", shape]).output().unwrap();
        assert!(!out.status.success(), "{shape}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("error: --shape {shape}: expected n/m/L/d, four positive integers (e.g. 512/512/8/784)\n")
        );
        assert!(out.stdout.is_empty(), "{shape}: the benchmark started");
    }
}

#[test]
fn an_unknown_gemm_route_is_a_one_line_error_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = resgen()
        .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
        .arg(dir.path().join("r"))
        .env("RESGEN_GEMM", "bogus")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: RESGEN_GEMM=bogus: expected blas (the default), blas-all or rust\n"
    );
    assert!(!dir.path().join("r").exists(), "training started");
    // The accepted values pass the check (`devices` does no training).
    for ok in ["blas", "blas-all", "rust"] {
        let out = resgen().arg("devices").env("RESGEN_GEMM", ok).output().unwrap();
        assert!(out.status.success(), "{ok}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn bad_cpu_step_settings_are_one_line_errors_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, message) in [
        ("RESGEN_STEP", "fast", "error: RESGEN_STEP=fast: expected fused (the default) or tensor\n"),
        (
            "RESGEN_PARALLEL_MIN_WORK",
            "1e6",
            "error: RESGEN_PARALLEL_MIN_WORK=1e6: expected a whole number of multiply-adds (default 7077888)\n",
        ),
    ] {
        let out = resgen()
            .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
            .arg(dir.path().join("r"))
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} was accepted");
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
        assert!(!dir.path().join("r").exists(), "{var}={value}: training started");
    }
    // The accepted values pass the check (`devices` does no training).
    for (var, ok) in [("RESGEN_STEP", "fused"), ("RESGEN_STEP", "tensor"), ("RESGEN_PARALLEL_MIN_WORK", "0")] {
        let out = resgen().arg("devices").env(var, ok).output().unwrap();
        assert!(out.status.success(), "{var}={ok}: {}", String::from_utf8_lossy(&out.stderr));
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
        "bound_cao_gu_ntk_inf",
        "bound_cg_fc_formula",
        "bound_fcg_resnet_formula",
        "bound_measured_rad",
        "r_star_measured_rad",
        "delta=0.05 c_eps=4 c_radius=1 c_conf=1 c_ntk=1",
    ] {
        assert!(table.contains(key), "{key} missing:\n{table}");
    }
    // Constants are options, recorded in the output; a bad one is an error naming it.
    let out = resgen().args(["bounds", "--delta", "0.1", "--c-eps", "2", "--run"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(run.join("bounds.csv")).unwrap().contains("delta=0.1 c_eps=2 "));
    let out = resgen().args(["bounds", "--delta", "2", "--run"]).arg(&run).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("delta"));
    // The kernel of a run folder: at its saved W0 (equal to the config's W0 up to the f32
    // rounding of the saved weights) and at its trained weights (moved by training).
    let trace = |summary: &std::path::Path| -> f64 {
        let text = std::fs::read_to_string(summary).unwrap();
        let row = text.lines().find(|l| l.starts_with("empirical,")).unwrap().to_string();
        row.split(',').nth(3).unwrap().parse().unwrap()
    };
    for at in ["init", "final"] {
        let out = resgen().args(["ntk", "--at", at, "--run"]).arg(&run).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = resgen()
        .args(["ntk", "--config", "experiments/mnist-3v5.toml", "--out"])
        .arg(dir.path().join("cfg-ntk"))
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (t_cfg, t_init, t_final) = (
        trace(&dir.path().join("cfg-ntk/summary.csv")),
        trace(&run.join("ntk-init/summary.csv")),
        trace(&run.join("ntk-final/summary.csv")),
    );
    assert!((t_init - t_cfg).abs() < 1e-5 * t_cfg, "{t_init} vs {t_cfg}");
    assert!((t_final - t_init).abs() > 1e-4 * t_init, "training did not move the kernel: {t_final} vs {t_init}");
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
    // A 40 x 40 f64 .npy: the magic, a header dict naming little-endian f64, C order and the
    // shape, padded to a multiple of 16 bytes (the format's rule), then 40 * 40 * 8 bytes.
    let npy = std::fs::read(ntk.join("ntk_total.npy")).unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let header_len = npy.len() - 40 * 40 * 8;
    assert_eq!(header_len % 16, 0, "{header_len}");
    let header = String::from_utf8_lossy(&npy[..header_len]);
    assert!(header.contains("'<f8'") && header.contains("False") && header.contains("(40, 40"), "{header}");
    // The payload is the CSV's matrix: entry (0, 0) equals the CSV's first value.
    let first = f64::from_le_bytes(npy[header_len..header_len + 8].try_into().unwrap());
    let out = resgen()
        .args(["ntk", "--config", "experiments/mnist-3v5.toml", "--set", "model.arch=fc", "--out"])
        .arg(dir.path().join("c"))
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = std::fs::read_to_string(dir.path().join("c/ntk_total.csv")).unwrap();
    let csv_first: f64 = csv.lines().next().unwrap().split(',').next().unwrap().parse().unwrap();
    assert_eq!(first, csv_first);
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

/// Writes a small gd-dynamics experiment (8 cells of about a second each) into `dir`.
fn small_experiment(dir: &std::path::Path) -> std::path::PathBuf {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments/gd-dynamics.toml");
    let mut text = std::fs::read_to_string(root).unwrap();
    text.push_str(
        r#"
[profiles.smoke]
set = { "train.iterations" = 1500, "train.log_every" = 100, "model.width" = 64 }
grid = { dataset = ["sphere"], "model.arch" = ["resnet", "fc"], "model.depth" = [4, 8] }
seeds = [0, 1]
"#,
    );
    let p = dir.join("small.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn results(runs: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for cell in std::fs::read_dir(runs.join("gd-dynamics")).into_iter().flatten() {
        let p = cell.unwrap().path().join("result.json");
        if let Ok(t) = std::fs::read_to_string(&p) {
            out.push((p, t));
        }
    }
    out
}

#[test]
fn a_killed_sweep_resumes_without_redoing_finished_cells() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small_experiment(dir.path());
    let (runs, res) = (dir.path().join("runs"), dir.path().join("results"));
    let args = |c: &mut Command| {
        c.arg("run").arg(&exp).args(["--profile", "smoke", "--quiet", "--runs"]).arg(&runs).arg("--results").arg(&res);
    };
    // Kill it at a known point: the test hook ends the process (no unwinding or cleanup, like
    // a kill) once 3 cells have finished, one cell at a time.
    let mut first = resgen();
    args(&mut first);
    let out = first.args(["--jobs", "1"]).env("RESGEN_ABORT_AFTER_CELLS", "3").output().unwrap();
    assert_eq!(out.status.code(), Some(137), "the hook did not stop the sweep");
    let done = results(&runs);
    assert_eq!(done.len(), 3, "{} cells finished before the abort", done.len());
    // The rerun skips exactly the finished cells, leaves their results untouched, and completes
    // the table.
    let mut second = resgen();
    args(&mut second);
    let out = second.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "8 cells, {} already finished, 0 stale, {} run, 0 failed",
            done.len(),
            8 - done.len()
        )),
        "{stdout}"
    );
    for (p, t) in &done {
        assert_eq!(&std::fs::read_to_string(p).unwrap(), t, "{} was rewritten", p.display());
    }
    assert_eq!(results(&runs).len(), 8);
    let table = std::fs::read_to_string(res.join("smoke/small.csv")).unwrap();
    // 4 grid points x 16 logged iterations (0, 100, ..., 1500), each averaged over 2 seeds.
    assert_eq!(table.lines().count(), 1 + 4 * 16, "{table}");
    assert!(table.lines().skip(1).all(|l| l.contains(",2,")));
    // Shards: 3 disjoint slices; merging afterwards sees every cell.
    let (runs2, res2) = (dir.path().join("runs2"), dir.path().join("results2"));
    for k in 1..=3 {
        let out = resgen()
            .arg("run")
            .arg(&exp)
            .args(["--profile", "smoke", "--quiet", "--shard", &format!("{k}/3"), "--runs"])
            .arg(&runs2)
            .arg("--results")
            .arg(&res2)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(!res2.join("smoke/small.csv").exists(), "a shard must not write a partial table");
    }
    let out = resgen()
        .arg("merge")
        .arg(&exp)
        .args(["--profile", "smoke", "--runs"])
        .arg(&runs2)
        .arg("--results")
        .arg(&res2)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(res2.join("smoke/small.csv")).unwrap(), table);
    // Reproducibility: every cell was computed twice, by different processes, on one machine
    // and one build; the raw per-cell values (full precision) are bit-identical.
    let raw = |r: &std::path::Path| std::fs::read_to_string(r.join("smoke/small.cells.csv")).unwrap();
    assert_eq!(raw(&res2), raw(&res));
    assert!(res2.join("smoke/small.meta.json").exists());
}

#[test]
fn bounds_use_the_saved_initialization_and_reject_mismatched_weights() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // From a directory outside the source tree, with the bundled MNIST (compiled in) and no
    // test set: the test error is NaN in metrics.csv and in bounds.csv alike.
    let out = Command::new(env!("CARGO_BIN_EXE_resgen"))
        .current_dir(dir.path())
        .args(["train", "--config"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments/mnist-3v5.toml"))
        .args(["--quiet", "--set", "model.width=16", "--set", "data.n_train=30", "--set", "data.n_test=0"])
        .args(["--set", "train.iterations=5", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "test_error").unwrap();
    assert!(metrics.lines().skip(1).all(|l| l.split(',').nth(col) == Some("NaN")), "{metrics}");
    let out = resgen().args(["bounds", "--run"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = std::fs::read_to_string(run.join("bounds.csv")).unwrap();
    assert!(table.contains("\ntest_error,NaN\n") && table.contains("\ngeneralization_gap,NaN\n"), "{table}");
    // W0 comes from weights_init.safetensors: with it gone, an error names the file.
    let init = run.join("weights_init.safetensors");
    let saved = std::fs::read(&init).unwrap();
    std::fs::remove_file(&init).unwrap();
    let out = resgen().args(["bounds", "--run"]).arg(&run).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("weights_init.safetensors: not found"), "{err}");
    // Proof that W0 is read from the file, not re-drawn from the seed: with the final weights
    // saved as the initialization, the measured radius is exactly 0 (and positive with the
    // real file back).
    let radius = |table: &str| -> f64 {
        table.lines().find_map(|l| l.strip_prefix("radius_R_measured,")).unwrap().parse().unwrap()
    };
    assert!(radius(&table) > 0.0, "{table}");
    std::fs::copy(run.join("weights_final.safetensors"), &init).unwrap();
    let out = resgen().args(["bounds", "--run"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(radius(&std::fs::read_to_string(run.join("bounds.csv")).unwrap()), 0.0);
    std::fs::write(&init, &saved).unwrap();
    // Weights that disagree with config.toml are an error naming the matrix, not a panic.
    let cfg = std::fs::read_to_string(run.join("config.toml")).unwrap();
    std::fs::write(run.join("config.toml"), cfg.replace("width = 16", "width = 8")).unwrap();
    let out = resgen().args(["bounds", "--run"]).arg(&run).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("W1 has shape [16, 784]") && err.contains("[8, 784]"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn kernel_predict_compares_a_run_with_its_linearization_per_point() {
    // A two-layer-branch ResNet trained for 5 GD steps; kernel-predict replays them on its
    // linearization. At width 512 five small steps are nearly linear: the output difference
    // is a small fraction of how far the outputs moved.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = resgen()
        .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet"])
        .args(["--set", "model.width=512", "--set", "model.depth=3", "--set", "model.branch=\"two-layer\""])
        .args(["--set", "data.n_train=30", "--set", "data.n_test=20", "--set", "train.iterations=5", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = resgen().args(["kernel-predict", "--run"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(run.join("kernel-predict-summary.csv")).unwrap();
    let get =
        |k: &str| -> f64 { summary.lines().find_map(|l| l.strip_prefix(&format!("{k},"))).unwrap().parse().unwrap() };
    assert_eq!(get("steps"), 5.0);
    let per_point = std::fs::read_to_string(run.join("kernel-predict.csv")).unwrap();
    assert_eq!(per_point.lines().count(), 1 + 30 + 20);
    assert!(per_point.starts_with("split,index,y,f_net,f_lin,f_krr,f_init\n"), "{per_point}");
    // RMS of the network's own output change on the test points, from the per-point file.
    let (mut moved, mut diff, mut count) = (0.0, 0.0, 0.0);
    for l in per_point.lines().filter(|l| l.starts_with("test,")) {
        let v: Vec<f64> = l.split(',').skip(2).map(|s| s.parse().unwrap()).collect();
        moved += (v[1] - v[4]).powi(2);
        diff += (v[1] - v[2]).powi(2);
        count += 1.0;
    }
    let (moved, diff) = ((moved / count).sqrt(), (diff / count).sqrt());
    assert!((diff - get("rmse_test")).abs() < 1e-9 * (1.0 + diff), "{diff} vs {summary}");
    assert!(moved > 0.0 && diff < 0.1 * moved, "rmse {diff} vs output change {moved}");
    // SGD runs are refused with the field named.
    let cfg = std::fs::read_to_string(run.join("config.toml")).unwrap();
    std::fs::write(run.join("config.toml"), cfg.replace("algorithm = \"gd\"", "algorithm = \"sgd\"")).unwrap();
    let out = resgen().args(["kernel-predict", "--run"]).arg(&run).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("config.toml") && err.contains("gd"), "{err}");
}

/// The CPU's flags and vendor from /proc/cpuinfo (Linux), to predict the GEMM kernels.
#[cfg(target_arch = "x86_64")]
fn cpuinfo_field(name: &str) -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn gemm_kernels_follow_the_cpu_policy_and_compute_the_same_training_run() {
    // flex's GEMM (vendor/gemm-common, patched) runs AVX-512 kernels on Intel CPUs with
    // AVX-512F, AVX2 + FMA elsewhere; GEMM_X86_V4 overrides. `resgen devices` reports the choice.
    let flags = cpuinfo_field("flags");
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    if !has("fma") {
        eprintln!("skipping: this CPU has no FMA, so gemm runs its scalar kernels whatever the policy");
        return;
    }
    let devices = |policy: Option<&str>| {
        let mut c = resgen();
        c.arg("devices").env_remove("GEMM_X86_V4");
        if let Some(p) = policy {
            c.env("GEMM_X86_V4", p);
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.lines().find(|l| l.starts_with("flex")).unwrap_or_default().to_string()
    };
    let avx512 = has("avx512f");
    let intel = cpuinfo_field("vendor_id") == "GenuineIntel";
    let line = devices(Some("0"));
    assert!(line.contains("GEMM kernels: AVX2 + FMA (GEMM_X86_V4=0)"), "{line}");
    let line = devices(Some("1"));
    let want =
        if avx512 { "GEMM kernels: AVX-512 (GEMM_X86_V4=1)" } else { "GEMM kernels: AVX2 + FMA (GEMM_X86_V4=1)" };
    assert!(line.contains(want), "{line}");
    let line = devices(None);
    let want = if avx512 && intel { "GEMM kernels: AVX-512 (" } else { "GEMM kernels: AVX2 + FMA (" };
    assert!(line.contains(want), "{line}");

    // The two kernel families compute the same training run, up to f32 rounding: the AVX2
    // kernels are an oracle for the AVX-512 ones (identical runs where the CPU lacks AVX-512).
    let run = |policy: &str| -> Vec<Vec<f64>> {
        let dir = tempfile::tempdir().unwrap();
        let out = resgen()
            .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
            .arg(dir.path())
            .args(["--set", "model.width=256", "--set", "train.iterations=20", "--set", "data.n_train=200"])
            .env("GEMM_X86_V4", policy)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "train_loss").expect("a train_loss column");
        let dist = header.iter().position(|h| *h == "dist_total").expect("a dist_total column");
        text.lines()
            .skip(1)
            .map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                vec![v[col].parse().unwrap(), v[dist].parse().unwrap()]
            })
            .collect()
    };
    let (a, b) = (run("0"), run("1"));
    assert_eq!(a.len(), b.len());
    for (ra, rb) in a.iter().zip(&b) {
        for (x, y) in ra.iter().zip(rb) {
            // f32 sums in another order differ by about 1e-7 relative per step; 20 steps
            // compound that to well under 1e-4.
            assert!((x - y).abs() <= 1e-4 * x.abs().max(1e-3), "AVX2 {ra:?} vs AVX-512 {rb:?}");
        }
    }
    if !avx512 {
        assert_eq!(a, b, "without AVX-512 both policies run the same kernels");
    }
}

#[test]
fn compare_accepts_identical_runs_and_names_the_column_that_differs() {
    // Two flex runs of one config are bit-identical (seeded, deterministic), so `resgen compare`
    // passes at --tol 0; a train_loss raised by 0.01 at iteration 20 (hand edit below) fails
    // with the column, the iteration and the size of the difference (0.01: absolute below 1).
    let train = |dir: &std::path::Path| {
        let out = resgen()
            .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
            .arg(dir)
            .args(["--set", "model.width=32", "--set", "train.iterations=20", "--set", "data.n_train=100"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    train(a.path());
    train(b.path());
    let out = resgen().arg("compare").arg(a.path()).arg(b.path()).args(["--tol", "0"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("3 logged iterations agree: largest difference 0.00e0"), "{stdout}");

    let path = b.path().join("metrics.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "train_loss").unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let last = lines.len() - 1;
    let mut fields: Vec<String> = lines[last].split(',').map(String::from).collect();
    assert_eq!(fields[0], "20");
    let v: f64 = fields[col].parse().unwrap();
    fields[col] = format!("{}", v + 0.01);
    lines[last] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = resgen().arg("compare").arg(a.path()).arg(b.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("train_loss differs by 1.00e-2 at iteration 20"), "{stderr}");
}

#[test]
fn list_gives_each_experiments_claim_and_rough_cost() {
    let out = resgen().arg("list").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| stdout.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap().to_string();
    // min-width's committed quick table (results/quick/, where `list`'s default profile looks): the span from its first to its last finished cell,
    // worked out here from the two clock times in its meta.json (the same day), its cell count
    // and date; its claim follows.
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../results/quick/min-width.meta.json"))
            .unwrap(),
    )
    .unwrap();
    let (first, last) = (meta["first_cell_finished"].as_str().unwrap(), meta["last_cell_finished"].as_str().unwrap());
    assert_eq!(first[..10], last[..10], "one day");
    let secs = |t: &str| -> i64 { t[11..19].split(':').fold(0, |acc, x| acc * 60 + x.parse::<i64>().unwrap()) };
    let (cells, span, date) = (meta["cells"].as_u64().unwrap(), secs(last) - secs(first), &first[..10]);
    let mw = line("min-width");
    assert!(
        mw.contains(&format!("{cells} cells")) && mw.contains(&format!(" {span} s on ")) && mw.contains(date),
        "{mw} (want {cells} cells, {span} s, {date})"
    );
    assert!(mw.contains("width needed for lazy training"), "{mw}");
    // forward-scale trains nothing: no GD work.
    assert!(line("forward-scale").contains(" 0.000 TFLOP"), "{stdout}");
    // An experiment whose table is absent from the results folder says so.
    let dir = tempfile::tempdir().unwrap();
    let out = resgen().args(["list", "--results"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().filter(|l| !l.starts_with('#')).all(|l| l.contains("not run")), "{stdout}");
}

#[test]
fn bench_plot_and_report_commands_run_as_documented() {
    // `resgen bench --breakdown` on one tiny shape: the header names the CPU, one row per
    // network, with the (fused) step's GEMMs alone timed beside the step and the share outside
    // them, then Burn's tensor step and the general (autodiff) path, each with its ratio to the
    // fused step.
    let out = resgen()
        .args(["bench", "--shape", "8/16/2/4", "--steps", "1", "--warmup", "0", "--breakdown"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("CPU: "), "{stdout}");
    let cols =
        "| gemm_ms | pct_outside_gemm | tensor_ms_step | tensor_over_fused | autodiff_ms_step | autodiff_over_fast |";
    assert!(stdout.contains(cols), "{stdout}");
    for arch in ["resnet", "fc"] {
        let row = stdout.lines().find(|l| l.starts_with(&format!("| {arch} | 8/16/2/4 |"))).expect(&stdout);
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 14, "{row}");
        // Times of a tiny shape may print as 0.0: what is checked is that they are numbers.
        let (step, gemm): (f64, f64) = (cells[2].parse().unwrap(), cells[8].parse().unwrap());
        assert!(step >= 0.0 && gemm >= 0.0 && cells[9].parse::<f64>().is_ok(), "{row}");
        for (t, ratio) in [(cells[10], cells[11]), (cells[12], cells[13])] {
            let t: f64 = t.parse().unwrap();
            assert!(t >= 0.0 && (ratio.parse::<f64>().is_ok() || ratio == "NaN"), "{row}");
        }
    }
    // `resgen plot` and `resgen report` from a copy of the committed tables: the figure is
    // drawn again, and the summary is the committed one byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let committed = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../results"));
    for entry in std::fs::read_dir(committed).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "csv" || e == "json") {
            std::fs::copy(&p, results.join(p.file_name().unwrap())).unwrap();
        }
    }
    let experiments = concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments");
    let out = resgen()
        .args(["plot", "forward-scale", "--profile", "confirm", "--experiments", experiments, "--results"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(results.join("forward-scale.svg")).unwrap().starts_with("<svg"));
    let out = resgen().args(["report", "--experiments", experiments, "--results"]).arg(&results).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(results.join("summary.md")).unwrap(),
        std::fs::read_to_string(committed.join("summary.md")).unwrap()
    );
    // A rule moved after its data: `resgen report` writes the row as not decided and fails
    // naming it.
    let exps = dir.path().join("experiments");
    std::fs::create_dir_all(&exps).unwrap();
    for entry in std::fs::read_dir(experiments).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, exps.join(p.file_name().unwrap())).unwrap();
    }
    let gd = exps.join("gd-dynamics.toml");
    let text = std::fs::read_to_string(&gd).unwrap();
    std::fs::write(&gd, text.replace("loss_fall_max = { value = 0.5,", "loss_fall_max = { value = 0.9,")).unwrap();
    let out = resgen().args(["report", "--experiments"]).arg(&exps).arg("--results").arg(&results).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not decided: gd-dynamics: not decided (rule changed after the data: rerun gd-dynamics)"),
        "{stderr}"
    );
    assert!(std::fs::read_to_string(results.join("summary.md")).unwrap().contains("rule changed after the data"));
}

#[cfg(feature = "blas")]
#[test]
fn mkl_route_trains_as_the_pure_rust_kernels_do_to_f32_rounding() {
    // One config trained with MKL (the `blas` build's default) and with the pure-Rust kernels
    // (RESGEN_GEMM=rust): width 256, so the hidden layers' products exceed the BLAS threshold
    // (192^3 multiply-adds; CI runs it with RESGEN_GEMM=blas-all, every product on MKL). Over 100 logged steps every value agrees to f32 rounding (summation
    // order differs), and meta.json says which GEMM ran.
    let train = |dir: &std::path::Path, rust: bool| {
        let mut c = resgen();
        if rust {
            c.env("RESGEN_GEMM", "rust");
        }
        let out = c
            .args(["train", "--config", "experiments/mnist-3v5.toml", "--quiet", "--out"])
            .arg(dir)
            .args(["--set", "model.width=256", "--set", "train.iterations=100", "--set", "train.log_every=10"])
            .args(["--set", "data.n_train=200"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let meta = std::fs::read_to_string(dir.join("meta.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&meta).unwrap();
        v["backend"].as_str().unwrap().to_string()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(train(a.path(), false), "flex+mkl");
    assert_eq!(train(b.path(), true), "flex");
    let out = resgen().arg("compare").arg(a.path()).arg(b.path()).args(["--tol", "1e-4"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("11 logged iterations agree"), "{stdout}");
}
