//! resgen patch: hands large f32 and f64 products to CBLAS (`cblas_sgemm`, `cblas_dgemm`) when
//! the `blas` feature is on; every other product, and every layout CBLAS cannot express (no unit
//! stride in a matrix, a negative stride), stays on the pure-Rust kernels.
//!
//! `gemm`'s convention is `dst := alpha dst + beta lhs rhs` (with `read_dst`), BLAS's
//! `C := alpha' A B + beta' C`: so `alpha' = beta` and `beta' = alpha` (0 without `read_dst`).
//! `RESGEN_GEMM` chooses the route at run time: unset or `blas`, products of at least
//! [`MIN_WORK`] multiply-adds; `rust`, none (for comparisons in one build); `blas-all`, every
//! product, however small (so that tests on small networks run their oracles through BLAS).

use core::any::TypeId;

const ROW_MAJOR: i32 = 101;
const COL_MAJOR: i32 = 102;
const NO_TRANS: i32 = 111;
const TRANS: i32 = 112;

extern "C" {
    fn cblas_sgemm(
        layout: i32,
        transa: i32,
        transb: i32,
        m: i32,
        n: i32,
        k: i32,
        alpha: f32,
        a: *const f32,
        lda: i32,
        b: *const f32,
        ldb: i32,
        beta: f32,
        c: *mut f32,
        ldc: i32,
    );
    fn cblas_dgemm(
        layout: i32,
        transa: i32,
        transb: i32,
        m: i32,
        n: i32,
        k: i32,
        alpha: f64,
        a: *const f64,
        lda: i32,
        b: *const f64,
        ldb: i32,
        beta: f64,
        c: *mut f64,
        ldc: i32,
    );
}

/// Products with at least this many multiply-adds (`m n k`) go to BLAS: burn-flex's own
/// threshold for running a product on rayon's pool. Smaller products run one per task, often
/// inside work that is already parallel, and there the pure-Rust kernels were as fast and the
/// sequential MKL calls slower in wall time (an experiment of 100 x 128 x 128 products took 114 s
/// at a threshold of 32^3, 96 s on the pure-Rust kernels, 84 s at 192^3; the GEMM-bound ones
/// gained as much as at 32^3).
pub const MIN_WORK: usize = 192 * 192 * 192;

/// The smallest product (`m n k`) that goes to BLAS in this process, `None` when the route is
/// off, from `RESGEN_GEMM` (read once; a value other than `blas`, `blas-all` or `rust` panics
/// with a message that names it, at the first product).
pub fn min_work() -> Option<usize> {
    static WORK: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *WORK.get_or_init(|| match std::env::var("RESGEN_GEMM") {
        Err(std::env::VarError::NotPresent) => Some(MIN_WORK),
        Ok(v) if v == "blas" => Some(MIN_WORK),
        Ok(v) if v == "blas-all" => Some(1),
        Ok(v) if v == "rust" => None,
        Ok(v) => panic!("RESGEN_GEMM={v}: expected blas (the default), blas-all or rust"),
        Err(e) => panic!("RESGEN_GEMM: {e}"),
    })
}

std::thread_local! {
    /// Products this thread has handed to BLAS (for the tests of the route's threshold).
    static CALLS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// How many products the calling thread has handed to BLAS.
pub fn calls() -> usize {
    CALLS.with(|c| c.get())
}

/// One matrix operand as CBLAS sees it in `layout`: its transpose flag and leading dimension,
/// or `None` if it has no unit stride along either axis (or a leading dimension CBLAS rejects).
fn operand(layout: i32, rows: usize, cols: usize, rs: isize, cs: isize) -> Option<(i32, i32)> {
    let (rs, cs) = (usize::try_from(rs).ok()?, usize::try_from(cs).ok()?);
    // In row-major, a matrix whose columns are contiguous (cs = 1) is itself, leading dimension
    // rs; one whose rows are contiguous (rs = 1) is the transpose of a row-major cols x rows
    // matrix with leading dimension cs. Column-major is the mirror image.
    let (plain, flipped) = if layout == ROW_MAJOR { ((cs, rs, cols), (rs, cs, rows)) } else { ((rs, cs, rows), (cs, rs, cols)) };
    let pick = |(unit, ld, min): (usize, usize, usize), t: i32| (unit == 1 && ld >= min.max(1)).then_some((t, ld));
    let (t, ld) = pick(plain, NO_TRANS).or_else(|| pick(flipped, TRANS))?;
    Some((t, i32::try_from(ld).ok()?))
}

/// Tries the product with CBLAS; `false` (nothing written) when it does not apply.
///
/// # Safety
/// The pointers and strides are `gemm`'s, valid for the given shapes.
#[allow(clippy::too_many_arguments)]
pub unsafe fn try_gemm<T: 'static>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    dst_cs: isize,
    dst_rs: isize,
    read_dst: bool,
    lhs: *const T,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs: *const T,
    rhs_cs: isize,
    rhs_rs: isize,
    alpha: &T,
    beta: &T,
    parallelism: crate::Parallelism,
) -> bool {
    let is_f32 = TypeId::of::<T>() == TypeId::of::<f32>();
    let is_f64 = TypeId::of::<T>() == TypeId::of::<f64>();
    if !(is_f32 || is_f64) || m == 0 || n == 0 || k == 0 {
        return false;
    }
    match min_work() {
        Some(w) if m.saturating_mul(n).saturating_mul(k) >= w => {}
        _ => return false,
    }
    let (Ok(_), Ok(_), Ok(ki)) = (i32::try_from(m), i32::try_from(n), i32::try_from(k)) else { return false };
    // The destination fixes the layout: row-major if its columns are contiguous.
    let layout = if dst_cs == 1 { ROW_MAJOR } else if dst_rs == 1 { COL_MAJOR } else { return false };
    let Some((_, ldc)) = operand(layout, m, n, dst_rs, dst_cs) else { return false };
    let Some((ta, lda)) = operand(layout, m, k, lhs_rs, lhs_cs) else { return false };
    let Some((tb, ldb)) = operand(layout, k, n, rhs_rs, rhs_cs) else { return false };
    // MKL runs sequentially in each task; parallelism comes from splitting the product into
    // row (or column) blocks of the destination on rayon's pool, the pool the caller asked for,
    // so there is never a second thread pool beside rayon's.
    let threads = match parallelism {
        crate::Parallelism::None => 1,
        crate::Parallelism::Rayon(0) => rayon::current_num_threads(),
        crate::Parallelism::Rayon(t) => t,
    };
    let split_rows = m >= n;
    let long = if split_rows { m } else { n };
    let blocks = threads.min(long / 16).max(1);
    let (dst_p, lhs_p, rhs_p) = (dst as usize, lhs as usize, rhs as usize);
    // The scalars as BLAS takes them (read once, here, for the type at hand).
    let (sa, sb, da, db) = if is_f32 {
        let (a, b) = (*(beta as *const T as *const f32), *(alpha as *const T as *const f32));
        (a, if read_dst { b } else { 0.0 }, 0.0, 0.0)
    } else {
        let (a, b) = (*(beta as *const T as *const f64), *(alpha as *const T as *const f64));
        (0.0, 0.0, a, if read_dst { b } else { 0.0 })
    };
    let run = |block: usize| {
        let (lo, hi) = (block * long / blocks, (block + 1) * long / blocks);
        let size = core::mem::size_of::<T>() as isize;
        let (mut d, mut l, mut r) = (dst_p as isize, lhs_p as isize, rhs_p as isize);
        let (mb, nb) = if split_rows {
            d += lo as isize * dst_rs * size;
            l += lo as isize * lhs_rs * size;
            (hi - lo, n)
        } else {
            d += lo as isize * dst_cs * size;
            r += lo as isize * rhs_cs * size;
            (m, hi - lo)
        };
        let (mb, nb) = (mb as i32, nb as i32);
        if is_f32 {
            cblas_sgemm(layout, ta, tb, mb, nb, ki, sa, l as *const f32, lda, r as *const f32, ldb, sb, d as *mut f32, ldc);
        } else {
            cblas_dgemm(layout, ta, tb, mb, nb, ki, da, l as *const f64, lda, r as *const f64, ldb, db, d as *mut f64, ldc);
        }
    };
    CALLS.with(|c| c.set(c.get() + 1));
    if blocks == 1 {
        run(0);
    } else {
        use rayon::prelude::*;
        (0..blocks).into_par_iter().for_each(|block| run(block));
    }
    true
}
