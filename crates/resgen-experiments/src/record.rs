//! What a cell stores: records of key columns and values, and how numbers become keys.
//!
//! Kept apart from the measurements (`kinds`), the sweep and the tables so that the modules
//! form a chain (record, num, fit <- kinds <- sweep <- table <- report, plot) and a change to how
//! tables display numbers can never change a stored key.

use serde::{Deserialize, Serialize};

/// One row of a cell's result: key columns (e.g. `layer`) and values (`None` = not defined).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Key columns, in order.
    pub keys: Vec<(String, String)>,
    /// Value columns, in order.
    pub values: Vec<(String, Option<f64>)>,
}

impl Record {
    /// A record with these key columns and no values yet.
    pub fn new(keys: &[(&str, String)]) -> Record {
        Record { keys: keys.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), values: vec![] }
    }

    /// Adds a value; NaN and infinities are stored as undefined.
    pub fn with(mut self, name: &str, v: f64) -> Record {
        self.values.push((name.into(), if v.is_finite() { Some(v) } else { None }));
        self
    }

    /// [`Record::with`] for each `(name, value)`, in order.
    pub fn with_all<'a>(self, values: impl IntoIterator<Item = (&'a str, f64)>) -> Record {
        values.into_iter().fold(self, |r, (name, v)| r.with(name, v))
    }
}

/// One cell's record in a table: the row's key columns (grid coordinates, then the record's
/// keys), the cell's seed, and its values.
pub type RawRecord = (Vec<(String, String)>, u64, Vec<(String, Option<f64>)>);

/// A key column and its text.
pub fn key(name: &str, v: impl ToString) -> (&str, String) {
    (name, v.to_string())
}

/// A number as a key: 6 significant digits, shortest form (`1.414214`, `0.0625`, `9.76563e-4`).
/// Part of the stored result's schema: changing it changes keys, so it is not the tables'
/// display format (`num::fmt`), even where the two print alike today.
pub fn key_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.6e}");
    let parsed: f64 = s.parse().unwrap_or(v);
    let t = format!("{parsed}");
    if t.len() > 12 { format!("{v:.5e}") } else { t }
}
