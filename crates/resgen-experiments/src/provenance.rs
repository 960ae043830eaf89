//! Where a result came from: the code, the backend, the machine and the time.
//!
//! Every finished cell records a [`Provenance`]; the sweep reuses a cell only when its code
//! identity ([`code_id`], a hash of every source file that can change a measurement, computed
//! at build time) and its backend equal the current run's, and `merge` refuses to put cells of
//! different code or backends into one table unless asked. Each table gets a sidecar,
//! `results/<name>.meta.json`, that says all of it.

use serde::{Deserialize, Serialize};

/// The code identity of this build: `src-<hash>` of the workspace's crate sources, manifests,
/// `Cargo.lock` and the bundled data (see `build.rs`).
pub fn code_id() -> String {
    format!("src-{}", env!("RESGEN_SOURCE_HASH"))
}

/// The git commit this build was made from (`+dirty` if its tracked sources differed), or
/// `unknown` outside a git checkout. Recorded, not compared: [`code_id`] decides reuse.
pub fn git_commit() -> &'static str {
    env!("RESGEN_GIT_COMMIT")
}

/// The CPU model (the `model name` line of /proc/cpuinfo, as lscpu prints it), or `unknown`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn utc_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Now, as [`utc_timestamp`].
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    utc_timestamp(secs)
}

/// What produced one cell's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// [`code_id`] of the build that ran it.
    pub code: String,
    /// [`git_commit`] of that build.
    pub commit: String,
    /// The training backend (`flex`, `ndarray`, `wgpu`, `cuda`).
    pub backend: String,
    /// The CPU model of the machine.
    pub cpu: String,
    /// The training precision (`f32`, `f64`); kernels and bounds are always f64.
    pub precision: String,
    /// When the cell finished (UTC).
    pub finished: String,
}

impl Provenance {
    /// This build and machine, on `backend`, training in `precision`.
    pub fn current(backend: &str, precision: &str) -> Provenance {
        Provenance {
            code: code_id(),
            commit: git_commit().into(),
            backend: backend.into(),
            cpu: cpu_model(),
            precision: precision.into(),
            finished: now(),
        }
    }

    /// Whether a cell with this provenance may stand in for one computed now on `backend`:
    /// the same code and the same backend.
    pub fn reusable_for(&self, backend: &str) -> bool {
        self.code == code_id() && self.backend == backend
    }
}
