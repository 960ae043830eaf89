//! Backend selection: the only module that constructs a concrete Burn [`Device`].
//!
//! Which backends exist is decided at compile time by Cargo features (`flex`, the default
//! CPU backend; `ndarray`; `wgpu`; `cuda`); which one a run uses is decided at run time by
//! [`BackendKind`]. Asking for a backend that was not compiled in is a [`BackendError`] that
//! names the feature to enable.

use burn::tensor::{DType, Device, FloatDType, Tensor};
use serde::{Deserialize, Serialize};

/// A backend that resgen can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// Burn's maintained pure-Rust CPU backend (with rayon and SIMD). The default.
    Flex,
    /// Burn's ndarray CPU backend (deprecated upstream in 0.22, kept for comparison).
    Ndarray,
    /// WebGPU/Vulkan through wgpu (any GPU; lavapipe runs it on a CPU). f32 only.
    Wgpu,
    /// NVIDIA CUDA through CubeCL (loads the driver at run time).
    Cuda,
}

/// Floating-point precision of the network's tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// 32-bit floats (the default for training).
    #[default]
    F32,
    /// 64-bit floats (CPU backends and CUDA; not wgpu).
    F64,
}

impl Precision {
    /// Burn's dtype for this precision.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }
}

/// Why a backend cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend's Cargo feature is off.
    #[error(
        "backend '{name}' is not compiled into this build; rebuild with `--features {feature}` (compiled in: {compiled})"
    )]
    NotCompiled {
        /// The backend asked for.
        name: &'static str,
        /// The Cargo feature that enables it.
        feature: &'static str,
        /// The backends this build has.
        compiled: String,
    },
    /// The backend is compiled in, but no adapter or driver works on this machine.
    #[error(
        "backend '{name}' is compiled in but no usable device was found ({reason}); check the GPU \
         driver, or use --device flex (for wgpu without a GPU, Mesa's lavapipe, Debian package \
         mesa-vulkan-drivers, gives a software adapter)"
    )]
    Unavailable {
        /// The backend asked for.
        name: &'static str,
        /// What failed.
        reason: ProbeError,
    },
    /// The backend cannot compute in the requested precision.
    #[error("backend '{name}' does not support {precision:?} arithmetic; use precision = \"f32\" or a CPU backend")]
    Precision {
        /// The backend asked for.
        name: &'static str,
        /// The precision asked for.
        precision: Precision,
    },
    /// An unknown backend name.
    #[error("unknown backend '{0}'; expected one of flex, ndarray, wgpu, cuda")]
    Unknown(String),
    /// A GPU's throughput probe could not run.
    #[error("the throughput probe failed: {0}")]
    Probe(String),
}

/// Why a GPU backend's probe, its first computation (`1 + 2` on the device), failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// The device computed, but not 3.
    #[error("1 + 2 gave {0}")]
    WrongSum(f32),
    /// Initializing the device or computing on it panicked (the panic's message).
    #[error("{0}")]
    Panicked(String),
}

impl BackendKind {
    /// Every backend, compiled in or not.
    pub const ALL: [BackendKind; 4] = [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Wgpu, BackendKind::Cuda];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// The Cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build has the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// Whether the backend runs on the host CPU.
    pub fn is_cpu(self) -> bool {
        matches!(self, BackendKind::Flex | BackendKind::Ndarray)
    }

    /// The backends this build has.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The default: the first compiled CPU backend (flex before ndarray), else the first GPU one.
    /// GPU backends are never picked implicitly over a CPU one.
    pub fn default_compiled() -> BackendKind {
        let c = Self::compiled();
        c.iter().copied().find(|b| b.is_cpu()).or(c.first().copied()).unwrap_or(BackendKind::Flex)
    }

    /// The GEMM kernels this backend runs on this CPU, for the benchmark's header and
    /// `resgen devices` (`None` for GPU backends). flex's GEMM (gemm 0.19, patched: see
    /// vendor/gemm-common/RESGEN-PATCH.md) runs AVX-512 kernels on Intel CPUs that have
    /// AVX-512F and AVX2 + FMA kernels elsewhere; `GEMM_X86_V4=1` or `0` overrides.
    pub fn cpu_gemm_kernels(self) -> Option<String> {
        match self {
            BackendKind::Flex => Some(flex_gemm_kernels()),
            BackendKind::Ndarray => Some("ndarray's matrixmultiply (or the system BLAS with openblas-system)".into()),
            BackendKind::Wgpu | BackendKind::Cuda => None,
        }
    }

    /// Parses a backend name.
    pub fn parse(s: &str) -> Result<BackendKind, BackendError> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| BackendError::Unknown(s.to_string()))
    }

    /// The plain (non-autodiff) device of this backend. Autodiff is switched on per tensor
    /// where gradients are needed, so evaluation passes never build a graph.
    pub fn device(self) -> Result<Device, BackendError> {
        if !self.is_compiled() {
            return Err(BackendError::NotCompiled {
                name: self.name(),
                feature: self.feature(),
                compiled: Self::compiled().iter().map(|b| b.name()).collect::<Vec<_>>().join(", "),
            });
        }
        Ok(self.construct())
    }

    #[allow(unreachable_code, deprecated)]
    fn construct(self) -> Device {
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            BackendKind::Ndarray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => Device::cuda(0),
            _ => unreachable!("device() checks is_compiled first"),
        }
    }

    /// A device that has been checked to work: a GPU backend with no adapter or driver gives
    /// [`BackendError::Unavailable`] instead of a panic later, and an unsupported precision
    /// gives [`BackendError::Precision`].
    pub fn checked_device(self, precision: Precision) -> Result<Device, BackendError> {
        let device = self.device()?;
        if !self.is_cpu() {
            let probe = device.clone();
            // One probe per backend and process; later calls reuse its outcome.
            let outcome = PROBES[self as usize].get_or_init(|| {
                match quietly(move || {
                    let t = Tensor::<1>::from_floats([1.0, 2.0], &probe);
                    t.sum().into_scalar::<f32>()
                }) {
                    Ok(3.0) => Ok(()),
                    Ok(v) => Err(ProbeError::WrongSum(v)),
                    Err(e) => Err(ProbeError::Panicked(panic_message(&*e, "initialization panicked"))),
                }
            });
            if let Err(reason) = outcome {
                return Err(BackendError::Unavailable { name: self.name(), reason: reason.clone() });
            }
        }
        let wants_f64 = precision == Precision::F64;
        if wants_f64 && (self == BackendKind::Wgpu || !device.supports_dtype(FloatDType::F64)) {
            return Err(BackendError::Precision { name: self.name(), precision });
        }
        Ok(device)
    }
}

/// What a GPU device says it is: the adapter's name as its runtime reports it (e.g.
/// `NVIDIA H100 80GB HBM3`, or `llvmpipe (LLVM 15.0.6, 256 bits)` for Mesa's lavapipe) and what
/// its kernels compile for. `None` for the CPU backends and builds without a GPU backend.
pub fn gpu_identity(device: &Device) -> Option<String> {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    {
        device.identity().map(|i| format!("{} ({})", i.name, i.fingerprint))
    }
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    {
        let _ = device;
        None
    }
}

/// The f32 arithmetic ceiling of a GPU device in FLOP/s, measured by cubecl's throughput probe
/// (independent fused multiply-add chains, two FLOPs each, without tensor cores): the peak
/// that a GD step's GFLOP/s is compared with. `None` for the CPU backends; `Some(Err)` when
/// the probe could not run (its reason).
pub fn gpu_f32_peak(device: &Device) -> Option<Result<f64, BackendError>> {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    {
        use burn::cubecl::ir::{ElemType, FloatKind};
        use burn::tensor::{ThroughputKey, ThroughputMode};
        device.identity()?;
        let key = ThroughputKey { mode: ThroughputMode::ComputeDirect { dtype: ElemType::Float(FloatKind::F32) } };
        let stat = device.performance_stats(&[key]).into_iter().next()?;
        Some(stat.value.map(|v| v.ops_per_s()).map_err(|e| BackendError::Probe(e.to_string())))
    }
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    {
        let _ = device;
        None
    }
}

/// The outcome of each GPU backend's probe, indexed by `BackendKind as usize`.
static PROBES: [std::sync::OnceLock<Result<(), ProbeError>>; 4] =
    [std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new()];

thread_local! {
    /// Whether panics on this thread are being caught by [`quietly`] (and not printed).
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How many [`quietly`] calls are running, on any thread. A GPU runtime initializes its device
/// on a thread of its own (cubecl's `DSD-*` threads), whose panic reaches the caller only as a
/// closed channel; while a probe runs, such panics are not printed either.
static QUIET_SECTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a panic raised at `file` comes from a GPU runtime's own code: a path with a
/// directory named for a cubecl or wgpu crate (`cubecl-wgpu-0.11.3`, `wgpu-core-26.0.1`, as
/// the Cargo registry or a git checkout lays them out). A probe silences such panics, which
/// come from the runtime's device threads, while it runs.
pub fn is_gpu_runtime_location(file: &str) -> bool {
    let mut dirs: Vec<&str> = file.split(['/', '\\']).collect();
    dirs.pop(); // the file name itself
    dirs.iter().any(|d| d.starts_with("cubecl") || *d == "wgpu" || d.starts_with("wgpu-"))
}

/// The text of a caught panic's payload (`panic!` gives a `String` or a `&str`), else `fallback`.
pub fn panic_message(payload: &(dyn std::any::Any + Send), fallback: &str) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| fallback.into())
}

/// Runs `f`, catching a panic without printing it. The panic hook is wrapped once per process
/// (the wrapper stays installed and defers to the previous hook unless the panicking thread is
/// inside `quietly`, or the panic comes from a GPU runtime's code while any `quietly` call runs:
/// see [`is_gpu_runtime_location`]), so concurrent calls never swap the process-global hook under each other
/// and never leave a silent hook behind.
pub fn quietly<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> std::thread::Result<R> {
    static WRAP: std::sync::Once = std::sync::Once::new();
    WRAP.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_quiet_thread = QUIET.with(|q| q.get());
            let from_runtime_thread = QUIET_SECTIONS.load(std::sync::atomic::Ordering::SeqCst) > 0
                && info.location().is_some_and(|l| is_gpu_runtime_location(l.file()));
            if !on_quiet_thread && !from_runtime_thread {
                previous(info);
            }
        }));
    });
    QUIET_SECTIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let was = QUIET.with(|q| q.replace(true));
    let out = std::panic::catch_unwind(f);
    QUIET.with(|q| q.set(was));
    QUIET_SECTIONS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    out
}

/// Environment variables that hide every graphics adapter from wgpu on Linux: no Vulkan driver
/// manifests (the Vulkan loader reads `VK_ICD_FILENAMES` and `VK_DRIVER_FILES`) and no EGL
/// vendor library (glvnd reads `__EGL_VENDOR_LIBRARY_FILENAMES`), so neither Vulkan nor GL
/// finds one. The tests set them on a child process to check that a machine without a GPU
/// skips the GPU tests with a message and that `--device wgpu` fails with a clear error.
pub const HIDE_ADAPTERS_ENV: [(&str, &str); 3] = [
    ("VK_ICD_FILENAMES", "/nonexistent/resgen-no-icd.json"),
    ("VK_DRIVER_FILES", "/nonexistent/resgen-no-icd.json"),
    ("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/resgen-no-egl-vendor.json"),
];

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackendKind::parse(s)
    }
}

/// Which of gemm's kernels flex runs here (see [`BackendKind::cpu_gemm_kernels`]).
fn flex_gemm_kernels() -> String {
    #[cfg(all(feature = "flex", target_arch = "x86_64"))]
    {
        let why = match std::env::var("GEMM_X86_V4") {
            Ok(v) => format!("GEMM_X86_V4={v}"),
            Err(_) => {
                let vendor = gemm_common::cpu_vendor();
                format!("{} CPU", String::from_utf8_lossy(&vendor))
            }
        };
        if std::arch::is_x86_feature_detected!("avx512f") && gemm_common::x86_v4_allowed() {
            format!("AVX-512 ({why})")
        } else if std::arch::is_x86_feature_detected!("fma") {
            format!("AVX2 + FMA ({why})")
        } else {
            "scalar (no FMA)".into()
        }
    }
    #[cfg(not(all(feature = "flex", target_arch = "x86_64")))]
    {
        "gemm's run-time choice for this architecture".into()
    }
}
