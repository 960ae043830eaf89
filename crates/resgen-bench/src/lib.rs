//! Benchmark of one full-batch gradient-descent step (forward, backward, update) for both
//! networks, in ms per step and GFLOP/s, with peak memory.
//!
//! FLOPs per step are counted as `6 n (d m + (L - 1) m^2 + m)`: a forward matmul costs
//! `2 n fan_in fan_out` and the backward pass twice that (gradients for inputs and weights).
//!
//! ```text
//! cargo run --release -p resgen -- bench                          # flex, the four CPU shapes
//! cargo run --release -p resgen --features ndarray -- bench --device ndarray
//! cargo run --release -p resgen --features wgpu -- bench --device wgpu --large
//! ```
//!
//! `resgen bench` is a subcommand of the one `resgen` binary, so an offline GPU host needs only
//! that binary (see bench/gpu.sh); this crate is that subcommand: its arguments ([`BenchArgs`])
//! and its run ([`bench`]), which prints the tables to stdout.

use std::time::Instant;

use resgen_data::{DataConfig, DataSource};
use resgen_models::{Arch, BackendKind, ModelConfig, Net, Precision, Tensor};

/// Why the benchmark could not run: an argument it cannot use, or a backend, data set, network
/// or kernel that failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A `--shape` that is not `n/m/L/d` in positive integers.
    #[error("--shape {0}: expected n/m/L/d, four positive integers (e.g. 512/512/8/784)")]
    Shape(String),
    /// An `--arch` other than `resnet` or `fc`.
    #[error("--arch {0}: expected resnet or fc")]
    Arch(String),
    /// A `--precision` other than `f32` or `f64`.
    #[error("--precision {0}: expected f32 or f64")]
    Precision(String),
    /// The backend cannot be used here.
    #[error(transparent)]
    Backend(#[from] resgen_models::BackendError),
    /// The benchmark's data could not be made.
    #[error(transparent)]
    Data(#[from] resgen_data::DataError),
    /// A network could not be built.
    #[error(transparent)]
    Model(#[from] resgen_models::ModelError),
    /// A kernel could not be computed.
    #[error(transparent)]
    Bounds(#[from] resgen_bounds::BoundsError),
    /// `RESGEN_STEP` names no step.
    #[error("{0}")]
    Step(String),
}

/// The arguments of `resgen bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
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
    /// With --ntk: instead of the empirical-NTK and eps_NTRF lines, the two-layer branch's
    /// batched kernel, the kernel predictor, and the analytic kernels at n = 2000 up to L = 1024.
    #[arg(long, requires = "ntk")]
    new_paths: bool,
    /// With --ntk: also the total empirical NTK at n = N (m = 1024, L = 16), streamed layer by
    /// layer without keeping the per-layer blocks (e.g. 10000).
    #[arg(long, requires = "ntk", value_name = "N")]
    ntk_n: Option<usize>,
    /// With --ntk: the general path's kernel (per-example autodiff gradients) beside the fast
    /// path's at the general-path experiments' largest cell (n = 50, m = 512, L = 32), and the
    /// learned-scale ResNet's, instead of the other kernel lines.
    #[arg(long, requires = "ntk")]
    general: bool,
    /// With --ntk: add the per-example baseline (one backward pass per example; slow, and not
    /// a path anyone would use for the kernel, so off by default).
    #[arg(long, requires = "ntk")]
    per_example: bool,
    /// Time the step's three GEMM layouts alone at the shapes' m x m layers (where the time
    /// of a step goes), instead of the step.
    #[arg(long, conflicts_with = "ntk")]
    gemm: bool,
    /// With the GD-step table: also time the step's GEMMs alone (the same products, shapes and
    /// operand layouts, in the same order) and report the share of the step spent outside them.
    #[arg(long, conflicts_with_all = ["ntk", "gemm"])]
    breakdown: bool,
    /// With the GD-step table: time the written-out fast path only, without the general path
    /// (the same step by Burn's autodiff, through `resgen_models::Network`) beside it.
    #[arg(long, conflicts_with_all = ["ntk", "gemm"])]
    fast_only: bool,
    /// Only this network (`resnet` or `fc`); both by default.
    #[arg(long)]
    arch: Option<String>,
    /// Output format: a markdown table, or CSV (read by bench/peer_torch.py, which runs this
    /// benchmark beside PyTorch and prints the ratios).
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    Markdown,
    Csv,
}

impl Format {
    /// Prints a table's header (markdown: with the separator line).
    fn header(self, cols: &[&str]) {
        match self {
            Format::Markdown => {
                println!("| {} |", cols.join(" | "));
                println!("|{}", "---|".repeat(cols.len()));
            }
            Format::Csv => println!("{}", cols.join(",")),
        }
    }

    /// Prints one row (CSV fields have their commas replaced by semicolons).
    fn row(self, cells: &[String]) {
        match self {
            Format::Markdown => println!("| {} |", cells.join(" | ")),
            Format::Csv => println!("{}", cells.iter().map(|c| c.replace(',', ";")).collect::<Vec<_>>().join(",")),
        }
    }

    /// A line of context (markdown: as is; CSV: as a `#` comment).
    fn note(self, text: &str) {
        match self {
            Format::Markdown => println!("{text}"),
            Format::Csv => println!("# {text}"),
        }
    }
}

/// The peak resident memory since the last [`reset_peak_rss`], formatted.
fn peak() -> String {
    peak_rss_mib().map_or("n/a".into(), |v| format!("{v:.0}"))
}

/// Which kernel lines `--ntk` runs.
struct NtkLines {
    /// The empirical NTK and eps_NTRF lines (the ones with a PyTorch peer or a target).
    empirical: bool,
    /// The per-example baseline beside the empirical NTK.
    per_example: bool,
    /// The two-layer branch, the kernel predictor, the analytic kernels.
    new_paths: bool,
    /// The streamed total kernel at this many points.
    large_n: Option<usize>,
    /// The general path's kernel beside the fast path's at the general-path experiments' cells.
    general: bool,
}

fn bench_ntk(backend: BackendKind, archs: &[Arch], lines: NtkLines, fmt: Format) -> Result<(), BenchError> {
    use resgen_bounds::ntk::empirical_ntk;
    use resgen_bounds::ntrf;
    let device = backend.checked_device(Precision::F64)?;
    let (n, m, l, d) = (1000, 1024, 16, 784);
    let shape = format!("{n}/{m}/{l}/{d}");
    let data = DataConfig { source: DataSource::Sphere, d, n_train: n, n_test: 0, ..Default::default() };
    let split = resgen_data::load(&data)?;
    fmt.note(&format!(
        "backend {backend}, f64, {} threads available; CPU: {}{}",
        threads(),
        resgen_experiments::provenance::cpu_model(),
        kernels(backend, &device)
    ));
    fmt.header(&["kernel", "arch", "shape", "seconds", "peak_mib", "detail"]);
    for &arch in archs.iter().filter(|_| lines.empirical) {
        let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, &device)?;
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
        let peak_ntk = peak();
        assert!(k.total.trace().is_finite());
        if std::env::var_os("RESGEN_BENCH_VERBOSE").is_some() {
            let t = Instant::now();
            let f = resgen_bounds::features::grad_features(&net, net.upload(&split.train.x, n, d));
            let _ = resgen_models::to_host(f.deltas[0].clone());
            eprintln!("of which the batched forward and backward: {:.2} s", t.elapsed().as_secs_f64());
        }
        fmt.row(&[
            "empirical NTK, batched".into(),
            arch.name().into(),
            shape.clone(),
            format!("{fast:.2}"),
            peak_ntk,
            "best of 3".into(),
        ]);
        // eps_NTRF over the 20-radius grid of `resgen bounds`, warm-started, on these kernels.
        let f0 = net.predict(net.upload(&split.train.x, n, d));
        let problem = ntrf::NtrfProblem { per_layer: &k.per_layer, f0: &f0, y: &split.train.y, width: m };
        let radii = resgen_bounds::defaults::radius_grid();
        reset_peak_rss();
        let t3 = Instant::now();
        let sols = ntrf::solve_grid(problem, &radii, resgen_bounds::defaults::SOLVER_LIMITS);
        let secs = t3.elapsed().as_secs_f64();
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
        fmt.row(&[
            format!("eps_NTRF, {} radii", radii.len()),
            arch.name().into(),
            shape.clone(),
            format!("{secs:.1}"),
            peak(),
            format!("{iters} iterations, worst KKT residual {worst:.1e}, worst gap {worst_gap:.1e}"),
        ]);
        if !lines.per_example {
            continue;
        }
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
        fmt.row(&[
            "n backward passes, gradients only".into(),
            arch.name().into(),
            shape.clone(),
            format!("{:.1}", per * n as f64),
            "-".into(),
            format!("n times the median of {k_ex}; {:.0}x the batched path", per * n as f64 / fast),
        ]);
    }
    if let Some(big) = lines.large_n {
        let data = DataConfig { n_train: big, ..data.clone() };
        let split = resgen_data::load(&data)?;
        for &arch in archs {
            let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
            let net = Net::init(&cfg, d, Precision::F64, &device)?;
            reset_peak_rss();
            let t0 = Instant::now();
            let k = resgen_bounds::ntk::empirical_ntk_total(&net, &split.train.x, big);
            let secs = t0.elapsed().as_secs_f64();
            assert!(k.trace().is_finite());
            fmt.row(&[
                "empirical NTK total, streamed per layer".into(),
                arch.name().into(),
                format!("{big}/{m}/{l}/{d}"),
                format!("{secs:.1}"),
                peak(),
                format!("one {big} x {big} f64 kernel is {:.0} MiB", (big * big * 8) as f64 / 1048576.0),
            ]);
        }
    }
    if lines.new_paths {
        bench_new_paths(&device, archs, &split, &data, fmt)?;
    }
    if lines.general {
        bench_general_ntk(&device, archs, fmt)?;
    }
    Ok(())
}

/// The two-layer branch's batched kernel (twice the matrices of the one-layer ResNet), the
/// kernel predictor's cross kernel plus 200 steps of linearized GD (n = 1000 training, 500
/// test points), and the analytic kernels at n = 2000 up to L = 1024.
fn bench_new_paths(
    device: &resgen_models::Device,
    archs: &[Arch],
    split: &resgen_data::Split,
    data: &DataConfig,
    fmt: Format,
) -> Result<(), BenchError> {
    use resgen_bounds::ntk::empirical_ntk;
    let (n, m, l, d) = (1000, 1024, 16, 784);
    let shape = format!("{n}/{m}/{l}/{d}");
    if archs.contains(&Arch::Resnet) {
        let cfg = ModelConfig { width: m, depth: l, branch: resgen_models::Branch::TwoLayer, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, device)?;
        reset_peak_rss();
        let t0 = Instant::now();
        let k = empirical_ntk(&net, &split.train.x, n);
        let secs = t0.elapsed().as_secs_f64();
        assert!(k.total.trace().is_finite());
        drop(k);
        let label = "empirical NTK, batched, two-layer branch";
        fmt.row(&[label.into(), "resnet".into(), shape, format!("{secs:.2}"), peak(), "-".into()]);
        let nt = 500;
        let test = resgen_data::load(&DataConfig { seed: 1, n_train: nt, ..data.clone() })?;
        let net = Net::init(&ModelConfig { branch: Default::default(), ..cfg }, d, Precision::F64, device)?;
        reset_peak_rss();
        let t0 = Instant::now();
        let (ktr, kx) = resgen_bounds::predictor::train_and_cross_kernels(&net, &split.train.x, n, &test.train.x, nt);
        let t1 = t0.elapsed().as_secs_f64();
        let (f0, f0t) = (vec![0.0; n], vec![0.0; nt]);
        let eta = n as f64 / ktr.trace();
        let t0 = Instant::now();
        let out = resgen_bounds::predictor::linearized_gd(&ktr, &kx, &split.train.y, (&f0, &f0t), eta, 200);
        assert!(out.is_ok());
        fmt.row(&[
            "kernel predictor: train + cross kernel; 200 linearized GD steps".into(),
            "resnet".into(),
            format!("{n}/{nt}/{m}/{l} (n/nt/m/L)"),
            format!("{t1:.2}; {:.2}", t0.elapsed().as_secs_f64()),
            peak(),
            "-".into(),
        ]);
    }
    let n2 = 2000;
    let data = DataConfig { source: DataSource::Sphere, d: 784, n_train: n2, n_test: 0, ..Default::default() };
    let split = resgen_data::load(&data)?;
    for (arch, branch) in archs
        .iter()
        .map(|&a| (a, resgen_models::Branch::OneLayer))
        .chain(archs.contains(&Arch::Resnet).then_some((Arch::Resnet, resgen_models::Branch::TwoLayer)))
    {
        for l2 in [64, 1024] {
            let cfg = ModelConfig { arch, depth: l2, branch, ..Default::default() };
            reset_peak_rss();
            let t2 = Instant::now();
            let a = resgen_bounds::analytic::ntk(&cfg, &split.train.x, n2, 784)?;
            let secs = t2.elapsed().as_secs_f64();
            assert!(a.trace().is_finite());
            let label = if cfg.two_layer() { "analytic NTK, two-layer branch" } else { "analytic NTK" };
            fmt.row(&[
                label.into(),
                arch.name().into(),
                format!("n = {n2}; L = {l2}"),
                format!("{secs:.2}"),
                peak(),
                format!("{} threads", threads()),
            ]);
        }
    }
    Ok(())
}

/// The kernel of the general-path experiments' largest cell (n = 50, d = 10, m = 512, L = 32) by
/// the fast path's factorization and by per-example autodiff gradients (the general path), for
/// each paper network, and by the general path for the learned-scale ResNet, which has no other.
fn bench_general_ntk(device: &resgen_models::Device, archs: &[Arch], fmt: Format) -> Result<(), BenchError> {
    use resgen_bounds::ntk::{empirical_ntk, general_ntk};
    use resgen_models::Model;
    let (n, m, l, d) = (50, 512, 32, 10);
    let data = DataConfig { source: DataSource::Sphere, d, n_train: n, n_test: 0, ..Default::default() };
    let split = resgen_data::load(&data)?;
    let shape = format!("{n}/{m}/{l}/{d}");
    let time = |f: &mut dyn FnMut() -> f64| {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t0 = Instant::now();
            assert!(f().is_finite());
            best = best.min(t0.elapsed().as_secs_f64());
        }
        best
    };
    for &arch in archs {
        let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
        let net = Net::init(&cfg, d, Precision::F64, device)?;
        reset_peak_rss();
        let fast = time(&mut || empirical_ntk(&net, &split.train.x, n).total.trace());
        let fast_peak = peak();
        let general = Model::general(net);
        reset_peak_rss();
        let slow = time(&mut || general_ntk(&general, &split.train.x, n).total.trace());
        for (label, secs, mem, detail) in [
            ("empirical NTK, fast path (factorized)", fast, fast_peak, "best of 3".to_string()),
            (
                "empirical NTK, general path (per-example autodiff)",
                slow,
                peak(),
                format!("best of 3; {:.1}x the fast path", slow / fast),
            ),
        ] {
            fmt.row(&[label.into(), arch.name().into(), shape.clone(), format!("{secs:.2}"), mem, detail]);
        }
    }
    let cfg = ModelConfig { arch: Arch::ResnetLearnedScale, width: m, depth: l, ..Default::default() };
    let model = Model::init(&cfg, d, Precision::F64, device)?;
    reset_peak_rss();
    let secs = time(&mut || general_ntk(&model, &split.train.x, n).total.trace());
    fmt.row(&[
        "empirical NTK, general path (per-example autodiff)".into(),
        cfg.arch.name().into(),
        shape,
        format!("{secs:.2}"),
        peak(),
        "best of 3; no fast path".into(),
    ]);
    Ok(())
}

/// "; GEMM kernels: ..." for a CPU backend, "; adapter: ..." for a GPU one.
fn kernels(backend: BackendKind, device: &resgen_models::Device) -> String {
    match (backend.cpu_gemm_kernels(), resgen_models::gpu_identity(device)) {
        (Some(k), _) if resgen_models::gemm_provider() == "mkl" && backend == BackendKind::Flex => {
            let w = resgen_models::blas_min_work().unwrap_or(0);
            let c = (w as f64).cbrt().round() as usize;
            let w = if c * c * c == w { format!("{c}^3") } else { w.to_string() };
            format!("; GEMM: Intel MKL (sequential) for products of {w} multiply-adds and more, kernels {k} below")
        }
        (Some(k), _) => format!("; GEMM kernels: {k}"),
        (None, Some(adapter)) => format!("; adapter: {adapter}"),
        (None, None) => String::new(),
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// The step's three GEMM layouts alone, at the m x m layers of the benchmark shapes: the
/// forward `Z = H W^T` (n x m times m x m, transposed), the backward `G = D W` and the weight
/// gradient `D^T A` (m x n times n x m). Each is `2 n m^2` FLOPs; the median of `steps`. Where
/// a GD step's GFLOP/s falls short of these, the time goes outside the GEMMs.
fn bench_gemm(
    backend: BackendKind,
    device: &resgen_models::Device,
    precision: Precision,
    shapes: &[[usize; 4]],
    steps: usize,
    fmt: Format,
) {
    fmt.note(&format!(
        "backend {backend}, GEMM alone, {precision:?}, {} threads; CPU: {}{}",
        threads(),
        resgen_experiments::provenance::cpu_model(),
        kernels(backend, device)
    ));
    fmt.header(&["layout", "shape", "ms", "gflops"]);
    let cfg = ModelConfig { width: 1, depth: 1, ..Default::default() };
    let host = Net::init(&cfg, 1, precision, device).expect("a 1 x 1 network");
    let mut rng_state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = |len: usize| -> Vec<f64> {
        (0..len)
            .map(|_| {
                // xorshift64*: any numbers do; the GEMM's speed does not depend on them.
                rng_state ^= rng_state >> 12;
                rng_state ^= rng_state << 25;
                rng_state ^= rng_state >> 27;
                (rng_state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f64 / (1u64 << 24) as f64 - 0.5
            })
            .collect()
    };
    for &[n, m, _, _] in shapes {
        let a = host.upload(&random(n * m), n, m);
        let w = host.upload(&random(m * m), m, m);
        let dl = host.upload(&random(n * m), n, m);
        // W stored transposed (a contiguous copy, made once): the other layout of each product.
        let wt = w.clone().transpose().mul_scalar(1.0);
        let layouts: [(&str, &dyn Fn() -> Tensor<2>); 7] = [
            ("forward H W^T", &|| a.clone().matmul(w.clone().transpose())),
            ("forward H Wt (W stored transposed)", &|| a.clone().matmul(wt.clone())),
            ("backward D W", &|| dl.clone().matmul(w.clone())),
            ("backward D Wt^T (W stored transposed)", &|| dl.clone().matmul(wt.clone().transpose())),
            ("weight gradient D^T A", &|| dl.clone().transpose().matmul(a.clone())),
            ("weight gradient transposed A^T D", &|| a.clone().transpose().matmul(dl.clone())),
            ("weight gradient D^T A, D^T copied first", &|| dl.clone().transpose().mul_scalar(1.0).matmul(a.clone())),
        ];
        for (name, f) in layouts {
            let _ = resgen_models::to_host(f().slice([0..1, 0..1]));
            let mut times: Vec<f64> = (0..steps)
                .map(|_| {
                    let t0 = Instant::now();
                    // Reading one entry back waits for the GEMM on an asynchronous (GPU) backend.
                    let _ = resgen_models::to_host(f().slice([0..1, 0..1]));
                    t0.elapsed().as_secs_f64()
                })
                .collect();
            let secs = median(&mut times);
            let flops = 2.0 * n as f64 * (m * m) as f64;
            fmt.row(&[
                name.into(),
                format!("{n}x{m}x{m}"),
                format!("{:.2}", secs * 1e3),
                format!("{:.1}", flops / secs / 1e9),
            ]);
        }
    }
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

/// `n/m/L/d`, four positive integers.
fn parse_shape(s: &str) -> Result<[usize; 4], BenchError> {
    let bad = || BenchError::Shape(s.to_string());
    let v: Vec<usize> = s.split('/').map(|p| p.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    match v[..] {
        [n, m, l, d] if v.iter().all(|&x| x > 0) => Ok([n, m, l, d]),
        _ => Err(bad()),
    }
}

/// `resgen bench`: the GD-step table, or the kernel (`--ntk`) or GEMM (`--gemm`) lines.
pub fn bench(args: BenchArgs) -> Result<(), BenchError> {
    let backend = args.device.unwrap_or_else(BackendKind::default_compiled);
    let archs = match args.arch.as_deref() {
        None => vec![Arch::Resnet, Arch::Fc],
        Some("resnet") => vec![Arch::Resnet],
        Some("fc") => vec![Arch::Fc],
        Some(a) => return Err(BenchError::Arch(a.to_string())),
    };
    if args.ntk {
        let lines = NtkLines {
            empirical: !args.new_paths && args.ntk_n.is_none() && !args.general,
            per_example: args.per_example,
            new_paths: args.new_paths,
            large_n: args.ntk_n,
            general: args.general,
        };
        return bench_ntk(backend, &archs, lines, args.format);
    }
    let precision = match args.precision.as_str() {
        "f32" => Precision::F32,
        "f64" => Precision::F64,
        p => return Err(BenchError::Precision(p.to_string())),
    };
    let mut shapes: Vec<[usize; 4]> = if args.shapes.is_empty() {
        vec![[512, 512, 8, 784], [1024, 1024, 4, 784], [1000, 512, 32, 784], [256, 2048, 8, 784]]
    } else {
        args.shapes.iter().map(|s| parse_shape(s)).collect::<Result<_, _>>()?
    };
    let device = backend.checked_device(precision)?;
    if args.large {
        shapes.push([4096, 4096, 16, 784]);
    }
    let fmt = args.format;
    if args.gemm {
        bench_gemm(backend, &device, precision, &shapes, args.steps, fmt);
        return Ok(());
    }
    fmt.note(&format!(
        "backend {backend}, {precision:?}, {} threads available, median of {} timed steps after {} warm-up; CPU: {}{}",
        threads(),
        args.steps,
        args.warmup,
        resgen_experiments::provenance::cpu_model(),
        kernels(backend, &device)
    ));
    // A GPU's f32 ceiling, measured here by cubecl's probe, so that each step's GFLOP/s reads
    // as a fraction of what this card does (the CPU rows leave the column empty).
    let peak_flops = match resgen_models::gpu_f32_peak(&device) {
        Some(Ok(p)) => {
            fmt.note(&format!(
                "f32 FMA peak of this device, measured by cubecl's throughput probe: {:.0} GFLOP/s",
                p / 1e9
            ));
            Some(p)
        }
        Some(Err(e)) => {
            fmt.note(&format!("f32 peak not measured: {e}"));
            None
        }
        None => None,
    };
    let mut cols =
        vec!["arch", "shape", "ms_step", "gflops", "forward_ms", "forward_gflops", "peak_mib", "pct_f32_peak"];
    if args.breakdown {
        cols.extend(["gemm_ms", "pct_outside_gemm"]);
    }
    let fused_on = backend.is_cpu() && resgen_models::fused_step_enabled().map_err(BenchError::Step)?;
    if fused_on {
        cols.extend(["tensor_ms_step", "tensor_over_fused"]);
    }
    if !args.fast_only {
        cols.extend(["autodiff_ms_step", "autodiff_over_fast"]);
    }
    fmt.header(&cols);
    for [n, m, l, d] in shapes {
        let data = DataConfig { source: DataSource::Sphere, d, n_train: n, n_test: 0, ..Default::default() };
        let split = resgen_data::load(&data)?;
        for &arch in &archs {
            reset_peak_rss();
            let cfg = ModelConfig { arch, width: m, depth: l, ..Default::default() };
            let mut net = Net::init(&cfg, d, precision, &device)?;
            let x = net.upload(&split.train.x, n, d);
            let eta = 1.0 / m as f64;
            // The step training takes: the fused step on the CPU backends (unless
            // RESGEN_STEP=tensor), Burn's tensor step elsewhere.
            let mut fused = fused_on.then(|| resgen_models::FusedNet::new(&net, &split.train.x, n));
            let secs = match fused.as_mut() {
                Some(f) => time_steps(args.warmup, args.steps, || {
                    let _ = f.loss_step(&split.train.y, eta);
                }),
                None => time_tensor_steps(&mut net, &x, &split.train.y, eta, args.warmup, args.steps),
            };
            if let Some(f) = fused.as_ref() {
                f.store(&mut net);
            }
            let flops = 6.0 * n as f64 * (d * m + (l - 1) * m * m + m) as f64;
            let peak = peak();
            // The evaluation forward pass alone (no autodiff), a third of the step's FLOPs.
            let fwd = time_steps(0, args.steps, || {
                let _ = net.predict(x.clone());
            });
            let mut row = vec![
                arch.name().into(),
                format!("{n}/{m}/{l}/{d}"),
                format!("{:.1}", secs * 1e3),
                format!("{:.1}", flops / secs / 1e9),
                format!("{:.1}", fwd * 1e3),
                format!("{:.1}", flops / 3.0 / fwd / 1e9),
                peak,
                peak_flops.map_or("-".into(), |p| format!("{:.1}", 100.0 * flops / secs / p)),
            ];
            if args.breakdown {
                let mut gemm_times: Vec<f64> = (0..args.steps)
                    .map(|_| match fused.as_mut() {
                        Some(f) => f.time_products(),
                        None => step_gemms(&net, &x, n),
                    })
                    .collect();
                let gemm = median(&mut gemm_times);
                row.extend([format!("{:.2}", gemm * 1e3), format!("{:.0}", 100.0 * (secs - gemm) / secs)]);
            }
            if fused_on {
                // Burn's tensor step (the oracle of the fused one), on a fresh network.
                let mut tnet = Net::init(&cfg, d, precision, &device)?;
                let tsecs = time_tensor_steps(&mut tnet, &x, &split.train.y, eta, args.warmup, args.steps);
                row.extend([format!("{:.1}", tsecs * 1e3), format!("{:.2}", tsecs / secs)]);
            }
            if !args.fast_only {
                // The same step on the general path: the paper network as any Burn module,
                // its gradients by Burn's autodiff.
                let mut general = resgen_models::Model::general(Net::init(&cfg, d, precision, &device)?);
                let gsecs = time_steps(args.warmup, args.steps, || {
                    let (_, grads) = general.loss_grads(x.clone(), &split.train.y);
                    general.step(grads, eta);
                    // Waits for the queued kernels: one example's output (a forward pass of
                    // n-th the step's smallest product).
                    let _ = general.predict(x.clone().narrow(0, 0, 1));
                });
                row.extend([format!("{:.1}", gsecs * 1e3), format!("{:.2}", gsecs / secs)]);
            }
            fmt.row(&row);
        }
    }
    Ok(())
}

/// The median of `steps` timed calls of `step` after `warmup` untimed ones (`step` returns
/// when its work is done: on a GPU backend it reads a value back). Each step is timed alone: a shared 2-core machine has bursts of
/// interference that a mean would smear over every figure.
fn time_steps(warmup: usize, steps: usize, mut step: impl FnMut()) -> f64 {
    for _ in 0..warmup {
        step();
    }
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            let t0 = Instant::now();
            step();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    median(&mut times)
}

/// [`time_steps`] for Burn's tensor step ([`Net::loss_grads`] then [`Net::step`]); each timed
/// step reads a value back, which waits for every queued kernel on a GPU backend.
fn time_tensor_steps(net: &mut Net, x: &Tensor<2>, y: &[f64], eta: f64, warmup: usize, steps: usize) -> f64 {
    let l = net.cfg.depth;
    time_steps(warmup, steps, || {
        let (_, g) = net.loss_grads(x.clone(), y);
        net.step(g, eta);
        let _ = resgen_models::scalar(net.weights[l].val().sum());
    })
}

/// Seconds for the GD step's matrix products alone: the products [`Net::loss_grads`] and its
/// backward pass make, with the same shapes and operand layouts (transposed views where the
/// step has them) and in the same order, on the network's own weights and on stand-in
/// activations and deltas (a GEMM's speed does not depend on the values). The step's time
/// minus this is what it spends outside the GEMMs: element-wise passes, allocation, the loss.
fn step_gemms(net: &Net, x: &Tensor<2>, n: usize) -> f64 {
    let w = &net.tensors();
    let (m, depth) = (net.cfg.width, net.cfg.depth);
    let h = net.upload(&vec![0.25; n * m], n, m);
    let dl = net.upload(&vec![-0.5; n * m], n, m);
    let c = net.upload(&vec![0.1; n], n, 1);
    // Each product is read back (one entry: on an asynchronous GPU backend this waits for it)
    // and dropped before the next, as the step frees its gradients once applied.
    let run = |t: Tensor<2>| {
        let _ = resgen_models::to_host(t.slice([0..1, 0..1]));
    };
    let t0 = Instant::now();
    // Forward: Z_1 = X W_1^T, Z_l = H W_l^T, f = H W_{L+1}^T.
    run(x.clone().matmul(w[0].clone().transpose()));
    for wl in &w[1..depth] {
        run(h.clone().matmul(wl.clone().transpose()));
    }
    run(h.clone().matmul(w[depth].clone().transpose()));
    // Backward: g_L = c W_{L+1}, then D_l W_l for l = L..2.
    run(c.clone().matmul(w[depth].clone()));
    for wl in w[1..depth].iter().rev() {
        run(dl.clone().matmul(wl.clone()));
    }
    // Weight gradients D_l^T A_{l-1}: X for the first layer, c^T H for the output layer.
    run(dl.clone().transpose().matmul(x.clone()));
    for _ in 1..depth {
        run(dl.clone().transpose().matmul(h.clone()));
    }
    run(c.transpose().matmul(h));
    t0.elapsed().as_secs_f64()
}
