//! The fused CPU training step of the two paper networks: full-batch GD on host buffers that
//! live for the whole run.
//!
//! [`Net::backprop`] builds a step from Burn tensor operations, each of which allocates its
//! output and makes one pass over it. On the CPU the same step is a handful of GEMMs and a few
//! element-wise passes, and here it is written as exactly that:
//!
//! - the forward pass keeps `r_l = relu(z_l)` (whose sign is the relu mask) and, for the ResNet,
//!   `h_l`, in buffers allocated once;
//! - the residual block's relu and add are one pass over the activation (`r = max(z, 0)`,
//!   `h = h_prev + theta r`); the two-layer branch folds its add into the GEMM
//!   (`h := h_prev + theta r V^T`, `beta = theta`);
//! - the backward pass runs the relu mask and the residual scale in one pass, and the residual
//!   gradient's add in the GEMM (`g := g + delta W`);
//! - each weight update is one GEMM with the weight as its destination:
//!   `W := W - eta D^T A` (`alpha = 1`, `beta = -eta`), after `W`'s own backward product has
//!   read the old weights. No weight gradient is ever materialized.
//!
//! The products go through `gemm` (the GEMM behind Burn's flex backend; with the `blas`
//! feature its large products run on MKL). Nothing in the step loop allocates apart from
//! `gemm`'s own packing buffers. The Burn tensor step stays as the oracle: the tests hold
//! the two to each other over 100 steps (2e-5 relative in f32, 1e-12 in f64).
//!
//! A product runs on rayon's pool (both cores) when a core is spare (fewer cells of a sweep
//! compute than the pool has threads, [`CellSlot`]) and it has at least [`parallel_min_work`]
//! multiply-adds, or [`THIN_WORK_FACTOR`] times that when one of its dimensions is under
//! [`THIN_DIM`] (the 50 examples of most sweep cells); below that a second thread costs more
//! than it saves (measured, see [`PARALLEL_MIN_WORK`]).

use gemm::Parallelism;
use rayon::prelude::*;

use crate::config::Arch;
use crate::{Net, Precision};

/// Selects the training step on the CPU: `fused` (the default) or `tensor` (Burn's tensor
/// step, [`Net::loss_grads`] then [`Net::step`]).
pub const STEP_ENV: &str = "RESGEN_STEP";

/// Products of at least this many multiply-adds (`m n k`) run on rayon's pool by default
/// (see [`parallel_min_work`]): `192^3`, flex's own threshold, which the fused step's
/// measurement confirmed (`resgen bench` with [`PARALLEL_ENV`] at 0 and at infinity, Intel
/// Xeon @ 2.50GHz, 2 cores; docs/benchmarks.md): with 100 or more examples, a GD step whose
/// products have 13M or more multiply-adds runs 1.25-1.8x faster on two threads. With 50
/// examples the split pays later: 13M and 20M ran 1.1-1.3x slower on two threads, 30M and 52M
/// 1.05-1.1x faster ([`THIN_DIM`], [`THIN_WORK_FACTOR`]); 3.3M or fewer ran up to 5x slower.
pub const PARALLEL_MIN_WORK: usize = 192 * 192 * 192;

/// A product with a dimension under this is thin: it needs [`THIN_WORK_FACTOR`] times the
/// work of [`PARALLEL_MIN_WORK`] (or of [`PARALLEL_ENV`]) to run on the pool.
pub const THIN_DIM: usize = 64;

/// The work factor of thin products: `4 x 192^3` = 28.3M multiply-adds, between the 20M that
/// ran slower on two threads and the 30M that ran faster (50 examples, m = 640 and 768).
pub const THIN_WORK_FACTOR: usize = 4;

/// Whether an `m x k` by `k x n` product runs on rayon's pool when products of `min_work`
/// multiply-adds do (thin ones need [`THIN_WORK_FACTOR`] times that).
pub fn runs_on_pool(m: usize, n: usize, k: usize, min_work: usize) -> bool {
    let work = m.saturating_mul(n).saturating_mul(k);
    let needed = if m.min(n).min(k) < THIN_DIM { min_work.saturating_mul(THIN_WORK_FACTOR) } else { min_work };
    work >= needed
}

/// The environment variable that overrides [`PARALLEL_MIN_WORK`] (a number of multiply-adds;
/// `0` puts every product on the pool).
pub const PARALLEL_ENV: &str = "RESGEN_PARALLEL_MIN_WORK";

/// Element-wise passes over at least this many entries are split over rayon's pool.
const PARALLEL_MIN_ELEMS: usize = 1 << 15;

/// Whether the CPU step is the fused one ([`STEP_ENV`] unset or `fused`) or Burn's tensor step
/// (`tensor`). Any other value is an error naming it.
pub fn fused_step_enabled() -> Result<bool, String> {
    match std::env::var(STEP_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(true),
        Ok(v) if v == "fused" => Ok(true),
        Ok(v) if v == "tensor" => Ok(false),
        Ok(v) => Err(format!("{STEP_ENV}={v}: expected fused (the default) or tensor")),
        Err(e) => Err(format!("{STEP_ENV}: {e}")),
    }
}

/// The smallest product that runs on rayon's pool: [`PARALLEL_ENV`] if set, else
/// [`PARALLEL_MIN_WORK`]. A value that is not a whole number is an error naming it (`resgen`
/// checks it at startup, before any work).
pub fn parallel_min_work_setting() -> Result<usize, String> {
    match std::env::var(PARALLEL_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(PARALLEL_MIN_WORK),
        Ok(v) => v.trim().parse().map_err(|_| {
            format!("{PARALLEL_ENV}={v}: expected a whole number of multiply-adds (default {PARALLEL_MIN_WORK})")
        }),
        Err(e) => Err(format!("{PARALLEL_ENV}: {e}")),
    }
}

/// [`parallel_min_work_setting`], read once; an invalid setting falls back to
/// [`PARALLEL_MIN_WORK`] here (the command line has already rejected it).
pub fn parallel_min_work() -> usize {
    static WORK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORK.get_or_init(|| parallel_min_work_setting().unwrap_or(PARALLEL_MIN_WORK))
}

/// The float types the fused step runs in.
pub trait Float:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::fmt::Debug
    + std::ops::Mul<Output = Self>
    + std::ops::Add<Output = Self>
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// From f64 (rounded).
    fn of(v: f64) -> Self;
    /// To f64.
    fn f64(self) -> f64;
    /// `a + b * c`.
    fn mul_add_to(a: Self, b: Self, c: Self) -> Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn of(v: f64) -> Self {
        v as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
    fn mul_add_to(a: Self, b: Self, c: Self) -> Self {
        a + b * c
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn of(v: f64) -> Self {
        v
    }
    fn f64(self) -> f64 {
        self
    }
    fn mul_add_to(a: Self, b: Self, c: Self) -> Self {
        a + b * c
    }
}

/// A row-major matrix operand: `rows x cols` with row stride `rs` and column stride `cs`.
#[derive(Clone, Copy)]
struct View {
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

impl View {
    /// A row-major `rows x cols` matrix.
    fn plain(rows: usize, cols: usize) -> View {
        View { rows, cols, rs: cols as isize, cs: 1 }
    }

    /// The transpose of a row-major `rows x cols` matrix (`cols x rows`).
    fn t(rows: usize, cols: usize) -> View {
        View { rows: cols, cols: rows, rs: 1, cs: cols as isize }
    }
}

/// `max(z, 0)`, with a NaN kept (so that divergence shows in the output). Written as a select
/// with no branch and no conditional store, so that the passes over buffers vectorize.
#[inline(always)]
fn relu<T: Float>(z: T) -> T {
    if z < T::ZERO { T::ZERO } else { z }
}

/// `g 1{z > 0}` from the relu output `r = relu(z)` (the relu's derivative is 1 where `r > 0`),
/// as a select like [`relu`].
#[inline(always)]
fn masked<T: Float>(g: T, r: T) -> T {
    if r > T::ZERO { g } else { T::ZERO }
}

/// `dst := (read ? dst : 0) + beta lhs rhs` on `gemm` (which writes `alpha dst + beta lhs rhs`).
fn gemm_into<T: Float>(
    (dst, dv): (&mut [T], View),
    read: bool,
    (lhs, lv): (&[T], View),
    (rhs, rv): (&[T], View),
    beta: T,
) {
    let (m, n, k) = (dv.rows, dv.cols, lv.cols);
    assert!(lv.rows == m && rv.rows == k && rv.cols == n, "gemm_into: shapes {m}x{k} by {}x{}", rv.rows, rv.cols);
    assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= k * n, "gemm_into: buffer too small");
    let par = if spare_cores() && runs_on_pool(m, n, k, parallel_min_work()) {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: every buffer holds at least the elements its view addresses (checked above), the
    // destination is not aliased by either operand (distinct borrows), strides are positive.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dv.cs,
            dv.rs,
            read,
            lhs.as_ptr(),
            lv.cs,
            lv.rs,
            rhs.as_ptr(),
            rv.cs,
            rv.rs,
            T::ONE,
            beta,
            false,
            false,
            false,
            par,
        );
    }
}

/// The rows per block that splits a `rows x w` buffer over rayon's pool in one block per
/// thread (all of it in one block when it is small, or when no core is spare).
fn block_rows(rows: usize, w: usize) -> usize {
    if rows * w >= PARALLEL_MIN_ELEMS && spare_cores() {
        rows.div_ceil(rayon::current_num_threads()).max(1)
    } else {
        rows.max(1)
    }
}

/// Runs `f(offset, block)` over `buf` (rows of width `w`) in blocks of whole rows, one per
/// thread when large; `offset` is the block's first element, for the same block of buffers of
/// the same shape. One block runs on the calling thread: handing it to the pool and waiting
/// would cost a round trip between threads per pass.
fn blocks_mut<T: Float>(buf: &mut [T], w: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let size = block_rows(buf.len() / w.max(1), w) * w;
    if size >= buf.len() {
        f(0, buf);
    } else {
        buf.par_chunks_mut(size.max(1)).enumerate().for_each(|(i, b)| f(i * size, b));
    }
}

/// [`blocks_mut`] over two buffers of the same shape, block by block: `f(offset, a, b)`.
fn blocks2_mut<T: Float>(a: &mut [T], b: &mut [T], w: usize, f: impl Fn(usize, &mut [T], &mut [T]) + Sync) {
    assert_eq!(a.len(), b.len(), "buffers of one shape");
    let size = block_rows(a.len() / w.max(1), w) * w;
    if size >= a.len() {
        f(0, a, b);
    } else {
        a.par_chunks_mut(size).zip(b.par_chunks_mut(size)).enumerate().for_each(|(i, (x, y))| f(i * size, x, y));
    }
}

/// How many cells of a sweep are computing now (see [`CellSlot`]).
static BUSY_CELLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Held by a sweep's worker while it computes one cell. While as many cells run as rayon's pool
/// has threads, every core already has a cell, and the step's products and passes stay on
/// their cell's thread (a split would only add hand-offs: a sweep of 50-example cells ran
/// 1.35x slower with its products split); with fewer (`--jobs 1`, the last cells of a sweep,
/// or outside a sweep) they use the pool where [`runs_on_pool`] says it pays.
#[derive(Debug)]
pub struct CellSlot(());

impl CellSlot {
    /// Marks one more cell as computing until the slot is dropped.
    pub fn take() -> Self {
        BUSY_CELLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        CellSlot(())
    }
}

impl Drop for CellSlot {
    fn drop(&mut self) {
        BUSY_CELLS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether a core is spare: fewer cells compute now than rayon's pool has threads.
pub fn spare_cores() -> bool {
    BUSY_CELLS.load(std::sync::atomic::Ordering::SeqCst) < rayon::current_num_threads()
}

/// The fused step's state in one precision: the weights and every buffer the step uses.
#[derive(Debug)]
pub struct FusedState<T: Float> {
    depth: usize,
    m: usize,
    d: usize,
    n: usize,
    resnet: bool,
    two_layer: bool,
    theta: T,
    sm: f64,
    trained: Vec<bool>,
    /// The weights, in [`Net`]'s order and layout.
    w: Vec<Vec<T>>,
    /// The inputs `X` (`n x d`).
    x: Vec<T>,
    /// `r_l = relu(z_l)`, `l = 1..L` (`n x m`); for the FC network also `h_l`.
    r: Vec<Vec<T>>,
    /// ResNet only: `h_l`, `l = 2..L` (`h[l - 1]`; `h_1 = r_1`).
    h: Vec<Vec<T>>,
    /// Backward buffers: `g_l = dF/dh_l`, a second one for the FC network, and `delta_l`.
    g: Vec<T>,
    g2: Vec<T>,
    delta: Vec<T>,
    /// `c_i sqrt(m)`, the output layer's delta.
    cs: Vec<T>,
}

impl<T: Float> FusedState<T> {
    fn new(net: &Net, x: &[f64], n: usize) -> FusedState<T> {
        let (depth, m, d) = (net.cfg.depth, net.cfg.width, net.d);
        assert_eq!(x.len(), n * d, "fused step: {n} x {d} inputs");
        let resnet = net.cfg.arch == Arch::Resnet;
        let two_layer = net.cfg.two_layer();
        let buf = || vec![T::ZERO; n * m];
        FusedState {
            depth,
            m,
            d,
            n,
            resnet,
            two_layer,
            theta: T::of(net.theta),
            sm: (m as f64).sqrt(),
            trained: (1..=net.num_layers()).map(|k| net.is_trained(k)).collect(),
            w: net.host_weights().iter().map(|w| w.iter().map(|&v| T::of(v)).collect()).collect(),
            x: x.iter().map(|&v| T::of(v)).collect(),
            r: (0..depth).map(|_| buf()).collect(),
            h: (0..depth).map(|l| if resnet && l >= 1 { buf() } else { Vec::new() }).collect(),
            g: buf(),
            g2: if resnet { Vec::new() } else { buf() },
            delta: if resnet { buf() } else { Vec::new() },
            cs: vec![T::ZERO; n],
        }
    }

    fn fan_in(&self, k: usize) -> usize {
        if k == 1 { self.d } else { self.m }
    }

    /// `h_l` (`l >= 1`): `r_l` for the FC network and the ResNet's first layer.
    fn hidden(&self, l: usize) -> &[T] {
        if !self.resnet || l == 1 { &self.r[l - 1] } else { &self.h[l - 1] }
    }

    /// The input of `W_l`: `X` for `l = 1`, else `h_{l-1}`.
    fn input(&self, l: usize) -> &[T] {
        if l == 1 { &self.x } else { self.hidden(l - 1) }
    }

    /// The forward pass at the current weights, keeping what the backward pass needs; returns
    /// `f(x_i)` in f64.
    fn forward(&mut self) -> Vec<f64> {
        let (n, m, depth, theta) = (self.n, self.m, self.depth, self.theta);
        let nm = View::plain(n, m);
        for l in 1..=depth {
            let fan_in = self.fan_in(l);
            let mut r = std::mem::take(&mut self.r[l - 1]);
            // z_l = h_{l-1} W_l^T.
            gemm_into(
                (&mut r, nm),
                false,
                (self.input(l), View::plain(n, fan_in)),
                (&self.w[l - 1], View::t(m, fan_in)),
                T::ONE,
            );
            let residual = self.resnet && l >= 2;
            if residual && !self.two_layer {
                // r = relu(z), h_l = h_{l-1} + theta r: one pass.
                let mut h = std::mem::take(&mut self.h[l - 1]);
                let prev = self.hidden(l - 1);
                blocks2_mut(&mut h, &mut r, m, |off, hb, rb| {
                    for ((hv, rv), &pv) in hb.iter_mut().zip(rb.iter_mut()).zip(&prev[off..]) {
                        let z = relu(*rv);
                        *rv = z;
                        *hv = T::mul_add_to(pv, theta, z);
                    }
                });
                self.h[l - 1] = h;
            } else {
                // relu in place (a NaN stays NaN, so that divergence shows in the output).
                blocks_mut(&mut r, m, |_, block| {
                    for v in block {
                        *v = relu(*v);
                    }
                });
                if residual {
                    // h_l = h_{l-1} + theta r_l V_l^T: the add folded into the GEMM.
                    let mut h = std::mem::take(&mut self.h[l - 1]);
                    h.copy_from_slice(self.hidden(l - 1));
                    gemm_into((&mut h, nm), true, (&r, nm), (&self.w[depth + l - 1], View::t(m, m)), theta);
                    self.h[l - 1] = h;
                }
            }
            self.r[l - 1] = r;
        }
        // f = sqrt(m) h_L W_{L+1}^T, accumulated in f64.
        let (hl, wo) = (self.hidden(depth), &self.w[depth]);
        (0..n)
            .map(|i| self.sm * hl[i * m..(i + 1) * m].iter().zip(wo).map(|(a, b)| a.f64() * b.f64()).sum::<f64>())
            .collect()
    }

    /// The backward pass of `sum_i c_i f(x_i)` from the buffers of the last
    /// [`FusedState::forward`], and the update `W := W - eta grad` of every trained matrix.
    fn backward_step(&mut self, c: &[f64], eta: f64) {
        let (n, m, depth, theta) = (self.n, self.m, self.depth, self.theta);
        let (nm, mm) = (View::plain(n, m), View::plain(m, m));
        assert_eq!(c.len(), n, "one coefficient per example");
        let neg_eta = T::of(-eta);
        for (ci, &cv) in self.cs.iter_mut().zip(c) {
            *ci = T::of(cv * self.sm);
        }
        // Output layer: g_L = (c sqrt(m)) W_{L+1}, then W_{L+1} -= eta (c sqrt(m))^T h_L.
        let mut g = std::mem::take(&mut self.g);
        {
            let (cs, wo) = (&self.cs, &self.w[depth]);
            blocks_mut(&mut g, m, |off, block| {
                for (k, row) in block.chunks_mut(m).enumerate() {
                    let ci = cs[off / m + k];
                    for (gv, &wv) in row.iter_mut().zip(wo) {
                        *gv = ci * wv;
                    }
                }
            });
        }
        if self.trained[depth] {
            let mut wo = std::mem::take(&mut self.w[depth]);
            gemm_into((&mut wo, View::plain(1, m)), true, (&self.cs, View::t(n, 1)), (self.hidden(depth), nm), neg_eta);
            self.w[depth] = wo;
        }
        let mut g2 = std::mem::take(&mut self.g2);
        let mut delta = std::mem::take(&mut self.delta);
        for l in (1..=depth).rev() {
            let fan_in = self.fan_in(l);
            let r = &self.r[l - 1];
            let residual = self.resnet && l >= 2;
            if residual {
                if self.two_layer {
                    // delta = (theta g V_l) o 1{z > 0}; then V_l -= eta theta g^T r_l.
                    let v = depth + l - 1;
                    gemm_into((&mut delta, nm), false, (&g, nm), (&self.w[v], mm), theta);
                    blocks_mut(&mut delta, m, |off, block| {
                        for (dv, &rv) in block.iter_mut().zip(&r[off..]) {
                            *dv = masked(*dv, rv);
                        }
                    });
                    if self.trained[v] {
                        let mut wv = std::mem::take(&mut self.w[v]);
                        gemm_into((&mut wv, mm), true, (&g, View::t(n, m)), (r, nm), T::of(-eta * theta.f64()));
                        self.w[v] = wv;
                    }
                } else {
                    // delta = theta g o 1{z > 0}: scale and mask in one pass.
                    let gs = &g;
                    blocks_mut(&mut delta, m, |off, block| {
                        for ((dv, &gv), &rv) in block.iter_mut().zip(&gs[off..]).zip(&r[off..]) {
                            *dv = masked(theta * gv, rv);
                        }
                    });
                }
                // g_{l-1} = g_l + delta W_l (the old W_l), the add in the GEMM.
                gemm_into((&mut g, nm), true, (&delta, nm), (&self.w[l - 1], View::plain(m, fan_in)), T::ONE);
                self.update(l, &delta, neg_eta);
            } else {
                // delta = g o 1{z > 0}, in place.
                blocks_mut(&mut g, m, |off, block| {
                    for (gv, &rv) in block.iter_mut().zip(&r[off..]) {
                        *gv = masked(*gv, rv);
                    }
                });
                if l > 1 {
                    let other = if self.resnet { &mut delta } else { &mut g2 };
                    gemm_into((other, nm), false, (&g, nm), (&self.w[l - 1], View::plain(m, fan_in)), T::ONE);
                    self.update(l, &g, neg_eta);
                    std::mem::swap(&mut g, other);
                } else {
                    self.update(l, &g, neg_eta);
                }
            }
        }
        self.g = g;
        self.g2 = g2;
        self.delta = delta;
    }

    /// The step's products alone, in the step's order, shapes and layouts, on the buffers as
    /// they are (a GEMM's speed does not depend on the values), the updates into `scratch`
    /// instead of the weights; returns the seconds taken.
    fn time_products(&mut self) -> f64 {
        let (n, m, depth) = (self.n, self.m, self.depth);
        let mut scratch = vec![T::ZERO; m * m.max(self.d)];
        let nm = View::plain(n, m);
        let (mut a, b) = (std::mem::take(&mut self.g), std::mem::take(&mut self.r[0]));
        let t0 = std::time::Instant::now();
        for l in 1..=depth {
            let fan_in = self.fan_in(l);
            let input = if l == 1 { &self.x } else { &b };
            gemm_into(
                (&mut a, nm),
                false,
                (input, View::plain(n, fan_in)),
                (&self.w[l - 1], View::t(m, fan_in)),
                T::ONE,
            );
            if self.two_layer && l >= 2 {
                gemm_into((&mut a, nm), true, (&b, nm), (&self.w[depth + l - 1], View::t(m, m)), T::ONE);
            }
        }
        let one = View::plain(1, m);
        gemm_into((&mut scratch[..m], one), true, (&self.cs, View::t(n, 1)), (&b, nm), T::ONE);
        for l in (1..=depth).rev() {
            let fan_in = self.fan_in(l);
            if self.two_layer && l >= 2 {
                gemm_into((&mut a, nm), false, (&b, nm), (&self.w[depth + l - 1], View::plain(m, m)), T::ONE);
                gemm_into((&mut scratch[..m * m], View::plain(m, m)), true, (&b, View::t(n, m)), (&a, nm), T::ONE);
            }
            if l > 1 {
                gemm_into((&mut a, nm), true, (&b, nm), (&self.w[l - 1], View::plain(m, fan_in)), T::ONE);
            }
            let input = if l == 1 { &self.x } else { &a };
            let dst = &mut scratch[..m * fan_in];
            gemm_into(
                (dst, View::plain(m, fan_in)),
                true,
                (&b, View::t(n, m)),
                (input, View::plain(n, fan_in)),
                T::ONE,
            );
        }
        let secs = t0.elapsed().as_secs_f64();
        self.g = a;
        self.r[0] = b;
        secs
    }

    /// `W_l := W_l - eta delta^T A_{l-1}` when `W_l` trains.
    fn update(&mut self, l: usize, delta: &[T], neg_eta: T) {
        if !self.trained[l - 1] {
            return;
        }
        let (n, m, fan_in) = (self.n, self.m, self.fan_in(l));
        let mut w = std::mem::take(&mut self.w[l - 1]);
        gemm_into(
            (&mut w, View::plain(m, fan_in)),
            true,
            (delta, View::t(n, m)),
            (self.input(l), View::plain(n, fan_in)),
            neg_eta,
        );
        self.w[l - 1] = w;
    }
}

/// The fused CPU step of a paper network, in the network's precision (see the module docs):
/// load the weights from a [`Net`], run [`FusedNet::forward`] and
/// [`FusedNet::backward_step`] per GD step, and write the weights back with
/// [`FusedNet::store`] whenever the network itself is read.
#[derive(Debug)]
pub enum FusedNet {
    /// f32 buffers.
    F32(FusedState<f32>),
    /// f64 buffers.
    F64(FusedState<f64>),
}

impl FusedNet {
    /// The step's buffers for `net` on the inputs `x` (`n x d`, row-major), with `net`'s
    /// weights.
    pub fn new(net: &Net, x: &[f64], n: usize) -> FusedNet {
        match net.precision {
            Precision::F32 => FusedNet::F32(FusedState::new(net, x, n)),
            Precision::F64 => FusedNet::F64(FusedState::new(net, x, n)),
        }
    }

    /// Copies `net`'s weights in (same configuration).
    pub fn load(&mut self, net: &Net) {
        let host = net.host_weights();
        match self {
            FusedNet::F32(s) => copy_in(&mut s.w, &host),
            FusedNet::F64(s) => copy_in(&mut s.w, &host),
        }
    }

    /// Writes the weights into `net` (same configuration).
    pub fn store(&self, net: &mut Net) {
        let host = self.host_weights();
        let ws = host
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let [r, c] = Net::layer_shape(&net.cfg, net.d, i + 1);
                net.upload(w, r, c)
            })
            .collect();
        net.set_tensors(ws);
    }

    /// The weights on the host, f64, in [`Net`]'s order.
    pub fn host_weights(&self) -> Vec<Vec<f64>> {
        match self {
            FusedNet::F32(s) => s.w.iter().map(|w| w.iter().map(|v| v.f64()).collect()).collect(),
            FusedNet::F64(s) => s.w.clone(),
        }
    }

    /// The forward pass at the current weights (kept for [`FusedNet::backward_step`]); returns
    /// `f(x_i)`.
    pub fn forward(&mut self) -> Vec<f64> {
        match self {
            FusedNet::F32(s) => s.forward(),
            FusedNet::F64(s) => s.forward(),
        }
    }

    /// One GD step `W := W - eta grad` of `sum_i c_i f(x_i)` from the last forward pass.
    pub fn backward_step(&mut self, c: &[f64], eta: f64) {
        match self {
            FusedNet::F32(s) => s.backward_step(c, eta),
            FusedNet::F64(s) => s.backward_step(c, eta),
        }
    }

    /// Seconds for the step's matrix products alone (the same products, shapes and layouts, in
    /// the same order, on stand-in values): the step's time minus this is what it spends
    /// outside the GEMMs, for `resgen bench --breakdown`.
    pub fn time_products(&mut self) -> f64 {
        match self {
            FusedNet::F32(s) => s.time_products(),
            FusedNet::F64(s) => s.time_products(),
        }
    }

    /// One GD step on the mean logistic loss with labels `y`: the forward pass, then the
    /// backward pass and update. Returns the outputs before the step.
    pub fn loss_step(&mut self, y: &[f64], eta: f64) -> Vec<f64> {
        let f = self.forward();
        self.backward_step(&crate::logistic_coefficients(&f, y), eta);
        f
    }
}

fn copy_in<T: Float>(w: &mut [Vec<T>], host: &[Vec<f64>]) {
    assert_eq!(w.len(), host.len(), "one host matrix per weight matrix");
    for (dst, src) in w.iter_mut().zip(host) {
        assert_eq!(dst.len(), src.len(), "host matrix of the network's shape");
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = T::of(s);
        }
    }
}
