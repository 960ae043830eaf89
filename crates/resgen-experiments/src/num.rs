//! How tables display numbers.

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
