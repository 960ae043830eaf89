//! The experiments: the sweep engine (hashing, sharding, resume, a failing cell) and one smoke
//! test per named experiment, each on a tiny version of the committed experiment file, checking
//! the table's columns and the direction of its main effect.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use resgen_experiments::spec::{parse_shard, shard};
use resgen_experiments::table::read_table;
use resgen_experiments::{Experiment, SweepOptions, merge, plot_experiment, run_sweep};
use resgen_models::BackendKind;

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments")
}

/// The committed experiment file with its profiles replaced by one `smoke` profile.
fn tiny(name: &str, profile: &str, dir: &Path) -> Experiment {
    let src = experiments_dir().join(format!("{name}.toml"));
    let mut t: toml::Table = std::fs::read_to_string(&src).unwrap().parse().unwrap();
    let p: toml::Table = profile.parse().unwrap();
    t.insert(
        "profiles".into(),
        toml::Value::Table([("smoke".to_string(), toml::Value::Table(p))].into_iter().collect()),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(&t).unwrap()).unwrap();
    Experiment::load(&path).unwrap()
}

fn opts(dir: &Path) -> SweepOptions {
    SweepOptions { runs: dir.join("runs"), backend: BackendKind::default_compiled(), shard: None, quiet: true }
}

/// Runs the tiny experiment, merges and plots it; returns the table as (header, rows).
fn run(exp: &Experiment, dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let r = run_sweep(exp, "smoke", &opts(dir)).unwrap();
    assert!(r.failed.is_empty(), "{}: {:?}", exp.name, r.failed);
    let m = merge(exp, "smoke", &dir.join("runs"), &dir.join("results")).unwrap();
    assert!(m.missing.is_empty());
    let svg = plot_experiment(exp, "smoke", &dir.join("results")).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("<polyline"), "{}: no lines in the figure", exp.name);
    read_table(&m.written[0]).unwrap()
}

/// The `<value>_mean` of the first row whose columns match `keys`.
fn value(table: &(Vec<String>, Vec<Vec<String>>), keys: &[(&str, &str)], v: &str) -> f64 {
    let (h, rows) = table;
    let col = |c: &str| h.iter().position(|x| x == c).unwrap_or_else(|| panic!("no column {c} in {h:?}"));
    let row = rows
        .iter()
        .find(|r| keys.iter().all(|(k, val)| r[col(k)] == *val))
        .unwrap_or_else(|| panic!("no row {keys:?} in {rows:?}"));
    row[col(&format!("{v}_mean"))].parse().unwrap_or(f64::NAN)
}

fn has_columns(table: &(Vec<String>, Vec<Vec<String>>), cols: &[&str]) {
    for c in cols {
        assert!(table.0.iter().any(|h| h == c), "column {c} missing from {:?}", table.0);
    }
}

// ---------------------------------------------------------------- the sweep engine

#[test]
fn cell_hashes_follow_what_determines_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let prof = r#"grid = { "model.arch" = ["resnet", "fc"], "model.theta" = ["1/L", "1"], "model.width" = [16, 32] }"#;
    let exp = tiny("forward-scale", prof, dir.path());
    let cells = exp.cells("smoke").unwrap();
    assert_eq!(cells.len(), 2 * 2 * 2 * 3);
    // Stable: loading again gives the same hashes.
    let again: Vec<String> =
        tiny("forward-scale", prof, dir.path()).cells("smoke").unwrap().into_iter().map(|c| c.hash).collect();
    assert_eq!(cells.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(), again);
    let hashes: HashSet<&String> = cells.iter().map(|c| &c.hash).collect();
    // ResNet: 2 thetas x 2 widths x 3 seeds distinct cells; FC ignores theta, so its two theta
    // values share a cell: 2 widths x 3 seeds.
    assert_eq!(hashes.len(), 12 + 6);
    // What does not determine the result (the plot, the claim) leaves the hashes alone.
    let mut t: toml::Table = std::fs::read_to_string(dir.path().join("forward-scale.toml")).unwrap().parse().unwrap();
    t.insert("claim".into(), "changed".into());
    t["plot"].as_table_mut().unwrap().insert("x".into(), "width".into());
    let p = dir.path().join("other.toml");
    std::fs::write(&p, toml::to_string(&t).unwrap()).unwrap();
    let other: Vec<String> =
        Experiment::load(&p).unwrap().cells("smoke").unwrap().into_iter().map(|c| c.hash).collect();
    assert_eq!(cells.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(), other);
    // A field that does (n_train) changes every hash.
    let changed = tiny("forward-scale", &format!("{prof}\nset = {{ \"data.n_train\" = 7 }}"), dir.path());
    assert!(changed.cells("smoke").unwrap().iter().all(|c| !hashes.contains(&c.hash)));
}

#[test]
fn shards_cover_a_sweep_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "forward-scale",
        r#"grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [2, 3, 4, 5, 6] }"#,
        dir.path(),
    );
    let all = exp.cells("smoke").unwrap();
    let total = all.len();
    for n in 1..=7 {
        let mut seen = vec![0usize; total];
        for k in 1..=n {
            for c in shard(exp.cells("smoke").unwrap(), k, n) {
                seen[c.index] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1), "N = {n}: {seen:?}");
    }
    assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
    for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
        assert!(parse_shard(bad).unwrap_err().contains("k/N"), "{bad}");
    }
}

#[test]
fn a_rerun_skips_finished_cells_and_redoes_unfinished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny("forward-scale", r#"grid = { "model.arch" = ["resnet"], "model.depth" = [2, 4] }"#, dir.path());
    let o = opts(dir.path());
    let first = run_sweep(&exp, "smoke", &o).unwrap();
    assert_eq!((first.cells, first.ran, first.skipped), (6, 6, 0));
    let cells = exp.cells("smoke").unwrap();
    let result = |i: usize| cells[i].dir(&o.runs).join("result.json");
    let before: Vec<String> = (0..6).map(|i| std::fs::read_to_string(result(i)).unwrap()).collect();
    // An interrupted cell has a folder and a config but no result.
    std::fs::remove_file(result(3)).unwrap();
    let second = run_sweep(&exp, "smoke", &o).unwrap();
    assert_eq!((second.ran, second.skipped), (1, 5));
    // The others were not rewritten (their timings would differ), the redone one equals the
    // original run apart from its timing.
    for i in [0, 1, 2, 4, 5] {
        assert_eq!(std::fs::read_to_string(result(i)).unwrap(), before[i]);
    }
    let rows = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["rows"].clone();
    assert_eq!(rows(&std::fs::read_to_string(result(3)).unwrap()), rows(&before[3]));
    let third = run_sweep(&exp, "smoke", &o).unwrap();
    assert_eq!((third.ran, third.skipped), (0, 6));
}

#[test]
fn a_failing_cell_is_reported_and_the_others_complete() {
    let dir = tempfile::tempdir().unwrap();
    // nu = 1e12 makes gradient descent diverge in its first steps.
    let exp = tiny(
        "gd-dynamics",
        r#"
        set = { "train.iterations" = 5, "train.log_every" = 1, "model.width" = 16, "model.depth" = 2 }
        grid = { dataset = ["sphere"], "model.arch" = ["resnet"], "train.nu" = [1.0, 1e12] }
        seeds = [0]"#,
        dir.path(),
    );
    let r = run_sweep(&exp, "smoke", &opts(dir.path())).unwrap();
    assert_eq!((r.cells, r.ran), (2, 1));
    assert_eq!(r.failed.len(), 1);
    assert!(r.failed[0].0.contains("nu=1000000000000"), "{:?}", r.failed);
    assert!(r.failed[0].1.contains("diverged"), "{:?}", r.failed);
    let cells = exp.cells("smoke").unwrap();
    assert!(cells[1].dir(&dir.path().join("runs")).join("error.txt").exists());
    // The table holds the finished cell and says which one is missing.
    let m = merge(&exp, "smoke", &dir.path().join("runs"), &dir.path().join("results")).unwrap();
    assert_eq!((m.found, m.missing.len()), (1, 1));
    let (h, rows) = read_table(&m.written[0]).unwrap();
    let nu = h.iter().position(|c| c == "nu").unwrap();
    assert!(rows.iter().all(|r| r[nu] == "1.0"));
}

#[test]
fn bad_experiment_files_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "kind = \"forward-scale\"\nseeds = [0]\nwidth = 3\n[profiles.quick]\n[plot]\nx = \"depth\"\ny = [\"h_norm\"]\n",
    )
    .unwrap();
    let e = Experiment::load(&p).unwrap_err();
    assert!(e.contains("bad.toml") && e.contains("width"), "{e}");
    std::fs::write(
        &p,
        "kind = \"no-such-kind\"\nseeds = [0]\n[profiles.quick]\n[plot]\nx = \"depth\"\ny = [\"h_norm\"]\n",
    )
    .unwrap();
    let e = Experiment::load(&p).unwrap_err();
    assert!(e.contains("bad.toml") && e.contains("kind"), "{e}");
    // A grid value the run config rejects names the cell.
    let exp = tiny("forward-scale", r#"grid = { "model.theta" = ["1/L", "abc"] }"#, dir.path());
    let e = exp.cells("smoke").unwrap_err();
    assert!(e.contains("abc") && e.contains("theta"), "{e}");
    // Unknown parameters of a kind are a cell error that names the key.
    let exp =
        tiny("rademacher", "grid = { dataset = [\"sphere\"] }\nparams = { radious = 2.0 }\nseeds = [0]", dir.path());
    let r = run_sweep(&exp, "smoke", &opts(dir.path())).unwrap();
    assert!(r.failed[0].1.contains("params.radious"), "{:?}", r.failed);
    let e = Experiment::find("no-such-experiment", &experiments_dir()).unwrap_err();
    assert!(e.contains("forward-scale"), "{e}");
    // `all` lists the files with a `kind`; a broken one is an error, not silently skipped.
    let list_dir = dir.path().join("list");
    std::fs::create_dir_all(&list_dir).unwrap();
    std::fs::copy(experiments_dir().join("rademacher.toml"), list_dir.join("rademacher.toml")).unwrap();
    std::fs::copy(experiments_dir().join("mnist-3v5.toml"), list_dir.join("mnist-3v5.toml")).unwrap();
    assert_eq!(resgen_experiments::spec::list(&list_dir).unwrap(), ["rademacher"]);
    std::fs::write(list_dir.join("typo.toml"), "kind = \"rademacher\"\nseeds = [0]\nprofiles = 3\n").unwrap();
    let e = resgen_experiments::spec::list(&list_dir).unwrap_err();
    assert!(e.contains("typo.toml") && e.contains("profiles"), "{e}");
}

#[test]
fn every_committed_experiment_parses_and_has_quick_and_paper_profiles() {
    let names = resgen_experiments::spec::list(&experiments_dir()).unwrap();
    assert_eq!(names.len(), 10, "{names:?}");
    for name in names {
        let exp = Experiment::find(&name, &experiments_dir()).unwrap();
        for p in ["quick", "paper"] {
            let cells = exp.cells(p).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!cells.is_empty());
            let seeds: HashSet<u64> = cells.iter().map(|c| c.seed).collect();
            assert!(seeds.len() >= 3, "{name} {p}: {} seeds", seeds.len());
        }
    }
}

// ---------------------------------------------------------------- one smoke test per experiment

#[test]
fn smoke_forward_scale() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "forward-scale",
        r#"set = { "data.n_train" = 20, "model.width" = 64 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [16], "model.theta" = ["1/L", "1"] }"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "theta", "layer", "seeds", "h_norm_mean", "h_norm_sd", "f_abs_mean"]);
    let h = |arch, theta| value(&t, &[("arch", arch), ("theta", theta), ("layer", "last")], "h_norm");
    // theta = 1/L keeps ||h_L|| O(1); theta = 1 at L = 16 grows by more than 2^(15/2) / 2.
    assert!((0.5..3.0).contains(&h("resnet", "1/L")), "{}", h("resnet", "1/L"));
    assert!(h("resnet", "1") > 90.0, "{}", h("resnet", "1"));
    assert!((0.3..3.0).contains(&h("fc", "1")));
}

#[test]
fn smoke_grad_features() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "grad-features",
        r#"set = { "data.n_train" = 20 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [8], "model.width" = [64] }"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "width", "layer", "grad_norm_mean", "grad_norm_sd"]);
    let g = |arch| value(&t, &[("arch", arch), ("layer", "hidden-mean")], "grad_norm");
    // FC hidden layers: about sqrt(1/2); ResNet residual layers: order theta = 1/8.
    assert!((0.4..1.0).contains(&g("fc")), "{}", g("fc"));
    assert!(g("resnet") < g("fc") / 3.0, "{} vs {}", g("resnet"), g("fc"));
}

#[test]
fn smoke_gd_dynamics() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "gd-dynamics",
        r#"set = { "train.iterations" = 30, "model.width" = 32 }
        grid = { dataset = ["sphere", "mnist-3v5"], "model.arch" = ["resnet", "fc"], "model.depth" = [2] }
        seeds = [0, 1]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &[
            "dataset",
            "arch",
            "iter",
            "train_loss_mean",
            "train_surrogate_mean",
            "test_error_mean",
            "dist_max_scaled_mean",
        ],
    );
    for ds in ["sphere", "mnist-3v5"] {
        for arch in ["resnet", "fc"] {
            let l0 = value(&t, &[("dataset", ds), ("arch", arch), ("iter", "0")], "train_loss");
            let l1 = value(&t, &[("dataset", ds), ("arch", arch), ("iter", "30")], "train_loss");
            assert!(l1 < l0, "{ds} {arch}: {l0} -> {l1}");
        }
    }
}

#[test]
fn smoke_distance_from_init() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "distance-from-init",
        r#"set = { "data.n_train" = 30, "train.iterations" = 50, "train.log_every" = 50 }
        grid = { "model.arch" = ["resnet"], "model.depth" = [2], "model.width" = [32, 512] }"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "width", "layer", "dist_scaled_mean", "train_loss_mean"]);
    // sqrt(m) ||W - W0|| stays bounded in m: across a 16x width range it changes by far less
    // than the factor 4 = sqrt(16) it would if ||W - W0|| did not shrink like 1/sqrt(m).
    let d = |w| value(&t, &[("width", w), ("layer", "max")], "dist_scaled");
    assert!(d("512") > 0.0 && d("512") < 2.0 * d("32"), "{} vs {}", d("512"), d("32"));
}

#[test]
fn smoke_linearization() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "linearization",
        r#"set = { "data.n_train" = 30, "train.iterations" = 50, "train.log_every" = 50 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [2], "model.width" = [16, 512] }"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "width", "eps_lin_max_mean", "eps_lin_mean_mean", "train_loss_mean"]);
    for arch in ["resnet", "fc"] {
        let e = |w| value(&t, &[("arch", arch), ("width", w)], "eps_lin_max");
        assert!(e("512") < e("16"), "{arch}: eps_lin {} at m=512 vs {} at m=16", e("512"), e("16"));
    }
}

#[test]
fn smoke_min_width() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "min-width",
        r#"set = { "data.n_train" = 50 }
        params = { max_iterations = 300, max_width = 256, target_loss = 0.05 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [2, 16] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "min_width_mean", "reached_mean", "trainings_mean"]);
    let m = |arch, depth| value(&t, &[("arch", arch), ("depth", depth)], "min_width");
    // The headline's direction: at L = 16 the FC network needs a wider net than the ResNet
    // (the quick table: 16 against 4.7 at n = 100).
    assert!(m("fc", "16") > m("resnet", "16"), "fc {} vs resnet {}", m("fc", "16"), m("resnet", "16"));
    let fit = read_table(&dir.path().join("results/smoke/min-width-fit.csv")).unwrap();
    assert_eq!(fit.0, ["arch", "law", "formula", "a", "b", "r2", "points"]);
    // Two laws per network, each fitted to two depths.
    assert_eq!(fit.1.len(), 4, "{:?}", fit.1);
}

#[test]
fn smoke_rademacher() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "rademacher",
        r#"set = { "model.width" = 64 }
        params = { samples = 50 }
        grid = { dataset = ["sphere"], "model.arch" = ["resnet", "fc"], "model.depth" = [32] }"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["dataset", "arch", "depth", "layer", "closed_form_mean", "monte_carlo_mean", "mc_stderr_mean"]);
    let r = |arch| value(&t, &[("arch", arch), ("layer", "total")], "monte_carlo");
    // FC: L + 1 = 33 layers of similar size; ResNet: two O(1) layers plus 31 of order 1/L
    // (measured: about 8 times smaller at L = 32).
    assert!(r("fc") > 4.0 * r("resnet"), "fc {} vs resnet {}", r("fc"), r("resnet"));
    // The closed form bounds the Monte Carlo estimate (Jensen).
    assert!(value(&t, &[("arch", "fc"), ("layer", "total")], "closed_form") >= r("fc"));
}

#[test]
fn smoke_ntk_complexity() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "ntk-complexity",
        r#"set = { "model.width" = 256, "data.n_train" = 40 }
        grid = { dataset = ["sphere"], "model.arch" = ["resnet", "fc"], "model.depth" = [2, 8] }
        seeds = [0, 1]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["arch", "depth", "kernel", "lambda_min_mean", "complexity_mean", "cao_gu_ntk_bound_mean", "ridge_mean"],
    );
    for arch in ["resnet", "fc"] {
        // Empirical and analytic kernels give complexities within a factor 2 at m = 256.
        let c = |k| value(&t, &[("arch", arch), ("depth", "8"), ("kernel", k)], "complexity");
        assert!(
            c("empirical") / c("analytic") < 2.0 && c("analytic") / c("empirical") < 2.0,
            "{arch}: {} vs {}",
            c("empirical"),
            c("analytic")
        );
    }
    // The Cao-Gu value carries its depth factor: larger at L = 8 than at L = 2 for FC.
    let b = |d| value(&t, &[("arch", "fc"), ("depth", d), ("kernel", "analytic")], "cao_gu_ntk_bound");
    assert!(b("8") > b("2"));
}

#[test]
fn smoke_ntrf_bound() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "ntrf-bound",
        r#"set = { "model.width" = 32 }
        grid = { "data.n_train" = [30], "model.arch" = ["resnet", "fc"], "model.depth" = [8] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["arch", "depth", "radius", "eps_ntrf_mean", "bound_own_mean", "kkt_residual_mean", "r_star_mean"],
    );
    // eps_NTRF does not increase with R; the FC bound pays (L + 1) R / sqrt(n) where the ResNet
    // pays R / sqrt(n), so at the same eps its minimum is higher.
    let (h, rows) = &t;
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    for arch in ["resnet", "fc"] {
        let eps: Vec<f64> = rows
            .iter()
            .filter(|r| r[col("arch")] == arch && r[col("radius")] != "best")
            .map(|r| r[col("eps_ntrf_mean")].parse().unwrap())
            .collect();
        assert_eq!(eps.len(), 20);
        assert!(eps.windows(2).all(|w| w[1] <= w[0] + 1e-6), "{arch}: {eps:?}");
    }
    let best = |arch| value(&t, &[("arch", arch), ("radius", "best")], "bound_own");
    assert!(best("fc") > best("resnet"), "fc {} vs resnet {}", best("fc"), best("resnet"));
}

#[test]
fn smoke_generalization() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "generalization",
        r#"set = { "model.width" = 32, "train.iterations" = 30, "train.log_every" = 30 }
        grid = { dataset = ["sphere"], "data.n_train" = [30], "model.arch" = ["resnet", "fc"], "model.depth" = [4] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &[
            "dataset",
            "n_train",
            "arch",
            "depth",
            "test_error_mean",
            "generalization_gap_mean",
            "bound_own_mean",
            "bound_cao_gu_ntk_mean",
            "bound_rademacher_route_mean",
            "rademacher_monte_carlo_mean",
        ],
    );
    for arch in ["resnet", "fc"] {
        let e = value(&t, &[("arch", arch)], "test_error");
        assert!((0.0..=1.0).contains(&e));
    }
    // Same data and eps_NTRF machinery: the FC bound, with its depth factor, is the larger.
    assert!(value(&t, &[("arch", "fc")], "bound_own") > value(&t, &[("arch", "resnet")], "bound_own"));
}

#[test]
fn kernel_experiments_train_on_a_gpu_backend_and_compute_kernels_in_f64_on_the_cpu() {
    // wgpu has no f64: training runs on it, the kernels on the CPU backend beside it.
    let Some((backend, _)) = resgen_tests::backends().into_iter().find(|(b, _)| !b.is_cpu()) else {
        eprintln!("skipping: no GPU backend compiled in (build with --features wgpu)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "linearization",
        r#"set = { "data.n_train" = 20, "train.iterations" = 10, "train.log_every" = 10 }
        grid = { "model.arch" = ["resnet"], "model.depth" = [2], "model.width" = [16] }
        seeds = [0]"#,
        dir.path(),
    );
    let o = SweepOptions { backend, ..opts(dir.path()) };
    let r = run_sweep(&exp, "smoke", &o).unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let m = merge(&exp, "smoke", &o.runs, &dir.path().join("results")).unwrap();
    let t = read_table(&m.written[0]).unwrap();
    let e = value(&t, &[("width", "16")], "eps_lin_max");
    assert!(e.is_finite() && e > 0.0, "{e}");
}
