//! The experiments: the sweep engine (hashing, sharding, resume, a failing cell) and one smoke
//! test per named experiment, each on a tiny version of the committed experiment file, checking
//! the table's columns and the direction of its main effect.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use resgen_experiments::spec::{parse_shard, shard};
use resgen_experiments::table::read_table;
use resgen_experiments::{Experiment, MergeOptions, SweepOptions, merge, merge_with, plot_experiment, run_sweep};
use resgen_models::BackendKind;

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments")
}

/// The committed experiment file with its profiles replaced by one `smoke` profile.
fn tiny(name: &str, profile: &str, dir: &Path) -> Experiment {
    Experiment::load(&tiny_file(name, profile, dir)).unwrap()
}

/// [`tiny`]'s file, written but not loaded.
fn tiny_file(name: &str, profile: &str, dir: &Path) -> PathBuf {
    let src = experiments_dir().join(format!("{name}.toml"));
    let mut t: toml::Table = std::fs::read_to_string(&src).unwrap().parse().unwrap();
    let p: toml::Table = profile.parse().unwrap();
    t.insert(
        "profiles".into(),
        toml::Value::Table([("smoke".to_string(), toml::Value::Table(p))].into_iter().collect()),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(&t).unwrap()).unwrap();
    path
}

fn opts(dir: &Path) -> SweepOptions {
    SweepOptions {
        runs: dir.join("runs"),
        backend: BackendKind::default_compiled(),
        shard: None,
        quiet: true,
        reuse_stale: false,
        jobs: 1,
    }
}

/// Runs the tiny experiment, merges and plots it; returns the table as (header, rows).
fn run(exp: &Experiment, dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let r = run_sweep(exp, "smoke", &opts(dir)).unwrap();
    assert!(r.failed.is_empty(), "{}: {:?}", exp.name, r.failed);
    let m = merge(exp, "smoke", &dir.join("runs"), &dir.join("results")).unwrap();
    assert!(m.missing.is_empty());
    for svg in plot_experiment(exp, "smoke", &dir.join("results")).unwrap() {
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg") && text.contains("<polyline"), "{}: no lines in {}", exp.name, svg.display());
    }
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
        assert!(parse_shard(bad).unwrap_err().to_string().contains("k/N"), "{bad}");
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
fn cells_from_other_code_or_backends_are_recomputed_and_never_mixed_silently() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny("forward-scale", r#"grid = { "model.arch" = ["resnet"], "model.depth" = [2, 4] }"#, dir.path());
    let o = opts(dir.path());
    let results = dir.path().join("results");
    assert_eq!(run_sweep(&exp, "smoke", &o).unwrap().ran, 6);
    merge(&exp, "smoke", &o.runs, &results).unwrap();
    let table = std::fs::read_to_string(results.join("smoke/forward-scale.csv")).unwrap();
    // The sidecar names this build's code identity, the backend, the CPU and the cell counts.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("smoke/forward-scale.meta.json")).unwrap()).unwrap();
    assert_eq!(meta["code"], serde_json::json!([resgen_experiments::provenance::code_id()]));
    assert_eq!(meta["backends"], serde_json::json!([o.backend.name()]));
    assert_eq!((meta["cells"].as_u64(), meta["cells_finished"].as_u64()), (Some(6), Some(6)));
    assert_eq!(meta["mixed_provenance"], false);
    assert!(!meta["cpus"][0].as_str().unwrap().is_empty());
    // Pretend two cells came from other code and one from another backend.
    let cells = exp.cells("smoke").unwrap();
    let result = |i: usize| cells[i].dir(&o.runs).join("result.json");
    let edit = |i: usize, field: &str, value: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(result(i)).unwrap()).unwrap();
        v["provenance"][field] = value.into();
        std::fs::write(result(i), serde_json::to_string(&v).unwrap()).unwrap();
    };
    edit(0, "code", "src-0000000000000000");
    edit(1, "code", "src-0000000000000000");
    edit(2, "backend", "cuda");
    // Merging them is an error naming the versions and backends, unless asked.
    let e = merge(&exp, "smoke", &o.runs, &results).unwrap_err().to_string();
    assert!(e.contains("2 code version(s)") && e.contains("src-0000000000000000") && e.contains("cuda"), "{e}");
    merge_with(&exp, "smoke", &o.runs, &results, &MergeOptions { allow_mixed: true }).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("smoke/forward-scale.meta.json")).unwrap()).unwrap();
    assert_eq!(meta["mixed_provenance"], true);
    assert_eq!(meta["code"].as_array().unwrap().len(), 2);
    // --reuse-stale keeps them; the default recomputes exactly those three.
    let keep = run_sweep(&exp, "smoke", &SweepOptions { reuse_stale: true, ..opts(dir.path()) }).unwrap();
    assert_eq!((keep.ran, keep.skipped, keep.stale), (0, 6, 0));
    let redo = run_sweep(&exp, "smoke", &o).unwrap();
    assert_eq!((redo.ran, redo.skipped, redo.stale), (3, 3, 3));
    merge(&exp, "smoke", &o.runs, &results).unwrap();
    assert_eq!(std::fs::read_to_string(results.join("smoke/forward-scale.csv")).unwrap(), table);
}

#[test]
fn two_sweeps_racing_on_the_same_cells_write_each_result_once() {
    // An overlapping resubmission: two processes (here threads) run the same sweep into one
    // runs folder at once. Each result is written once, by whichever finished the cell first
    // (the other's is dropped, counted in `raced`), and the table is that of a single run.
    let dir = tempfile::tempdir().unwrap();
    let exp =
        tiny("forward-scale", r#"grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [2, 4, 8] }"#, dir.path());
    let o = opts(dir.path());
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_sweep(&exp, "smoke", &o).unwrap());
        let b = s.spawn(|| run_sweep(&exp, "smoke", &o).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    let unique: HashSet<String> = exp.cells("smoke").unwrap().iter().map(|c| c.hash.clone()).collect();
    assert_eq!(a.ran - a.raced + b.ran - b.raced, unique.len(), "{a:?} {b:?}");
    merge(&exp, "smoke", &o.runs, &dir.path().join("r1")).unwrap();
    let single = tempfile::tempdir().unwrap();
    run_sweep(&exp, "smoke", &opts(single.path())).unwrap();
    merge(&exp, "smoke", &single.path().join("runs"), &dir.path().join("r2")).unwrap();
    let raw = |r: &str| std::fs::read_to_string(dir.path().join(r).join("smoke/forward-scale.cells.csv")).unwrap();
    assert_eq!(raw("r1"), raw("r2"));
}

#[test]
fn cells_computed_in_parallel_give_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let exp =
        tiny("grad-features", r#"grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [2, 4, 8] }"#, dir.path());
    let mut raws = Vec::new();
    for jobs in [1, 2, 3] {
        let root = dir.path().join(format!("j{jobs}"));
        let r = run_sweep(&exp, "smoke", &SweepOptions { jobs, ..opts(&root) }).unwrap();
        assert!(r.failed.is_empty() && r.ran > 0, "{r:?}");
        merge(&exp, "smoke", &root.join("runs"), &root.join("results")).unwrap();
        raws.push(std::fs::read_to_string(root.join("results/smoke/grad-features.cells.csv")).unwrap());
    }
    assert_eq!(raws[0], raws[1]);
    assert_eq!(raws[0], raws[2]);
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
    // The partial table holds the finished cell and says which one is missing; it does not
    // replace a complete table (here, one written earlier), and its sidecar lists the missing
    // cell.
    let complete = dir.path().join("results/smoke/gd-dynamics.csv");
    std::fs::create_dir_all(complete.parent().unwrap()).unwrap();
    std::fs::write(&complete, "an earlier complete table\n").unwrap();
    let m = merge(&exp, "smoke", &dir.path().join("runs"), &dir.path().join("results")).unwrap();
    assert_eq!((m.found, m.missing.len(), m.partial), (1, 1, true));
    assert!(m.written[0].ends_with("smoke/gd-dynamics.partial.csv"), "{:?}", m.written);
    assert_eq!(std::fs::read_to_string(&complete).unwrap(), "an earlier complete table\n");
    let (h, rows) = read_table(&m.written[0]).unwrap();
    let nu = h.iter().position(|c| c == "nu").unwrap();
    assert!(rows.iter().all(|r| r[nu] == "1.0"));
    let meta = std::fs::read_to_string(dir.path().join("results/smoke/gd-dynamics.partial.meta.json")).unwrap();
    assert!(meta.contains("\"partial\": true") && meta.contains("nu=1000000000000"), "{meta}");
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
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("width"), "{e}");
    std::fs::write(
        &p,
        "kind = \"no-such-kind\"\nseeds = [0]\n[profiles.quick]\n[plot]\nx = \"depth\"\ny = [\"h_norm\"]\n",
    )
    .unwrap();
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("kind"), "{e}");
    // A grid value the run config rejects names the cell, when the file loads.
    let p = tiny_file("forward-scale", r#"grid = { "model.theta" = ["1/L", "abc"] }"#, dir.path());
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("abc") && e.contains("theta"), "{e}");
    // Unknown parameters of a kind are an error naming the file, the profile and the key, when
    // the file loads.
    let p = tiny_file(
        "rademacher",
        "grid = { dataset = [\"sphere\"] }\nparams = { radious = 2.0 }\nseeds = [0]",
        dir.path(),
    );
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("rademacher.toml [profiles.smoke]: params.radious"), "{e}");
    let e = Experiment::find("no-such-experiment", &experiments_dir()).unwrap_err().to_string();
    assert!(e.contains("forward-scale"), "{e}");
    // `all` lists the files with a `kind`; a broken one is an error, not silently skipped.
    let list_dir = dir.path().join("list");
    std::fs::create_dir_all(&list_dir).unwrap();
    std::fs::copy(experiments_dir().join("rademacher.toml"), list_dir.join("rademacher.toml")).unwrap();
    std::fs::copy(experiments_dir().join("mnist-3v5.toml"), list_dir.join("mnist-3v5.toml")).unwrap();
    assert_eq!(resgen_experiments::spec::list(&list_dir).unwrap(), ["rademacher"]);
    std::fs::write(list_dir.join("typo.toml"), "kind = \"rademacher\"\nseeds = [0]\nprofiles = 3\n").unwrap();
    let e = resgen_experiments::spec::list(&list_dir).unwrap_err().to_string();
    assert!(e.contains("typo.toml") && e.contains("profiles"), "{e}");
    // A profile `from` another takes its grid and set, with its own entries on top; a chain of
    // `from`s and an unknown profile are errors naming the file and profile.
    let base = "kind = \"forward-scale\"\nseeds = [0]\n[plot]\nx = \"depth\"\ny = [\"h_norm\"]\n\
                [profiles.a]\ngrid = { \"model.depth\" = [2, 4] }\nset = { \"model.width\" = 16 }\n";
    std::fs::write(&p, format!("{base}[profiles.b]\nfrom = \"a\"\nseeds = [7, 8]\nset = {{ \"data.d\" = 5 }}\n"))
        .unwrap();
    let exp = Experiment::load(&p).unwrap();
    let cells = exp.cells("b").unwrap();
    assert_eq!(cells.len(), 4);
    assert!(cells.iter().all(|c| c.config.model.width == 16 && c.config.data.d == 5 && c.seed >= 7));
    std::fs::write(&p, format!("{base}[profiles.b]\nfrom = \"a\"\n[profiles.c]\nfrom = \"b\"\n")).unwrap();
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("rademacher.toml [profiles.c]") && e.contains("from = \"b\""), "{e}");
    std::fs::write(&p, format!("{base}[profiles.b]\nfrom = \"z\"\n")).unwrap();
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("rademacher.toml") && e.contains("no profile 'z'"), "{e}");
}

#[test]
fn kind_parameters_are_read_into_their_struct_and_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    // Errors come when the file loads, after its path and profile.
    let work = |params: &str| -> Result<(u64, f64), String> {
        let profile = format!("grid = {{ dataset = [\"sphere\"] }}\nparams = {params}\nseeds = [0]");
        let path = tiny_file("rademacher", &profile, dir.path());
        let prefix = format!("{} [profiles.smoke]: ", path.display());
        let exp = Experiment::load(&path).map_err(|e| e.to_string().strip_prefix(&prefix).unwrap().to_string())?;
        Ok(resgen_experiments::estimate::cell_work(&exp.cells("smoke").unwrap()[0]).unwrap())
    };
    assert_eq!(
        work("{ radious = 2.0 }").unwrap_err(),
        "params.radious: unknown parameter for kind rademacher (known: radius, samples, trained_radius, target_loss, max_iterations)"
    );
    let e = work("{ samples = \"many\" }").unwrap_err();
    assert!(e.starts_with("params.samples: invalid type: string \"many\", expected usize"), "{e}");
    assert_eq!(work("{ target_loss = \"low\" }").unwrap_err(), "params.target_loss: expected a number, found \"low\"");
    // Values out of range.
    assert_eq!(work("{ target_loss = -1 }").unwrap_err(), "params.target_loss: must be a finite number > 0, got -1");
    assert_eq!(work("{ samples = 0 }").unwrap_err(), "params.samples: must be at least 1, got 0");
    assert_eq!(work("{ radius = 0 }").unwrap_err(), "params.radius: must be a finite number > 0, got 0");
    // Integers are numbers; without trained_radius the kind trains nothing.
    assert_eq!(work("{ target_loss = 1, trained_radius = false }").unwrap(), (0, 0.0));
    assert_eq!(work("{ target_loss = 1, trained_radius = true, max_iterations = 7 }").unwrap().0, 7);
}

#[test]
fn parameter_values_out_of_range_fail_when_the_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    // The file's own `[params]`: the error names the file and the key.
    let with_params = |name: &str, params: &str| {
        let mut t: toml::Table =
            std::fs::read_to_string(experiments_dir().join(format!("{name}.toml"))).unwrap().parse().unwrap();
        t.insert("params".into(), toml::Value::Table(params.parse().unwrap()));
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, toml::to_string(&t).unwrap()).unwrap();
        let e = Experiment::load(&path).unwrap_err().to_string();
        e.strip_prefix(&format!("{}: ", path.display())).unwrap_or_else(|| panic!("{e}")).to_string()
    };
    assert_eq!(
        with_params("distance-from-init", "target_loss = -1"),
        "params.target_loss: must be a finite number > 0, got -1"
    );
    assert_eq!(
        with_params("kernel-motion", "target_loss = inf"),
        "params.target_loss: must be a finite number > 0, got inf"
    );
    assert_eq!(with_params("kernel-velocity", "steps = 0"), "params.steps: must be at least 1, got 0");
    assert_eq!(with_params("ntk-fluctuation", "inits = 1"), "params.inits: must be at least 2, got 1");
    assert_eq!(with_params("ntrf-bound", "delta = 1.5"), "params.delta: must lie in (0, 1), got 1.5");
    assert_eq!(
        with_params("ntrf-bound", "radius_from = 200"),
        "params.radius_from: must be a radius in (0, 181], got 200"
    );
    assert_eq!(with_params("generalization", "c_eps = -2"), "params.c_eps: must be a finite number >= 0, got -2");
    assert_eq!(
        with_params("min-width", "min_width = 64\nmax_width = 32"),
        "params.max_width: must be at least 64, got 32"
    );
    assert_eq!(with_params("min-width", "tau = []"), "params.tau: must be a non-empty list of positive numbers");
    // The bound constants are flat keys beside a kind's own.
    assert_eq!(
        with_params("ntrf-bound", "deltta = 0.1"),
        "params.deltta: unknown parameter for kind ntrf-bound (known: rad_samples, radius_from, delta, c_eps, c_radius, c_conf, c_ntk)"
    );
    assert_eq!(with_params("ntk-complexity", "c_ntk = \"one\""), "params.c_ntk: expected a number, found \"one\"");
    let p = dir.path().join("ok.toml");
    let text = std::fs::read_to_string(experiments_dir().join("generalization.toml")).unwrap();
    assert!(!text.contains("[params]"));
    std::fs::write(&p, text.replacen("\n[", "\n[params]\ndelta = 0.1\nc_eps = 2\n\n[", 1)).unwrap();
    Experiment::load(&p).unwrap();
}

#[test]
fn every_committed_experiment_parses_and_has_quick_confirm_and_paper_profiles() {
    let names = resgen_experiments::spec::list(&experiments_dir()).unwrap();
    assert_eq!(names.len(), 23, "{names:?}");
    for name in names {
        let exp = Experiment::find(&name, &experiments_dir()).unwrap();
        // The figure draws columns its kind declares it writes.
        let columns = exp.kind.columns();
        for y in &exp.plot.y {
            assert!(columns.contains(y), "{name}: plot.y `{y}` is not a column of {}: {columns:?}", exp.kind.name());
        }
        // The verdicts' run: the quick grid on at least 10 seeds, each from 1000 on, so that no
        // exploratory profile's seed is among them.
        let confirm = exp.cells("confirm").unwrap_or_else(|e| panic!("{name}: {e}"));
        let quick = exp.cells("quick").unwrap();
        assert_eq!(exp.profile("confirm").unwrap().from.as_deref(), None);
        assert_eq!(
            confirm.iter().map(|c| c.label().rsplit_once(" seed=").map(|x| x.0.to_string())).collect::<HashSet<_>>(),
            quick.iter().map(|c| c.label().rsplit_once(" seed=").map(|x| x.0.to_string())).collect::<HashSet<_>>(),
            "{name}: the confirm grid is not the quick grid"
        );
        let seeds = exp.seeds("confirm").unwrap();
        assert!(seeds.len() >= 10 && seeds.iter().all(|s| *s >= 1000), "{name}: {seeds:?}");
        for p in ["quick", "paper"] {
            assert!(exp.seeds(p).unwrap().iter().all(|s| *s < 1000), "{name} {p}: a seed of the confirm run");
        }
        for p in ["quick", "paper"] {
            let cells = exp.cells(p).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!cells.is_empty());
            // Every cell's parameters read into its kind's struct (as `resgen list --work` does).
            resgen_experiments::estimate::profile_work(&exp, p).unwrap_or_else(|e| panic!("{name} {p}: {e}"));
            let seeds: HashSet<u64> = cells.iter().map(|c| c.seed).collect();
            if exp.kind == resgen_experiments::Kind::NtkFluctuation {
                // Its replicates are the initializations inside each cell.
                let inits = cells[0].params.get("inits").and_then(|v| v.as_integer()).unwrap_or(0);
                assert!(inits >= 30, "{name} {p}: {inits} initializations");
            } else if matches!(exp.kind, resgen_experiments::Kind::LabelNoise | resgen_experiments::Kind::ThetaPhase)
                && p == "quick"
            {
                // One draw in the quick profile (label-noise's Spearman table pools noise levels
                // and depths; theta-phase's analytic quantities depend on the data only); the
                // paper profiles have 3.
                assert!(!seeds.is_empty());
            } else {
                assert!(seeds.len() >= 3, "{name} {p}: {} seeds", seeds.len());
            }
        }
    }
}

#[test]
fn every_cell_of_every_profile_asks_for_data_that_exists() {
    // A paper-profile cell that asks for more examples than its source has fails only when it
    // runs, possibly minutes into a run on a GPU host. Load each distinct data config once (a
    // sphere draw or the bundled MNIST subset: 1,000 images of digits 3 and 5 in all) and
    // require that every one loads.
    let mut seen = HashSet::new();
    let mut bad = Vec::new();
    for name in resgen_experiments::spec::list(&experiments_dir()).unwrap() {
        let exp = Experiment::find(&name, &experiments_dir()).unwrap();
        for p in ["quick", "paper"] {
            for cell in exp.cells(p).unwrap() {
                let key = format!("{:?}", cell.config.data);
                if seen.insert(key)
                    && let Err(e) = resgen_data::load(&cell.config.data)
                {
                    bad.push(format!("{name} [{p}] {}: {e}", cell.label()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{} data configs do not load:\n{}", bad.len(), bad.join("\n"));
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
    has_columns(
        &t,
        &["arch", "depth", "theta", "layer", "seeds", "h_norm_mean", "h_norm_sd", "h_norm_n", "f_abs_mean"],
    );
    has_columns(&t, &["h_change_mean", "h_change_analytic_mean", "h_norm_analytic_mean"]);
    let h = |arch, theta| value(&t, &[("arch", arch), ("theta", theta), ("layer", "last")], "h_norm");
    // theta = 1/L keeps ||h_L|| O(1); theta = 1 at L = 16 grows by more than 2^(15/2) / 2.
    assert!((0.5..3.0).contains(&h("resnet", "1/L")), "{}", h("resnet", "1/L"));
    assert!(h("resnet", "1") > 90.0, "{}", h("resnet", "1"));
    assert!((0.3..3.0).contains(&h("fc", "1")));
    // ||h_L - h_1|| / ||h_1||: real depth dynamics at theta = 1/L (order 1, not the identity's
    // 0), within 25% of the infinite-width recursion at m = 64 (measured: within 5%).
    let c = |arch, theta, v| value(&t, &[("arch", arch), ("theta", theta), ("layer", "last")], v);
    let (got, want) = (c("resnet", "1/L", "h_change"), c("resnet", "1/L", "h_change_analytic"));
    assert!(got > 0.3 && (got / want - 1.0).abs() < 0.25, "{got} vs {want}");
    // The figure: legends name the parameter, FC (which ignores theta) is drawn once, the
    // palette is Okabe-Ito (ResNet blue, FC vermillion), ticks sit at the data's depth (16),
    // and the caption line says what the error bars are.
    let svg = std::fs::read_to_string(dir.path().join("results/smoke/forward-scale.svg")).unwrap();
    let texts: Vec<&str> = svg.lines().map(str::trim).collect();
    assert!(texts.contains(&"ResNet, theta = 1/L") && texts.contains(&"ResNet, theta = 1"), "legend");
    assert_eq!(texts.iter().filter(|t| **t == "FC").count(), 1, "FC drawn once");
    assert!(svg.contains("#0072B2") && svg.contains("#D55E00"));
    assert!(texts.contains(&"16") && !texts.iter().any(|t| t.starts_with("2.51") || t.starts_with("3.98")));
    assert!(svg.contains("error bars: sd over 3 seeds") && svg.contains("m = 64"));
    // The raw per-seed values are kept beside the table, one row per cell and record.
    let raw = read_table(&dir.path().join("results/smoke/forward-scale.cells.csv")).unwrap();
    assert!(raw.0.contains(&"seed".to_string()) && raw.0.contains(&"h_norm".to_string()));
    // 2 archs x 2 thetas x 3 seeds cells (FC shares one result for both thetas), 17 records each.
    assert_eq!(raw.1.len(), 2 * 2 * 3 * (16 + 1));
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
    has_columns(&t, &["arch", "depth", "width", "view", "layer", "dist_scaled_mean", "train_loss_mean", "steps_mean"]);
    // At the matched training loss (the fair view), sqrt(m) ||W - W0|| stays bounded in m: across
    // a 16x width range it changes by far less than the factor 4 = sqrt(16) it would if
    // ||W - W0|| did not shrink like 1/sqrt(m). Both widths reached the same loss.
    let d = |w, v| value(&t, &[("width", w), ("view", "matched-loss"), ("layer", "max")], v);
    assert!(d("512", "dist_scaled") > 0.0 && d("512", "dist_scaled") < 2.0 * d("32", "dist_scaled"));
    assert!(d("512", "train_loss") <= 0.1 && d("32", "train_loss") <= 0.1);
    // The fixed-step view is kept beside it, at exactly train.iterations steps.
    assert_eq!(value(&t, &[("width", "32"), ("view", "fixed-steps"), ("layer", "max")], "steps"), 50.0);
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
    has_columns(&t, &["arch", "width", "view", "eps_lin_max_mean", "eps_lin_mean_mean", "train_loss_mean"]);
    for arch in ["resnet", "fc"] {
        let e = |w| value(&t, &[("arch", arch), ("width", w), ("view", "matched-loss")], "eps_lin_max");
        assert!(e("512") < e("16"), "{arch}: eps_lin {} at m=512 vs {} at m=16", e("512"), e("16"));
    }
}

#[test]
fn smoke_min_width() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "min-width",
        r#"params = { max_iterations = 500, min_width = 32, max_width = 256, tau = [0.3], eps_lin = [0.3], max_step_gflop = 0.1 }
        grid = { dataset = ["teacher"], "model.arch" = ["resnet", "fc"], "model.depth" = [2, 8] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["arch", "depth", "criterion", "tried_width", "min_width_mean", "found_mean", "kernel_change_mean"],
    );
    has_columns(&t, &["eps_lin_test_rel_mean", "out_of_budget_mean", "kernel_moved_mean", "linearization_failed_mean"]);
    // Measured, not a formula's depth factor: at the same width (m = 32, tried by every search)
    // and matched training loss, GD moves the FC kernel more than the ResNet's, and more at
    // L = 8 than at L = 2 (quick table, teacher data: FC 1.23 -> 9.76, ResNet 0.67 -> 0.41
    // relative kernel change, L = 2 -> 8).
    let kc = |arch, depth| {
        value(&t, &[("arch", arch), ("depth", depth), ("criterion", "tried"), ("tried_width", "32")], "kernel_change")
    };
    assert!(kc("fc", "8") > kc("resnet", "8"), "fc {} vs resnet {}", kc("fc", "8"), kc("resnet", "8"));
    assert!(kc("fc", "8") > kc("fc", "2"), "fc {} at L=8 vs {} at L=2", kc("fc", "8"), kc("fc", "2"));
    // Trainability alone is reached at the smallest width tried by both networks.
    let m = |arch, crit| value(&t, &[("arch", arch), ("depth", "8"), ("criterion", crit)], "min_width");
    assert_eq!(m("resnet", "trainable"), 32.0);
    // The compute cap: one GD step on the 100 teacher points (d = 20) at L = 8 costs
    // 6 * 100 * (20 m + 7 m^2 + m) FLOP, 0.070 GFLOP at m = 128 and 0.278 at m = 256, so with
    // max_step_gflop = 0.1 the FC search (not lazy at L = 8 below m = 256, kernel change 3.3 at
    // m = 128 in the quick table) ends at 128; m = 256 at L = 2 costs 0.043 and stays allowed.
    let crit = "lazy tau=0.3 eps=0.3";
    let largest =
        |arch, depth| value(&t, &[("arch", arch), ("depth", depth), ("criterion", crit)], "largest_width_tried");
    assert_eq!(largest("fc", "8"), 128.0);
    assert!(largest("fc", "2") <= 256.0 && largest("fc", "2") >= 32.0);
    // Beside it, the extrapolated lazy width: where the power laws fitted to the kernel change
    // and the linearization error over the three largest widths tried (32, 64, 128, each reaching
    // the target) fall to (tau, eps); the fit itself is checked against a known law in the
    // crate's unit tests. Here, the rule: FC is not lazy at L = 8 up to 128, so a width exists
    // only if both fitted exponents are negative (with one seed, FC's kernel change over
    // 32..128 can rise: measured +0.29 here), lies past 128, and is given only up to 8 x 128
    // (`beyond_limit` past that).
    let ext = format!("{crit} extrapolated");
    let e = |v| value(&t, &[("arch", "fc"), ("depth", "8"), ("criterion", ext.as_str())], v);
    let (w, beyond, ks, ls) = (e("min_width"), e("beyond_limit"), e("kernel_slope"), e("lin_slope"));
    assert!(ks.is_finite() && ls.is_finite(), "the three largest widths reached the target: {ks} {ls}");
    if ks < 0.0 && ls < 0.0 {
        assert!((beyond == 0.0 && w > 128.0 && w <= 1024.0) || (beyond == 1.0 && w.is_nan()), "{w} {beyond}");
    } else {
        assert!(w.is_nan() && beyond == 0.0 && e("found") == 0.0, "{w} {beyond}");
    }
    let fit = read_table(&dir.path().join("results/smoke/min-width-fit.csv")).unwrap();
    assert!(fit.0.starts_with(&["dataset".to_string(), "arch".to_string()]), "{:?}", fit.0);
    assert!(fit.0.contains(&"b_ci_lo".to_string()) && fit.0.contains(&"b_ci_hi".to_string()));
}

#[test]
fn smoke_rademacher() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "rademacher",
        r#"set = { "model.width" = 64 }
        params = { samples = 50, max_iterations = 500 }
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
    // At the radius GD actually reaches (matched loss, kernel-normalized step) the comparison
    // changes: the deep FC network reaches the loss much closer to W0 (measured at L = 32,
    // m = 64: trained R about 1.5 for FC against 9 for the ResNet), which offsets its larger
    // Rademacher term per unit radius. The smoke test checks the measured direction of R.
    let tr = |arch| value(&t, &[("arch", arch), ("layer", "total-at-trained-R")], "trained_radius");
    assert!(tr("fc") > 0.0 && tr("fc") < tr("resnet"), "fc {} vs resnet {}", tr("fc"), tr("resnet"));
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
    has_columns(&t, &["constants", "complexity_inf_mean", "cao_gu_ntk_inf_bound_mean", "qp_duality_gap_mean"]);
    for arch in ["resnet", "fc"] {
        // The infimum over relabelings is never above the y~ = y value.
        let c = |v| value(&t, &[("arch", arch), ("depth", "8"), ("kernel", "empirical")], v);
        assert!(c("complexity_inf") <= c("complexity") * (1.0 + 1e-9), "{arch}");
    }
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
fn smoke_ntk_fluctuation() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "ntk-fluctuation",
        r#"params = { inits = 20 }
        set = { "data.n_train" = 6 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [1, 16], "model.width" = [16, 256] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "width", "l_over_m", "cv_diag_mean", "cv_offdiag_mean", "cv_yky_mean"]);
    let cv = |arch, depth, width| value(&t, &[("arch", arch), ("depth", depth), ("width", width)], "cv_diag");
    // Measured, not built in: at L / m = 1 (L = m = 16) FC's kernel fluctuates over
    // initializations far more than the ResNet's at theta = 1/L; at L = 1 the two networks
    // are the same (no residual layer) and so are their fluctuations.
    assert!(
        cv("fc", "16", "16") > 1.5 * cv("resnet", "16", "16"),
        "{} vs {}",
        cv("fc", "16", "16"),
        cv("resnet", "16", "16")
    );
    assert!((cv("fc", "1", "16") - cv("resnet", "1", "16")).abs() < 1e-9 * cv("fc", "1", "16"));
    // Wider is less random, for both.
    for arch in ["resnet", "fc"] {
        assert!(cv(arch, "16", "256") < cv(arch, "16", "16"), "{arch}");
    }
    // The derived table: one row per network, depth and statistic.
    let (h, rows) = read_table(&dir.path().join("results/smoke/ntk-fluctuation-min-width.csv")).unwrap();
    assert_eq!(h[..3], ["arch".to_string(), "depth".into(), "statistic".into()]);
    assert_eq!(rows.len(), 2 * 2 * 3);
}

#[test]
fn smoke_kernel_motion() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "kernel-motion",
        r#"set = { "data.n_train" = 30 }
        params = { target_loss = 0.2, max_iterations = 2000 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [8], "model.width" = [32, 256] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["arch", "depth", "width", "kernel_change_mean", "kernel_alignment_mean", "target_alignment_final_mean"],
    );
    let v = |arch, w, c| value(&t, &[("arch", arch), ("width", w)], c);
    for arch in ["resnet", "fc"] {
        assert_eq!(v(arch, "256", "reached"), 1.0, "{arch} did not reach the target");
        // Measured: the kernel moves less at the larger width; the alignment is a cosine.
        assert!(v(arch, "256", "kernel_change") < v(arch, "32", "kernel_change"), "{arch}");
        let a = v(arch, "256", "kernel_alignment");
        assert!(a > 0.0 && a <= 1.0 + 1e-12, "{arch}: {a}");
    }
    // At the same width, depth 8, the ResNet's kernel moves less than FC's.
    assert!(v("resnet", "256", "kernel_change") < v("fc", "256", "kernel_change"));
}

#[test]
fn a_diverging_cell_is_censored_in_the_trained_depth_exponent_not_fatal() {
    // Two FC cells: one with a sane step, one with a step so large (nu = 1e6) that GD
    // diverges. The sweep completes, the diverged cell is recorded (diverged 1, reached 0, no
    // kernel change), and the depth-exponent table counts it as censored.
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "kernel-motion",
        r#"set = { "data.n_train" = 20 }
        params = { target_loss = 0.2, max_iterations = 500 }
        grid = { "model.arch" = ["fc"], "model.depth" = [2, 4], "model.width" = [32], "train.nu" = [1.0, 1e6] }
        seeds = [0, 1]"#,
        dir.path(),
    );
    let o = opts(dir.path());
    let r = run_sweep(&exp, "smoke", &o).unwrap();
    assert!(r.failed.is_empty(), "a diverged cell must not fail: {:?}", r.failed);
    let m = merge(&exp, "smoke", &o.runs, &dir.path().join("results")).unwrap();
    let t = read_table(&m.written[0]).unwrap();
    for depth in ["2", "4"] {
        assert_eq!(value(&t, &[("depth", depth), ("nu", "1000000.0")], "diverged"), 1.0);
        assert_eq!(value(&t, &[("depth", depth), ("nu", "1000000.0")], "reached"), 0.0);
        assert!(value(&t, &[("depth", depth), ("nu", "1000000.0")], "kernel_change").is_nan());
        assert_eq!(value(&t, &[("depth", depth), ("nu", "1.0")], "diverged"), 0.0);
    }
    let exponents = dir.path().join("results/smoke/kernel-motion-depth-exponent.csv");
    let e = read_table(&exponents).unwrap();
    let power = e.1.iter().find(|r| r[1] == "power").unwrap_or_else(|| panic!("{e:?}"));
    let col = |c: &str| power[e.0.iter().position(|h| h == c).unwrap()].clone();
    // 8 cells: the 4 diverged ones are censored, whatever else happened to the others.
    assert_eq!((col("cells"), col("censored")), ("8".to_string(), "4".to_string()));
}

#[test]
fn smoke_label_noise() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "label-noise",
        r#"set = { "data.n_train" = 60, "data.n_test" = 200, "model.width" = 64, "train.iterations" = 300, "train.log_every" = 300 }
        grid = { "data.label_noise" = [0.0, 0.5], "model.arch" = ["resnet", "fc"], "model.depth" = [2] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["label_noise", "test_error_mean", "steps_mean", "reached_mean", "analytic_sqrt_yKinvy_over_n_mean"],
    );
    for arch in ["resnet", "fc"] {
        let v = |noise, c| value(&t, &[("label_noise", noise), ("arch", arch)], c);
        // Measured: random training labels cost test error, take more steps to fit, and raise
        // the NTK complexity of the labels (empirical and analytic kernels alike).
        assert!(v("0.5", "test_error") > v("0.0", "test_error") + 0.1, "{arch}");
        assert!(v("0.5", "steps") >= v("0.0", "steps"), "{arch}");
        assert!(v("0.5", "ntk_sqrt_yKinvy_over_n") > v("0.0", "ntk_sqrt_yKinvy_over_n"), "{arch}");
        assert!(v("0.5", "analytic_sqrt_yKinvy_over_n") > v("0.0", "analytic_sqrt_yKinvy_over_n"), "{arch}");
    }
    let (h, rows) = read_table(&dir.path().join("results/smoke/label-noise-spearman.csv")).unwrap();
    assert_eq!(h, ["arch", "depth", "quantity", "spearman", "points"]);
    assert!(rows.iter().any(|r| r[0] == "fc" && r[1] == "all" && r[2] == "ntk_sqrt_yKinvy_over_n"));
}

#[test]
fn spearman_against_hand_values() {
    use resgen_experiments::table::{ranks, spearman};
    // Ties share their mean rank: (10, 20, 20, 30) -> (1, 2.5, 2.5, 4).
    assert_eq!(ranks(&[10.0, 20.0, 20.0, 30.0]), [1.0, 2.5, 2.5, 4.0]);
    // Any increasing relation has rho = 1, a decreasing one -1.
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 8.0, 27.0, 64.0]).unwrap() - 1.0).abs() < 1e-12);
    assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
    // x = (1, 2, 3, 4, 5), y ranks (2, 1, 4, 3, 5): sum d^2 = 4, rho = 1 - 6 * 4 / (5 * 24) = 0.8.
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[20.0, 10.0, 40.0, 30.0, 50.0]).unwrap() - 0.8).abs() < 1e-12);
    assert!(spearman(&[1.0, 2.0], &[1.0, 2.0]).is_none() && spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
}

#[test]
fn smoke_theta_phase() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "theta-phase",
        r#"set = { "data.n_train" = 40, "data.n_test" = 60, "model.width" = 64, "train.iterations" = 50, "train.log_every" = 50 }
        grid = { "model.theta" = ["1", "1/L"], "model.depth" = [1, 16] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(
        &t,
        &["theta", "depth", "h_change_mean", "offdiag_sd_mean", "kernel_change_mean", "kernel_test_error_mean"],
    );
    let v = |theta, depth, c| value(&t, &[("theta", theta), ("depth", depth)], c);
    // At L = 1 there is no residual layer: theta does not matter and nothing has changed.
    assert_eq!(v("1", "1", "offdiag_sd"), v("1/L", "1", "offdiag_sd"));
    assert_eq!(v("1/L", "1", "kernel_change"), 0.0);
    // Measured at L = 16: theta = 1 blows the forward pass up and flattens the normalized
    // kernel (by orders of magnitude); theta = 1/L keeps both of order one.
    assert!(v("1", "16", "h_change") > 10.0 * v("1/L", "16", "h_change"));
    assert!(v("1/L", "16", "h_change") < 2.0);
    assert!(v("1", "16", "offdiag_sd") < 0.2 * v("1/L", "16", "offdiag_sd"));
    assert!(v("1/L", "16", "kernel_change") < v("1", "16", "kernel_change"));
}

#[test]
fn smoke_theta_phase_two_layer_branch() {
    // The centred two-layer branch (analytic quantities only: training capped at L = 1).
    // Predicted (analytic module docs): ||h_L||^2 -> (1 + theta^2)^{L-1}, so theta = 1/sqrt(L)
    // has a depth limit (h_change -> sqrt(e - 1) = 1.31) and theta = 1/L makes depth inert
    // (theta^2 L -> 0: the kernel tends to the depth-1 kernel).
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "theta-phase",
        r#"set = { "data.n_train" = 40, "data.n_test" = 60, "model.width" = 256, "model.branch" = "two-layer" }
        params = { train_max_depth = 1 }
        grid = { "model.theta" = ["1/sqrt(L)", "1/L"], "model.depth" = [16, 256] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    let v = |theta, depth, c| value(&t, &[("theta", theta), ("depth", depth)], c);
    // 1/sqrt(L): the same forward change and kernel change at L = 16 and 256 (a limit),
    // (1 + 1/16)^{15} = 2.48 and (1 + 1/256)^{255} = 2.71: h_change 1.22 and 1.31 (m = 256
    // adds a few percent of noise).
    for (depth, want) in [("16", 1.22), ("256", 1.31)] {
        let h = v("1/sqrt(L)", depth, "h_change");
        assert!((h / want - 1.0).abs() < 0.1, "1/sqrt(L) at L = {depth}: h_change {h}, predicted {want}");
    }
    let (k16, k256) = (v("1/sqrt(L)", "16", "kernel_change"), v("1/sqrt(L)", "256", "kernel_change"));
    assert!(k256 > 0.05 && (k256 - k16).abs() < 0.25 * k256, "1/sqrt(L): kernel change {k16} -> {k256}");
    // 1/L: inert, the kernel change shrinks with depth and is far below 1/sqrt(L)'s.
    let (i16, i256) = (v("1/L", "16", "kernel_change"), v("1/L", "256", "kernel_change"));
    assert!(i256 < 0.5 * i16 && i256 < 0.2 * k256, "1/L: kernel change {i16} -> {i256} (1/sqrt(L): {k256})");
}

#[test]
fn smoke_kernel_vs_net() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "kernel-vs-net",
        r#"set = { "data.n_train" = 30, "data.n_test" = 40, "train.iterations" = 60, "train.log_every" = 60 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [4], "model.width" = [32, 512] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    has_columns(&t, &["arch", "depth", "width", "rmse_test_mean", "disagree_test_mean", "krr_test_error_mean"]);
    let v = |arch, w, c| value(&t, &[("arch", arch), ("width", w)], c);
    for arch in ["resnet", "fc"] {
        // Both predictors took the same 60 steps; the wider network follows its linearization
        // more closely (measured: by several times).
        assert_eq!(v(arch, "512", "steps"), 60.0);
        assert!(v(arch, "512", "rmse_test") < 0.5 * v(arch, "32", "rmse_test"), "{arch}");
        assert!(v(arch, "512", "rmse_train") < v(arch, "32", "rmse_train"), "{arch}");
        let d = v(arch, "512", "disagree_test");
        assert!((0.0..=1.0).contains(&d), "{arch}: {d}");
    }
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
        &[
            "arch",
            "depth",
            "radius",
            "constants",
            "eps_ntrf_mean",
            "rad_mc_mean",
            "rad_cf_mean",
            "bound_cg_fc_formula_mean",
            "bound_fcg_resnet_formula_mean",
            "bound_measured_rad_mean",
            "bound_measured_rad_cf_mean",
            "r_star_measured_rad_mean",
            "kkt_residual_mean",
        ],
    );
    let (h, rows) = &t;
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    for arch in ["resnet", "fc"] {
        let eps: Vec<f64> = rows
            .iter()
            .filter(|r| r[col("arch")] == arch && r[col("radius")] != "best")
            .map(|r| r[col("eps_ntrf_mean")].parse().unwrap())
            .collect();
        // The experiment's grid, R = 2^(k/2) for k = -14..=15 (1/128 to 181): 30 radii.
        assert_eq!(eps.len(), 30);
        assert!(eps.windows(2).all(|w| w[1] <= w[0] + 1e-6), "{arch}: {eps:?}");
        // "best" is each formula minimized over R on its own: no radius row beats it.
        for f in ["cg_fc_formula", "fcg_resnet_formula", "measured_rad", "measured_rad_cf"] {
            let best = value(&t, &[("arch", arch), ("radius", "best")], &format!("bound_{f}"));
            let all: Vec<f64> = rows
                .iter()
                .filter(|r| r[col("arch")] == arch && r[col("radius")] != "best")
                .map(|r| r[col(&format!("bound_{f}_mean"))].parse().unwrap())
                .collect();
            assert!(all.iter().all(|v| *v >= best - 1e-9), "{arch} {f}");
        }
    }
    // Measured, not assumed: at the same R the Rademacher term of the FC network's linearized
    // ball is larger than the ResNet's at L = 8 (quick table: about 3x).
    let rad = |arch| value(&t, &[("arch", arch), ("radius", "1")], "rad_mc");
    assert!(rad("fc") > rad("resnet"), "fc {} vs resnet {}", rad("fc"), rad("resnet"));
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
            "bound_measured_rad_mean",
            "bound_cg_fc_formula_mean",
            "bound_fcg_resnet_formula_mean",
            "bound_cao_gu_ntk_mean",
            "bound_cao_gu_ntk_inf_mean",
            "bound_rademacher_route_mean",
            "rademacher_monte_carlo_mean",
            "route_radius_mean",
        ],
    );
    for arch in ["resnet", "fc"] {
        let e = value(&t, &[("arch", arch)], "test_error");
        assert!((0.0..=1.0).contains(&e));
    }
    // Each formula is evaluated for both networks; applied to the same network, the FC formula
    // (depth factor L + 1) is never below the ResNet formula (the only difference).
    for arch in ["resnet", "fc"] {
        let v = |b| value(&t, &[("arch", arch)], b);
        assert!(v("bound_cg_fc_formula") >= v("bound_fcg_resnet_formula"), "{arch}");
        assert!(v("bound_cao_gu_ntk_inf") <= v("bound_cao_gu_ntk") * (1.0 + 1e-9), "{arch}");
    }
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

#[test]
fn committed_summary_is_what_the_committed_tables_produce() {
    // results/summary.md and .tex are generated by `resgen report` (run at the end of
    // `resgen run all --profile confirm`); regenerate them from the committed tables and the
    // committed rules and compare byte for byte.
    use resgen_experiments::spec::VERDICT_PROFILE;
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    let rows = resgen_experiments::report::claims(&results, &experiments_dir()).unwrap();
    assert_eq!(rows.len(), 17);
    let md = std::fs::read_to_string(results.join("summary.md")).unwrap();
    let seeds = resgen_experiments::report::fewest_seeds(&results).unwrap();
    assert_eq!(
        md,
        resgen_experiments::report::markdown(&rows, seeds, VERDICT_PROFILE),
        "results/summary.md is stale: run `resgen report`"
    );
    assert!(
        md.contains(resgen_experiments::verdict::METHOD)
            && md.contains(&format!("fewest seeds behind any verdict: {seeds}"))
    );
    let tex = std::fs::read_to_string(results.join("summary.tex")).unwrap();
    assert_eq!(
        tex,
        resgen_experiments::report::latex(&rows, VERDICT_PROFILE),
        "results/summary.tex is stale: run `resgen report`"
    );
    // Every verdict is typed, and what the summary prints is its rendering; no committed row
    // rests on data merged under another rule.
    for r in &rows {
        let c = &r.claim;
        assert!(!c.verdict.outcomes().is_empty(), "{}", c.claim);
        assert!(md.contains(&format!("**{}**", c.verdict.to_string().replace('|', "\\|"))), "{}", c.claim);
        assert!(!c.verdict.to_string().contains(resgen_experiments::report::RULE_CHANGED), "{}", c.claim);
    }
}

#[test]
fn the_committed_tables_come_from_the_confirm_run_on_seeds_no_other_committed_table_used() {
    // Every table in results/ (the verdicts' run) records the confirm profile, at least 10
    // seeds, none of them a seed of any exploratory table under results/<profile>/, and a
    // clean commit.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    let metas = |dir: &Path| -> Vec<serde_json::Value> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".meta.json"))
            .map(|p| serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
            .collect()
    };
    let seeds_of = |m: &serde_json::Value| -> Vec<u64> {
        m["seeds"].as_array().map(|a| a.iter().map(|s| s.as_u64().unwrap()).collect()).unwrap_or_default()
    };
    let mut explored = std::collections::BTreeSet::new();
    for sub in ["quick", "paper"] {
        let dir = root.join(sub);
        if dir.exists() {
            for m in metas(&dir) {
                // Tables merged before seeds were recorded used seeds 0 to 4.
                explored.extend(if m["seeds"].is_null() { (0..5).collect() } else { seeds_of(&m) });
            }
        }
    }
    for m in metas(&root) {
        let name = m["experiment"].as_str().unwrap().to_string();
        assert_eq!(m["profile"], "confirm", "{name}");
        let seeds = seeds_of(&m);
        assert!(seeds.len() >= 10, "{name}: {} seeds", seeds.len());
        assert!(seeds.iter().all(|s| !explored.contains(s)), "{name}: a seed of an exploratory table");
        for c in m["commits"].as_array().unwrap() {
            assert!(!c.as_str().unwrap().contains("dirty"), "{name}: {c}");
        }
        assert!(m["rule_hash"].is_string(), "{name}");
    }
}

/// A copy of the committed tables and their meta.json in a temporary folder, for breaking one.
fn committed_tables_copy() -> tempfile::TempDir {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&results).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv" || x == "json") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[test]
fn a_rule_changed_after_its_data_leaves_its_row_undecided() {
    use resgen_experiments::verdict::Outcome;
    let tables = committed_tables_copy();
    let exps = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(experiments_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, exps.path().join(p.file_name().unwrap())).unwrap();
    }
    // As committed, no row is refused.
    let rows = resgen_experiments::report::claims(tables.path(), exps.path()).unwrap();
    let (refused, _) = resgen_experiments::report::undecided(&rows);
    assert!(refused.is_empty(), "{refused:?}");
    // Move one number of grad-features' rule after its data: that row, and only it, is refused.
    let p = exps.path().join("grad-features.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("grad_ratio_min = { value = 3.0,"));
    std::fs::write(&p, text.replace("grad_ratio_min = { value = 3.0,", "grad_ratio_min = { value = 2.0,")).unwrap();
    let rows = resgen_experiments::report::claims(tables.path(), exps.path()).unwrap();
    let (refused, _) = resgen_experiments::report::undecided(&rows);
    assert_eq!(
        refused,
        vec!["grad-features: not decided (rule changed after the data: rerun grad-features)".to_string()]
    );
    let row = rows.iter().find(|r| r.claim.table == "grad-features").unwrap();
    assert_eq!(row.claim.verdict.outcomes(), vec![Outcome::NotDecided]);
    // Rewording a reason is not a change of rule.
    std::fs::write(&p, text.replace("FC's at least 3 times", "FC's at least three times")).unwrap();
    let rows = resgen_experiments::report::claims(tables.path(), exps.path()).unwrap();
    assert!(resgen_experiments::report::undecided(&rows).0.is_empty());
    // A number the rule reads and the file lacks is an error naming the file and the key.
    std::fs::write(&p, text.replace("grad_ratio_min = {", "grad_ratio_minimum = {")).unwrap();
    let e = resgen_experiments::report::claims(tables.path(), exps.path()).unwrap_err().to_string();
    assert!(e.contains("grad-features.toml") && e.contains("verdict.grad_ratio_min"), "{e}");
    // A number without its reason does not load.
    std::fs::write(&p, text.replace(r#"why = "theta = 1/L shrinks"#, r#"why = "", w = "theta = 1/L shrinks"#)).unwrap();
    let e = Experiment::load(&p).unwrap_err().to_string();
    assert!(e.contains("verdict.grad_ratio_min"), "{e}");
}

#[test]
fn a_table_with_a_missing_or_malformed_column_is_an_error_naming_it() {
    use resgen_experiments::kinds::forward_scale::H_NORM;
    let dir = committed_tables_copy();
    let path = dir.path().join("forward-scale.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mean = format!("{H_NORM}_mean");
    // Rename the column: the table lacks it.
    std::fs::write(&path, text.replacen(&mean, "renamed", 1)).unwrap();
    let e = resgen_experiments::report::claims(dir.path(), &experiments_dir()).unwrap_err().to_string();
    assert!(e.contains("forward-scale.csv") && e.contains(&format!("no column `{mean}`")), "{e}");
    // A value that is not a number, on the table's second data row (line 3 of the file).
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == mean).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[2].split(',').map(String::from).collect();
    fields[col] = "abc".into();
    lines[2] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let e = resgen_experiments::report::claims(dir.path(), &experiments_dir()).unwrap_err().to_string();
    assert!(
        e.contains("forward-scale.csv") && e.contains(&format!("line 3, column `{mean}`: `abc` is not a number")),
        "{e}"
    );
    // The same in a derived table read by the headline.
    let dir = committed_tables_copy();
    let path = dir.path().join("width-depth-depth-exponent.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(",p_lo,", ",plo,", 1)).unwrap();
    let e = resgen_experiments::report::claims(dir.path(), &experiments_dir()).unwrap_err().to_string();
    assert!(e.contains("width-depth-depth-exponent.csv") && e.contains("no column `p_lo`"), "{e}");
}

/// The number words the docs use for the count of experiments.
fn number_word(n: usize) -> &'static str {
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "twenty-one",
        "twenty-two",
        "twenty-three",
        "twenty-four",
        "twenty-five",
    ][n]
}

#[test]
fn the_lists_of_experiments_in_the_docs_follow_the_experiment_files_and_the_claims() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let names: Vec<String> = resgen_experiments::spec::list(&experiments_dir())
        .unwrap()
        .into_iter()
        .filter(|n| Experiment::find(n, &experiments_dir()).is_ok_and(|e| !e.claim.is_empty()))
        .collect();
    let claims: Vec<&str> = resgen_experiments::kinds::CLAIMS.iter().map(|(n, _, _)| *n).collect();
    // Every claim's experiment is an experiment file.
    for c in &claims {
        assert!(names.iter().any(|n| n == c), "{c} has a claim but no experiments/{c}.toml");
    }
    let (readme, guide, tables) = (read("README.md"), read("docs/experiments.md"), read("results/README.md"));
    // The README's results table has one row per claim, in the summary's order.
    let rows: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| claim | experiment |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('`').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(rows, claims, "README.md's results table against kinds::CLAIMS");
    // Every experiment is named in the docs' list and has its section in results/README.md.
    let count = number_word(names.len());
    let capital = format!("{}{}", count[..1].to_uppercase(), &count[1..]);
    assert!(guide.contains(&format!("{capital} experiments ship")), "docs/experiments.md: count is not {count}");
    assert!(readme.contains(&format!("the {count} experiment")), "README.md: count is not {count}");
    for n in &names {
        assert!(guide.contains(&format!("`{n}`")), "docs/experiments.md does not list {n}");
        assert!(tables.contains(&format!("### {n}.csv")), "results/README.md has no section for {n}");
    }
}

#[test]
fn fits_and_summary_statistics_against_hand_values() {
    use resgen_experiments::table::mean_sd;
    use resgen_stats::{linear_fit, r_squared};
    // y = 1 + 2x through (1, 3), (2, 5), (3, 7): exactly a = 1, b = 2.
    let (a, b) = linear_fit(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]).unwrap();
    assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
    // Through (0, 0), (1, 1), (2, 1): x mean 1, y mean 2/3, Sxy = 1, Sxx = 2, so b = 1/2 and
    // a = 2/3 - 1/2 = 1/6.
    let (a, b) = linear_fit(&[0.0, 1.0, 2.0], &[0.0, 1.0, 1.0]).unwrap();
    assert!((a - 1.0 / 6.0).abs() < 1e-12 && (b - 0.5).abs() < 1e-12);
    assert!(linear_fit(&[1.0], &[1.0]).is_none() && linear_fit(&[2.0, 2.0], &[1.0, 3.0]).is_none());
    // Observations (1, 2, 3), predictions (1, 2, 4): SS_tot = 2, SS_res = 1, r2 = 1/2.
    assert!((r_squared(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]) - 0.5).abs() < 1e-12);
    assert_eq!(r_squared(&[1.0, 2.0], &[1.0, 2.0]), 1.0);
    // (1, 2, 3, 4): mean 2.5, sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
    let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
    assert!((m.unwrap() - 2.5).abs() < 1e-12 && (s.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert_eq!(mean_sd(&[7.0]), (Some(7.0), None));
    assert_eq!(mean_sd(&[]), (None, None));
}

#[test]
fn keys_are_formatted_apart_from_display_and_print_as_before() {
    use resgen_experiments::num::fmt;
    use resgen_experiments::record::key_number;
    // Hand values: 6 significant digits, shortest form.
    assert_eq!(key_number(2f64.sqrt()), "1.414214");
    assert_eq!(key_number(1.0 / 16.0), "0.0625");
    assert_eq!(key_number(1.0 / 1024.0), "0.0009765625");
    assert_eq!(key_number(64.0), "64");
    assert_eq!(key_number(0.0), "0");
    // Today the display format prints keys the same way (so the committed tables' key columns
    // are what key_number writes); the two are separate functions so that changing the display
    // cannot change stored keys.
    for k in -40..40 {
        let v = 2f64.powf(k as f64 / 2.0) * 1.234567891;
        assert_eq!(key_number(v), fmt(v), "{v}");
    }
}

#[test]
fn smoke_width_depth_counts_every_cell_in_its_depth_exponent() {
    // The trained headline on a tiny grid: the depth-exponent table accounts for every cell
    // (fitted, outside the lazy region, or censored), and with a budget of 3 steps every cell
    // is censored, counted and not fitted.
    for (iterations, all_censored) in [(2000, false), (3, true)] {
        let dir = tempfile::tempdir().unwrap();
        let exp = tiny(
            "width-depth",
            &format!(
                r#"set = {{ "data.n_train" = 30 }}
                params = {{ target_loss = 0.2, max_iterations = {iterations} }}
                grid = {{ "model.arch" = ["resnet", "fc"], "model.depth" = [2, 8], "model.width" = [32, 128] }}
                seeds = [0, 1]"#
            ),
            dir.path(),
        );
        run(&exp, dir.path());
        let e = read_table(&dir.path().join("results/smoke/width-depth-depth-exponent.csv")).unwrap();
        let col = |name: &str| e.0.iter().position(|h| h == name).unwrap();
        // A power-law row and a log-law row per network, then the power law over each half of
        // the depths (here one depth each: no fit), which count only their half's cells, and
        // the power law at the region's further cuts (0.5, 2, every cell that reached).
        assert_eq!(e.1.len(), 14, "{e:?}");
        for row in e.1.iter().filter(|r| r[1] == "power" || r[1] == "log" || r[1].starts_with("power-cut")) {
            let n = |c: &str| row[col(c)].parse::<usize>().unwrap_or(0);
            // 2 depths x 2 widths x 2 seeds per network.
            assert_eq!(n("cells"), 8, "{row:?}");
            assert_eq!(n("points") + n("outside_region") + n("censored"), 8, "{row:?}");
            if all_censored {
                assert_eq!(n("censored"), 8, "{row:?}");
                assert!(row[col("p")].is_empty(), "{row:?}");
            }
        }
        if !all_censored {
            // Measured: the ResNet's kernel moves little here, so all its cells are fitted.
            let res = e.1.iter().find(|r| r[0] == "resnet").unwrap();
            assert_eq!(res[col("points")], "8", "{res:?}");
            assert!(res[col("p")].parse::<f64>().unwrap().is_finite());
        }
    }
}

#[test]
fn smoke_kernel_velocity() {
    // The headline at the start of GD on a tiny grid: velocity = kernel change / output change,
    // the depth-exponent table accounts for every cell, and a step size that makes every run
    // diverge leaves every cell counted as censored (`measured` 0, `diverged` 1), not dropped.
    for (nu, diverging) in [(4.0, false), (1e7, true)] {
        let dir = tempfile::tempdir().unwrap();
        let exp = tiny(
            "kernel-velocity",
            &format!(
                r#"set = {{ "data.n_train" = 20, "train.nu" = {nu:?} }}
                params = {{ steps = 2 }}
                grid = {{ "model.arch" = ["resnet", "fc"], "model.depth" = [2, 16], "model.width" = [32, 256] }}
                seeds = [0, 1]"#
            ),
            dir.path(),
        );
        let t = run(&exp, dir.path());
        has_columns(&t, &["kernel_velocity_mean", "kernel_change_mean", "output_change_mean", "measured_mean"]);
        let e = read_table(&dir.path().join("results/smoke/kernel-velocity-depth-exponent.csv")).unwrap();
        let col = |name: &str| e.0.iter().position(|h| h == name).unwrap();
        // A power-law row and a log-law row per network, then the power law over each half of
        // the depths (here one depth each: no fit), which count only their half's cells.
        assert_eq!(e.1.len(), 8, "{e:?}");
        for row in e.1.iter().filter(|r| r[1] == "power" || r[1] == "log") {
            let n = |c: &str| row[col(c)].parse::<usize>().unwrap_or(0);
            // 2 depths x 2 widths x 2 seeds per network, none outside a region (there is none).
            assert_eq!((n("cells"), n("outside_region")), (8, 0), "{row:?}");
            assert_eq!(n("points") + n("censored"), 8, "{row:?}");
            match (diverging, row[0].as_str()) {
                (false, _) => assert_eq!(n("censored"), 0, "{row:?}"),
                // Most runs diverge (a few shallow ones survive two such steps).
                (true, _) => assert!(n("censored") >= 4, "{row:?}"),
            }
        }
        let v = |arch, depth, w, c| value(&t, &[("arch", arch), ("depth", depth), ("width", w)], c);
        if diverging {
            assert_eq!(v("fc", "16", "32", "diverged"), 1.0);
            assert!(v("fc", "16", "32", "kernel_velocity").is_nan());
            continue;
        }
        // Each seed's velocity is its kernel change over its output change.
        let cells = read_table(&dir.path().join("results/smoke/kernel-velocity.cells.csv")).unwrap();
        let c = |name: &str| cells.0.iter().position(|h| h == name).unwrap();
        for r in &cells.1 {
            let x = |name: &str| r[c(name)].parse::<f64>().unwrap();
            let want = x("kernel_change") / x("output_change");
            assert!((x("kernel_velocity") - want).abs() <= 1e-6 * want, "{r:?}");
        }
        // Measured: the kernel moves less per unit of output change at the larger width, and at
        // depth 16 FC's moves more than the ResNet's.
        for arch in ["resnet", "fc"] {
            assert!(v(arch, "16", "256", "kernel_velocity") < v(arch, "16", "32", "kernel_velocity"), "{arch}");
        }
        assert!(v("fc", "16", "32", "kernel_velocity") > v("resnet", "16", "32", "kernel_velocity"));
    }
}

#[test]
fn smoke_width_depth_control_and_mnist_measure_the_trained_layers_kernel() {
    // The frozen-layer control on MNIST (the strictest of the three variants): every cell
    // reaches the target with W_1 and W_{L+1} frozen, and its `hidden_share` is the hidden
    // layers' share of tr K at W0, worked out here from the per-layer kernels of W0.
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny(
        "width-depth-mnist-frozen",
        r#"set = { "data.n_train" = 20 }
        params = { target_loss = 0.3, max_iterations = 2000 }
        grid = { "model.arch" = ["resnet", "fc"], "model.depth" = [3], "model.width" = [32] }
        seeds = [0]"#,
        dir.path(),
    );
    let t = run(&exp, dir.path());
    let (_, dev) = resgen_tests::cpu_f64();
    for cell in exp.cells("smoke").unwrap() {
        let cfg = &cell.config;
        assert!(cfg.model.freeze_input && cfg.model.freeze_output);
        let split = resgen_data::load(&cfg.data).unwrap();
        let net = resgen_models::Net::init(&cfg.model, split.train.d, resgen_models::Precision::F64, &dev).unwrap();
        let e = resgen_bounds::ntk::empirical_ntk(&net, &split.train.x, split.train.n);
        // L = 3: W_2 and W_3 are the hidden layers, W_1 and W_4 the frozen ones.
        let want = (e.per_layer[1].trace() + e.per_layer[2].trace()) / e.total.trace();
        let arch = if cfg.model.arch == resgen_models::Arch::Resnet { "resnet" } else { "fc" };
        let got = value(&t, &[("arch", arch)], "hidden_share");
        assert!(resgen_tests::rel(got, want, 1e-12) < 1e-5, "{arch}: {got} vs {want}");
        assert_eq!(value(&t, &[("arch", arch)], "reached"), 1.0, "{arch}");
    }
    // Nothing frozen: the trained layers' kernel is every layer's, and the kernel change is the
    // same number whichever is asked for.
    let change = |trained: bool| {
        let dir = tempfile::tempdir().unwrap();
        let exp = tiny(
            "width-depth",
            &format!(
                r#"set = {{ "data.n_train" = 20 }}
                params = {{ target_loss = 0.3, max_iterations = 2000, trained_kernel = {trained} }}
                grid = {{ "model.arch" = ["resnet"], "model.depth" = [3], "model.width" = [32] }}
                seeds = [0]"#
            ),
            dir.path(),
        );
        value(&run(&exp, dir.path()), &[("arch", "resnet")], "kernel_change")
    };
    assert_eq!(change(true), change(false));
}
