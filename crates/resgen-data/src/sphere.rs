//! Synthetic data: `x` uniform on the unit sphere in `R^d`, labels from a teacher.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::{DataConfig, DataError, Dataset, Split, Stream, Teacher, rng, split_by_seed};

/// Draws `n_train + n_test` points and labels them; the split is by the seed as for files.
pub(crate) fn generate(cfg: &DataConfig) -> Result<Split, DataError> {
    let n = cfg.n_train + cfg.n_test;
    let d = cfg.d;
    let mut r = rng(cfg.seed, Stream::Inputs);
    let mut x: Vec<f64> =
        (0..n * d).map(|_| <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut r)).collect();
    for row in x.chunks_mut(d) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        row.iter_mut().for_each(|v| *v /= norm);
    }
    let scores = teacher_scores(cfg, &x, n, d);
    // Network teachers at initialization have a large common (mean) component: centring at
    // the median keeps the two classes balanced. The half-space passes through the origin.
    let threshold = match cfg.teacher {
        Teacher::Halfspace => 0.0,
        _ => median(&scores),
    };
    let y = scores.iter().map(|s| if *s > threshold { 1.0 } else { -1.0 }).collect();
    let set = Dataset { n, d, x, y };
    split_by_seed(&set, cfg.n_train, cfg.n_test, cfg.seed, "sphere")
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// Flips each label independently with probability `rate` (its own random stream).
pub(crate) fn flip_labels(set: &mut Dataset, rate: f64, seed: u64) {
    if rate <= 0.0 {
        return;
    }
    let mut r = rng(seed, Stream::Noise);
    for y in set.y.iter_mut() {
        if r.random::<f64>() < rate {
            *y = -*y;
        }
    }
}

fn gaussian(r: &mut impl Rng, len: usize, var: f64) -> Vec<f64> {
    let sd = var.sqrt();
    (0..len).map(|_| sd * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, r)).collect::<Vec<f64>>()
}

/// `out = relu(W v)` for `W` of shape `rows x v.len()`.
fn relu_matvec(w: &[f64], v: &[f64]) -> Vec<f64> {
    w.chunks(v.len()).map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum::<f64>().max(0.0)).collect()
}

/// Teacher scores `<w*, x>` or `f(x)` of a random network drawn with the models' own
/// initialization (N(0, 2/m) hidden, N(0, 1/m) output; ResNet with theta = 1/L).
fn teacher_scores(cfg: &DataConfig, x: &[f64], n: usize, d: usize) -> Vec<f64> {
    let mut r = rng(cfg.seed, Stream::Teacher);
    match cfg.teacher {
        Teacher::Halfspace => {
            let w = gaussian(&mut r, d, 1.0);
            x.chunks(d).map(|row| row.iter().zip(&w).map(|(a, b)| a * b).sum()).collect()
        }
        Teacher::Resnet | Teacher::Fc => {
            let (m, depth) = (cfg.teacher_width, cfg.teacher_depth);
            let first = gaussian(&mut r, m * d, 2.0 / m as f64);
            let hidden: Vec<Vec<f64>> = (1..depth).map(|_| gaussian(&mut r, m * m, 2.0 / m as f64)).collect();
            let out = gaussian(&mut r, m, 1.0 / m as f64);
            let theta = 1.0 / depth as f64;
            (0..n)
                .map(|i| {
                    let mut h = relu_matvec(&first, &x[i * d..(i + 1) * d]);
                    for w in &hidden {
                        let branch = relu_matvec(w, &h);
                        h = if cfg.teacher == Teacher::Resnet {
                            h.iter().zip(&branch).map(|(a, b)| a + theta * b).collect()
                        } else {
                            branch
                        };
                    }
                    (m as f64).sqrt() * h.iter().zip(&out).map(|(a, b)| a * b).sum::<f64>()
                })
                .collect()
        }
    }
}
