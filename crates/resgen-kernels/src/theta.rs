//! The residual scaling `theta` as configs write it: `"1/L"`, `"c/L"`, `"1/sqrt(L)"`,
//! `"c/sqrt(L)"`, `"L^-g"` or a plain number, evaluated at a depth.

/// A theta text that does not parse, or whose value is not allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThetaError {
    /// A coefficient that is not a number (`x/L`).
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// An exponent that is not a number (`L^-x`).
    #[error("'{text}': the exponent '{exponent}' is not a number")]
    Exponent {
        /// The theta text.
        text: String,
        /// Its exponent.
        exponent: String,
    },
    /// None of the known forms.
    #[error("'{0}': expected \"1/L\", \"c/L\", \"1/sqrt(L)\", \"c/sqrt(L)\", \"L^-g\" or a number")]
    Form(String),
    /// Negative or not finite at the depth.
    #[error("'{text}' gives theta = {value}; it must be finite and >= 0")]
    Value {
        /// The theta text.
        text: String,
        /// Its value.
        value: f64,
    },
}

/// The value of `text` at depth `depth` (the number of hidden layers `L`).
pub fn value(text: &str, depth: usize) -> Result<f64, ThetaError> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let l = depth as f64;
    let num = |t: &str| -> Result<f64, ThetaError> {
        if t.is_empty() {
            return Ok(1.0);
        }
        t.parse::<f64>().map_err(|_| ThetaError::NotANumber(t.to_string()))
    };
    let v = if let Some(g) = s.strip_prefix("L^-") {
        l.powf(-g.parse::<f64>().map_err(|_| ThetaError::Exponent { text: text.to_string(), exponent: g.to_string() })?)
    } else if let Some(c) = s.strip_suffix("/sqrt(L)") {
        num(c)? / l.sqrt()
    } else if let Some(c) = s.strip_suffix("/L") {
        num(c)? / l
    } else {
        s.parse::<f64>().map_err(|_| ThetaError::Form(text.to_string()))?
    };
    if !(v.is_finite() && v >= 0.0) {
        return Err(ThetaError::Value { text: text.to_string(), value: v });
    }
    Ok(v)
}
