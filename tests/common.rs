//! Helpers shared by resgen's cross-crate tests: the backends to run on.
//!
//! Tests are written once and run on every backend compiled into the build (`--features wgpu`
//! adds the GPU path; lavapipe runs it on a CPU). A compiled GPU backend with no adapter is
//! skipped with a message on stderr, never failed.

use resgen_models::{BackendKind, Device, Precision};

/// Every compiled backend that works here, with its device.
pub fn backends() -> Vec<(BackendKind, Device)> {
    BackendKind::compiled()
        .into_iter()
        .filter_map(|b| match b.checked_device(Precision::F32) {
            Ok(d) => Some((b, d)),
            Err(e) => {
                eprintln!("skipping backend {b}: {e}");
                None
            }
        })
        .collect()
}

/// The CPU device used for f64 oracle checks.
pub fn cpu_f64() -> (BackendKind, Device) {
    let b = BackendKind::compiled().into_iter().find(|b| b.is_cpu()).expect("a CPU backend is compiled in");
    (b, b.checked_device(Precision::F64).expect("CPU backends support f64"))
}

/// Relative difference `|a - b| / max(|a|, |b|, floor)`.
pub fn rel(a: f64, b: f64, floor: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(floor)
}

/// The largest difference between two lists of host matrices, relative to each matrix's
/// largest entry.
pub fn max_rel(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(p, q)| {
            let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            p.iter().zip(q).map(move |(x, y)| (x - y).abs() / scale.max(1e-300))
        })
        .fold(0.0, f64::max)
}

/// `n` points uniform on the unit sphere in `R^d` with half-space labels, from `seed`.
pub fn sphere(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let cfg = resgen_data::DataConfig {
        source: resgen_data::DataSource::Sphere,
        d,
        n_train: n,
        n_test: 0,
        seed,
        ..Default::default()
    };
    let s = resgen_data::load(&cfg).expect("sphere data");
    (s.train.x, s.train.y)
}
