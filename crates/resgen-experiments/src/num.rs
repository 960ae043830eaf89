//! Numbers in tables: how they are displayed, and the mean and sd behind each row.

/// Numbers in tables: up to 6 significant digits.
pub fn fmt(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.6e}");
    let parsed: f64 = s.parse().unwrap_or(v);
    let mut t = format!("{parsed}");
    if t.len() > 12 {
        t = format!("{v:.5e}");
    }
    t
}

/// Mean and sample standard deviation (`None` where undefined).
pub fn mean_sd(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (Some(mean), None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some(var.sqrt()))
}
