//! Benchmark of one full-batch gradient-descent step (forward, backward, update) for both
//! networks, in ms per step and GFLOP/s, with peak memory.
//!
//! FLOPs per step are counted as `6 n (d m + (L - 1) m^2 + m)`: a forward matmul costs
//! `2 n fan_in fan_out` and the backward pass twice that (gradients for inputs and weights).
//!
//! ```text
//! cargo run --release --bin resgen-bench                     # flex, the four CPU shapes
//! cargo run --release --features ndarray --bin resgen-bench -- --device ndarray
//! cargo run --release --features cuda --bin resgen-bench -- --device cuda --large
//! ```

use std::time::Instant;

use clap::Parser;
use resgen_data::{DataConfig, DataSource};
use resgen_models::{Arch, BackendKind, ModelConfig, Net, Precision};

#[derive(Parser)]
#[command(about = "ms per GD step and GFLOP/s for the ResNet and the FC network")]
struct Args {
    /// Backend (default: the first compiled CPU backend).
    #[arg(long)]
    device: Option<BackendKind>,
    /// Timed steps per shape (after the warm-up); each is timed alone and the median reported.
    #[arg(long, default_value_t = 11)]
    steps: usize,
    /// Untimed warm-up steps per shape (GPU kernels compile on first use).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Add the large GPU shape (4096, 4096, 16, 784).
    #[arg(long)]
    large: bool,
    /// Only these shapes, as n/m/L/d (repeatable), instead of the standard ones.
    #[arg(long = "shape")]
    shapes: Vec<String>,
    /// Tensor precision.
    #[arg(long, default_value = "f32")]
    precision: String,
    /// Benchmark the kernels instead: the batched empirical NTK at n = 1000, m = 1024, L = 16
    /// against per-example backward passes, and the analytic NTK at n = 2000, L = 64 (f64).
    #[arg(long)]
    ntk: bool,
    /// With --ntk: only the newer kernel paths (the two-layer branch's batched kernel, the
    /// kernel predictor, and the analytic kernels at n = 2000 up to L = 1024), not the
    /// empirical-vs-per-example and eps_NTRF lines.
    #[arg(long, requires = "ntk")]
    new_paths: bool,
    /// Only this network (`resnet` or `fc`); both by default.
    #[arg(long)]
    arch: Option<String>,
}

fn bench_ntk(backend: BackendKind, archs: &[Arch], new_paths: bool) -> anyhow::Result<()> {
    use resgen_bounds::ntk::empirical_ntk;
    use resgen_bounds::ntrf;
    let device = backend.checked_device(Precision::F64)?;
    let (n, m, l, d) = (1000, 1024, 16, 784);
    let data = DataConfig { source: DataSource::Sphere, d, n_train: n, n_test: 0, ..Default::default() };
    let split = resgen_data::load(&data)?;
    println!("| kernel | shape | seconds | peak RSS MiB |");
    println!("|---|---|---|---|");
    for &arch in archs.iter().filter(|_| !new_paths) {
        let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &device).map_err(anyhow::Error::msg)?;
        // Best of three (the first call also pays for first-touch allocations).
        reset_peak_rss();
        let mut fast = f64::INFINITY;
        let mut k = None;
        for _ in 0..3 {
            drop(k.take()); // the peak memory is one computation's, not two
            let t0 = Instant::now();
            k = Some(empirical_ntk(&net, &split.train.x, n));
            fast = fast.min(t0.elapsed().as_secs_f64());
        }
        let k = k.expect("three runs");
        let peak = peak_rss_mib().map_or("n/a".into(), |v| format!("{v:.0}"));
        assert!(k.total.trace().is_finite());
        if std::env::var_os("RESGEN_BENCH_VERBOSE").is_some() {
            let t = Instant::now();
            let f = resgen_bounds::features::grad_features(&net, net.upload(&split.train.x, n, d));
            let _ = resgen_models::to_host(f.deltas[0].clone());
            eprintln!("of which the batched forward and backward: {:.2} s", t.elapsed().as_secs_f64());
        }
        println!(
            "| empirical NTK, batched ({}), best of 3 | n/m/L/d = {n}/{m}/{l}/{d} | {fast:.2} | {peak} |",
            arch.name()
        );
        // eps_NTRF over the 20-radius grid of `resgen bounds`, warm-started, on these kernels.
        let f0 = net.predict(net.upload(&split.train.x, n, d));
        let problem = ntrf::NtrfProblem { per_layer: &k.per_layer, f0: &f0, y: &split.train.y, width: m };
        let radii = resgen_bounds::report::radius_grid();
        let t3 = Instant::now();
        let sols = ntrf::solve_grid(problem, &radii, resgen_bounds::report::SOLVER_LIMITS);
        let iters: usize = sols.iter().map(|s| s.iterations).sum();
        if std::env::var_os("RESGEN_BENCH_VERBOSE").is_some() {
            for s in &sols {
                let active = s.active.iter().filter(|a| **a).count();
                eprintln!(
                    "R {:.3e} loss {:.5e} gap {:.1e} its {} kkt {:.1e} active {active}",
                    s.radius, s.loss, s.gap, s.iterations, s.kkt_residual
                );
            }
        }
        let worst = sols.iter().map(|s| s.kkt_residual).fold(0.0, f64::max);
        let worst_gap = sols.iter().map(|s| s.gap).fold(0.0, f64::max);
        println!(
            "| eps_NTRF, {} radii ({}) | same; {iters} iterations, worst KKT residual {worst:.1e}, worst gap {worst_gap:.1e} | {:.1} | - |",
            radii.len(),
            arch.name(),
            t3.elapsed().as_secs_f64()
        );
        // The per-example path: one backward pass per example (the median of 40, times n),
        // after 5 untimed ones: its first passes in a process pay for fresh pages (about 17 M
        // gradient entries per example), which once made the baseline 3x slower; the warm,
        // fastest figure is the conservative one to compare against.
        let k_ex = 40;
        for i in 0..5 {
            let _ = net.weighted_output_grads(net.upload(&split.train.x[i * d..(i + 1) * d], 1, d), |_| vec![1.0]);
        }
        let mut times: Vec<f64> = (0..k_ex)
            .map(|i| {
                let xi = net.upload(&split.train.x[i * d..(i + 1) * d], 1, d);
                let t1 = Instant::now();
                let _ = net.weighted_output_grads(xi, |_| vec![1.0]);
                t1.elapsed().as_secs_f64()
            })
            .collect();
        let per = median(&mut times);
        println!(
            "| n backward passes ({}), gradients only, n times the median of {k_ex} | same | {:.1} ({:.0}x the batched path) | - |",
            arch.name(),
            per * n as f64,
            per * n as f64 / fast
        );
    }
    // The two-layer branch's batched kernel (twice the matrices of the one-layer ResNet), and
    // the kernel predictor's cross kernel plus 200 steps of linearized GD (n = 1000 training,
    // 500 test points).
    if archs.contains(&Arch::Resnet) {
        let cfg = ModelConfig { width: m, depth: l, branch: resgen_models::Branch::TwoLayer, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &device).map_err(anyhow::Error::msg)?;
        let t0 = Instant::now();
        let k = empirical_ntk(&net, &split.train.x, n);
        println!(
            "| empirical NTK, batched (resnet, two-layer branch) | n/m/L/d = {n}/{m}/{l}/{d} | {:.2} | - |",
            t0.elapsed().as_secs_f64()
        );
        assert!(k.total.trace().is_finite());
        let nt = 500;
        let test = resgen_data::load(&DataConfig { seed: 1, n_train: nt, ..data.clone() })?;
        let net = Net::init(&ModelConfig { branch: Default::default(), ..cfg }, d, Precision::F64, &device)
            .map_err(anyhow::Error::msg)?;
        let t0 = Instant::now();
        let (ktr, kx) = resgen_bounds::predictor::train_and_cross_kernels(&net, &split.train.x, n, &test.train.x, nt);
        let t1 = t0.elapsed().as_secs_f64();
        let (f0, f0t) = (vec![0.0; n], vec![0.0; nt]);
        let eta = n as f64 / ktr.trace();
        let t0 = Instant::now();
        let out = resgen_bounds::predictor::linearized_gd(&ktr, &kx, &split.train.y, (&f0, &f0t), eta, 200);
        assert!(out.is_ok());
        println!(
            "| kernel predictor (resnet): train + cross kernel; 200 linearized GD steps | n/nt/m/L = {n}/{nt}/{m}/{l} | {t1:.2}; {:.2} | - |",
            t0.elapsed().as_secs_f64()
        );
    }
    let n2 = 2000;
    let data = DataConfig { source: DataSource::Sphere, d: 784, n_train: n2, n_test: 0, ..Default::default() };
    let split = resgen_data::load(&data)?;
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    for (arch, branch) in archs
        .iter()
        .map(|&a| (a, resgen_models::Branch::OneLayer))
        .chain(archs.contains(&Arch::Resnet).then_some((Arch::Resnet, resgen_models::Branch::TwoLayer)))
    {
        for l2 in [64, 1024] {
            let cfg = ModelConfig { arch, depth: l2, branch, ..Default::default() };
            let t2 = Instant::now();
            let a = resgen_bounds::analytic::ntk(&cfg, &split.train.x, n2, 784).map_err(anyhow::Error::msg)?;
            let label = if cfg.two_layer() { "resnet, two-layer branch".to_string() } else { arch.name().to_string() };
            println!(
                "| analytic NTK ({label}), {threads} threads | n = {n2}, L = {l2} | {:.2} | - |",
                t2.elapsed().as_secs_f64()
            );
            assert!(a.trace().is_finite());
        }
    }
    Ok(())
}

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len() / 2;
    if v.len() % 2 == 1 { v[k] } else { (v[k - 1] + v[k]) / 2.0 }
}

/// Peak resident memory of this process in MiB (Linux), reset between shapes.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn reset_peak_rss() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn parse_shape(s: &str) -> anyhow::Result<[usize; 4]> {
    let v: Vec<usize> = s.split('/').map(|p| p.trim().parse()).collect::<Result<_, _>>()?;
    anyhow::ensure!(v.len() == 4, "--shape {s}: expected n/m/L/d");
    Ok([v[0], v[1], v[2], v[3]])
}

fn main() -> std::process::ExitCode {
    match bench(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn bench(args: Args) -> anyhow::Result<()> {
    let backend = args.device.unwrap_or_else(BackendKind::default_compiled);
    let archs = match args.arch.as_deref() {
        None => vec![Arch::Resnet, Arch::Fc],
        Some("resnet") => vec![Arch::Resnet],
        Some("fc") => vec![Arch::Fc],
        Some(a) => anyhow::bail!("--arch {a}: expected resnet or fc"),
    };
    if args.ntk {
        return bench_ntk(backend, &archs, args.new_paths);
    }
    let precision = match args.precision.as_str() {
        "f32" => Precision::F32,
        "f64" => Precision::F64,
        p => anyhow::bail!("--precision {p}: expected f32 or f64"),
    };
    let device = backend.checked_device(precision)?;
    let mut shapes: Vec<[usize; 4]> = if args.shapes.is_empty() {
        vec![[512, 512, 8, 784], [1024, 1024, 4, 784], [1000, 512, 32, 784], [256, 2048, 8, 784]]
    } else {
        args.shapes.iter().map(|s| parse_shape(s)).collect::<anyhow::Result<_>>()?
    };
    if args.large {
        shapes.push([4096, 4096, 16, 784]);
    }
    println!(
        "backend {backend}, {precision:?}, {} threads available, median of {} timed steps after {} warm-up",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        args.steps,
        args.warmup
    );
    println!("| arch | n/m/L/d | ms/step | GFLOP/s | forward ms | forward GFLOP/s | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    for [n, m, l, d] in shapes {
        let data = DataConfig { source: DataSource::Sphere, d, n_train: n, n_test: 0, ..Default::default() };
        let split = resgen_data::load(&data)?;
        for &arch in &archs {
            reset_peak_rss();
            let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
            let mut net = Net::init(&cfg, d, precision, &device).map_err(anyhow::Error::msg)?;
            let x = net.upload(&split.train.x, n, d);
            let eta = 1.0 / m as f64;
            let step = |net: &mut Net| {
                let (_, g) = net.loss_grads(x.clone(), &split.train.y);
                net.step(g, eta);
            };
            for _ in 0..args.warmup {
                step(&mut net);
            }
            let _ = net.host_weights().len(); // synchronize before timing
            // Each step is timed alone and the median reported: a shared 2-core machine has
            // bursts of interference that a mean would smear over every figure.
            let mut times: Vec<f64> = (0..args.steps)
                .map(|_| {
                    let t0 = Instant::now();
                    step(&mut net);
                    // Reading a value back waits for every queued kernel (GPU backends are async).
                    let _ = resgen_models::scalar(net.weights[l].clone().sum());
                    t0.elapsed().as_secs_f64()
                })
                .collect();
            let secs = median(&mut times);
            let flops = 6.0 * n as f64 * (d * m + (l - 1) * m * m + m) as f64;
            let peak = peak_rss_mib().map_or("n/a".into(), |v| format!("{v:.0}"));
            // The evaluation forward pass alone (no autodiff), a third of the step's FLOPs.
            let mut fwd_times: Vec<f64> = (0..args.steps)
                .map(|_| {
                    let t1 = Instant::now();
                    let _ = net.predict(x.clone());
                    t1.elapsed().as_secs_f64()
                })
                .collect();
            let fwd = median(&mut fwd_times);
            println!(
                "| {} | {n}/{m}/{l}/{d} | {:.1} | {:.1} | {:.1} | {:.1} | {peak} |",
                arch.name(),
                secs * 1e3,
                flops / secs / 1e9,
                fwd * 1e3,
                flops / 3.0 / fwd / 1e9
            );
        }
    }
    Ok(())
}
