#![cfg_attr(not(feature = "std"), no_std)]

use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

#[cfg(feature = "wasm-simd128-enable")]
pub const DEFAULT_WASM_SIMD128: bool = true;

#[cfg(not(feature = "wasm-simd128-enable"))]
pub const DEFAULT_WASM_SIMD128: bool = false;

static WASM_SIMD128: AtomicBool = AtomicBool::new(DEFAULT_WASM_SIMD128);

#[inline]
pub fn get_wasm_simd128() -> bool {
    WASM_SIMD128.load(Relaxed)
}
#[inline]
pub fn set_wasm_simd128(enable: bool) {
    WASM_SIMD128.store(enable, Relaxed)
}

extern crate alloc;

/// resgen patch (see RESGEN-PATCH.md): whether the AVX-512 kernels, compiled in with the
/// `x86-v4` feature, may be chosen at run time on a CPU that has AVX-512F. `GEMM_X86_V4=1`
/// (or `on`) allows them, `GEMM_X86_V4=0` (or `off`) forbids them; unset, they are allowed on
/// Intel CPUs only: on AMD Zen 4, which runs AVX-512 at half width, they measured slower than the
/// AVX2 + FMA kernels. Read once, at the first GEMM of the process.
#[cfg(all(feature = "std", feature = "x86-v4", any(target_arch = "x86", target_arch = "x86_64")))]
pub fn x86_v4_allowed() -> bool {
    static ALLOWED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOWED.get_or_init(|| match std::env::var("GEMM_X86_V4").as_deref() {
        Ok("1") | Ok("on") => true,
        Ok("0") | Ok("off") => false,
        _ => cpu_vendor() == *b"GenuineIntel",
    })
}

/// resgen patch: without `std` there is no environment to read; the kernels are allowed.
#[cfg(all(not(feature = "std"), feature = "x86-v4", any(target_arch = "x86", target_arch = "x86_64")))]
pub fn x86_v4_allowed() -> bool {
    true
}

/// resgen patch: the CPUID vendor string (leaf 0: EBX, EDX, ECX).
#[cfg(all(feature = "std", feature = "x86-v4", any(target_arch = "x86", target_arch = "x86_64")))]
pub fn cpu_vendor() -> [u8; 12] {
    #[cfg(target_arch = "x86")]
    use core::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::__cpuid;
    // SAFETY: CPUID leaf 0 exists on every x86 CPU that runs std.
    #[allow(unused_unsafe)]
    let r = unsafe { __cpuid(0) };
    let mut v = [0u8; 12];
    v[..4].copy_from_slice(&r.ebx.to_le_bytes());
    v[4..8].copy_from_slice(&r.edx.to_le_bytes());
    v[8..].copy_from_slice(&r.ecx.to_le_bytes());
    v
}

pub mod cache;

pub mod gemm;
pub mod gemv;
pub mod gevv;

pub mod horizontal_microkernel;
pub mod microkernel;

pub mod pack_operands;
pub mod simd;

pub use pulp;

#[derive(Copy, Clone, Debug)]
pub enum Parallelism {
    None,
    #[cfg(feature = "rayon")]
    Rayon(usize),
}

pub struct Ptr<T: ?Sized>(pub *mut T);

impl<T: ?Sized> Clone for Ptr<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Ptr<T> {}

unsafe impl<T: ?Sized> Send for Ptr<T> {}
unsafe impl<T: ?Sized> Sync for Ptr<T> {}

impl<T> Ptr<T> {
    #[inline(always)]
    pub fn wrapping_offset(self, offset: isize) -> Self {
        Ptr::<T>(self.0.wrapping_offset(offset))
    }
    #[inline(always)]
    pub fn wrapping_add(self, offset: usize) -> Self {
        Ptr::<T>(self.0.wrapping_add(offset))
    }
}

#[cfg(not(feature = "std"))]
#[macro_export]
macro_rules! feature_detected {
    ($tt: tt) => {
        cfg!(feature = $tt)
    };
}

#[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
#[macro_export]
macro_rules! feature_detected {
    ($tt: tt) => {
        ::std::arch::is_x86_feature_detected!($tt)
    };
}
#[cfg(all(feature = "std", target_arch = "aarch64"))]
#[macro_export]
macro_rules! feature_detected {
    ($tt: tt) => {
        ::std::arch::is_aarch64_feature_detected!($tt)
    };
}
#[cfg(all(feature = "std", target_family = "wasm"))]
#[macro_export]
macro_rules! feature_detected {
    ("simd128") => {
        $crate::get_wasm_simd128()
    };
}
