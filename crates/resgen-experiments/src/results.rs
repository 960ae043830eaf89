//! The result tables read back for verdicts, typed at load: a table names the numeric columns
//! it must have, and loading checks that each exists and that every row's value in it is a
//! number or empty (a value not measured, e.g. a width search that never reached its target).
//! A missing column or a value that is not a number is an error naming the table, the column
//! and the line, never a NaN. Queries by a key column or a column not named at load check
//! the same at the time they read it.

use crate::ExperimentError;
use std::path::{Path, PathBuf};

use crate::table::{SEED, read_table};

/// A table loaded for queries.
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// A cell's text as a number: empty is "not measured" (NaN); anything else must parse.
fn number(path: &Path, column: &str, line: usize, v: &str) -> Result<f64, ExperimentError> {
    if v.is_empty() {
        return Ok(f64::NAN);
    }
    v.parse()
        .map_err(|_| ExperimentError::table(path, format!("line {line}, column `{column}`: `{v}` is not a number")))
}

impl Table {
    /// `results/<name>.csv`, with the `numbers` columns checked.
    pub fn load(results: &Path, name: &str, numbers: &[&str]) -> Result<Table, ExperimentError> {
        let path = results.join(format!("{name}.csv"));
        let (header, rows) = read_table(&path)?;
        let t = Table { path, header, rows };
        for c in numbers {
            let i = t.col(c)?;
            for (k, row) in t.rows.iter().enumerate() {
                number(&t.path, c, k + 2, &row[i])?;
            }
        }
        Ok(t)
    }

    /// An experiment's main table, `results/<name>.csv`, with the `<value>_mean` column of each
    /// of the kind's `values` checked.
    pub fn main(results: &Path, name: &str, values: &[String]) -> Result<Table, ExperimentError> {
        let means: Vec<String> = values.iter().map(|v| format!("{v}_mean")).collect();
        Table::load(results, name, &means.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// An error about this table.
    pub fn err(&self, message: String) -> ExperimentError {
        ExperimentError::table(&self.path, message)
    }

    /// The index of column `c`.
    pub fn col(&self, c: &str) -> Result<usize, ExperimentError> {
        self.header.iter().position(|h| h == c).ok_or_else(|| self.err(format!("no column `{c}`")))
    }

    /// The rows, as written.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Column `c` of `row` (an index into [`Table::rows`]) as a number (NaN where empty).
    pub fn number_at(&self, row: usize, c: &str) -> Result<f64, ExperimentError> {
        number(&self.path, c, row + 2, &self.rows[row][self.col(c)?])
    }

    /// The `<v>_mean` of the row matching `keys` (NaN where empty).
    pub fn get(&self, keys: &[(&str, &str)], v: &str) -> Result<f64, ExperimentError> {
        self.get_col(keys, &format!("{v}_mean"))
    }

    /// The indices of the rows whose columns have the values `keys` name.
    fn matching(&self, keys: &[(&str, &str)]) -> Result<Vec<usize>, ExperimentError> {
        let cols: Vec<(usize, &str)> =
            keys.iter().map(|(k, val)| Ok((self.col(k)?, *val))).collect::<Result<_, ExperimentError>>()?;
        Ok((0..self.rows.len()).filter(|&r| cols.iter().all(|(i, val)| self.rows[r][*i] == *val)).collect())
    }

    /// The index of the one row matching `keys`.
    fn one_row(&self, keys: &[(&str, &str)]) -> Result<usize, ExperimentError> {
        match self.matching(keys)?[..] {
            [row] => Ok(row),
            [] => Err(self.err(format!("no row {keys:?}"))),
            // A claim must name every grid column it reads, or it reads an arbitrary row.
            _ => Err(self.err(format!("more than one row {keys:?}"))),
        }
    }

    /// Column `c` of the row matching `keys` (NaN where empty).
    pub fn get_col(&self, keys: &[(&str, &str)], c: &str) -> Result<f64, ExperimentError> {
        self.number_at(self.one_row(keys)?, c)
    }

    /// Column `c` of the row matching `keys`, as written.
    pub fn text(&self, keys: &[(&str, &str)], c: &str) -> Result<String, ExperimentError> {
        Ok(self.rows[self.one_row(keys)?][self.col(c)?].clone())
    }

    /// The distinct values of a column, in table order.
    pub fn values(&self, c: &str) -> Result<Vec<String>, ExperimentError> {
        let i = self.col(c)?;
        let mut out: Vec<String> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r[i]) {
                out.push(r[i].clone());
            }
        }
        Ok(out)
    }

    /// The numeric values of a column, as written in the table, sorted by value.
    pub fn sorted_nums(&self, c: &str) -> Result<Vec<String>, ExperimentError> {
        let mut vals: Vec<(f64, String)> =
            self.values(c)?.into_iter().filter_map(|v| v.parse::<f64>().ok().map(|x| (x, v))).collect();
        if vals.is_empty() {
            return Err(self.err(format!("no numeric `{c}`")));
        }
        vals.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(vals.into_iter().map(|(_, v)| v).collect())
    }

    /// The largest numeric value of a column.
    pub fn max_num(&self, c: &str) -> Result<String, ExperimentError> {
        Ok(self.sorted_nums(c)?.pop().expect("non-empty"))
    }

    /// The smallest numeric value of a column.
    pub fn min_num(&self, c: &str) -> Result<String, ExperimentError> {
        Ok(self.sorted_nums(c)?.swap_remove(0))
    }
}

/// A table's per-seed values (`results/<name>.cells.csv`), for the intervals over seeds.
pub struct Cells {
    table: Table,
}

impl Cells {
    /// `results/<name>.cells.csv`, with its seed column and the kind's `values` checked.
    pub fn load(results: &Path, name: &str, values: &[String]) -> Result<Cells, ExperimentError> {
        let mut numbers: Vec<&str> = values.iter().map(String::as_str).collect();
        numbers.push(SEED);
        Ok(Cells { table: Table::load(results, &format!("{name}.cells"), &numbers)? })
    }

    /// An error about this table.
    pub fn err(&self, message: String) -> ExperimentError {
        self.table.err(message)
    }

    /// How many distinct seeds the cells have.
    pub fn distinct_seeds(&self) -> Result<usize, ExperimentError> {
        let sc = self.table.col(SEED)?;
        let mut seeds: Vec<&str> = self.table.rows.iter().map(|r| r[sc].as_str()).collect();
        seeds.sort_unstable();
        seeds.dedup();
        Ok(seeds.len())
    }

    /// `(seed, value)` of every cell matching `keys`, in seed order (NaN where empty); an error
    /// when no cell matches.
    pub fn seeds(&self, keys: &[(&str, &str)], v: &str) -> Result<Vec<(u64, f64)>, ExperimentError> {
        let t = &self.table;
        let sc = t.col(SEED)?;
        let mut out = Vec::new();
        for r in t.matching(keys)? {
            let s = &t.rows[r][sc];
            let seed = s.parse().map_err(|_| t.err(format!("line {}, column `{SEED}`: `{s}` is not a seed", r + 2)))?;
            out.push((seed, t.number_at(r, v)?));
        }
        if out.is_empty() {
            return Err(t.err(format!("no cell {keys:?}")));
        }
        out.sort_by_key(|(seed, _)| *seed);
        Ok(out)
    }
}
