//! Errors for bad data and bad data configs; each names the file, line, column or field.

use std::path::PathBuf;

/// Everything that can go wrong while building a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A row the CSV parser rejected (bad quoting, invalid UTF-8).
    #[error("{path}:{line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// The file holds no data rows.
    #[error("{path}: the file has no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row with a different number of fields than the first one.
    #[error("{path}:{line}: ragged row: {found} fields, but the first data row has {expected}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Fields in this row.
        found: usize,
        /// Fields in the first data row.
        expected: usize,
    },
    /// A feature that is not a number.
    #[error("{path}:{line}: column {column}: '{value}' is not a number")]
    NotNumeric {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The offending text.
        value: String,
    },
    /// A feature field that is empty or a missing-value marker (`NA`, `N/A`, `null`, `?`).
    #[error("{path}:{line}: column {column}: missing value '{value}' (fill it in or drop the row)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The marker found.
        value: String,
    },
    /// A feature that is NaN or infinite.
    #[error("{path}:{line}: column {column}: value '{value}' is not finite")]
    NotFinite {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The offending text.
        value: String,
    },
    /// A label the configuration does not assign to either class.
    #[error("{path}:{line}: label '{label}' is not one the config knows ({known})")]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label text.
        label: String,
        /// What the config accepts.
        known: String,
    },
    /// A data set whose labels are all one class.
    #[error("{what}: every label is {label}; a binary task needs both classes")]
    SingleClass {
        /// Which set.
        what: String,
        /// The only label present.
        label: String,
    },
    /// Fewer examples than the config asks for.
    #[error("{what}: {available} examples available, but n_train + n_test = {requested}")]
    TooFew {
        /// Which source.
        what: String,
        /// Examples available.
        available: usize,
        /// Examples requested.
        requested: usize,
    },
    /// An input that is all zeros cannot be put on the unit sphere.
    #[error("{what}: row {row} has zero (or non-finite) norm and cannot be scaled to ||x|| = 1")]
    ZeroRow {
        /// Which set.
        what: String,
        /// 0-based row within the set.
        row: usize,
    },
    /// A configuration value that is out of range.
    #[error("data.{field}: {message}")]
    Config {
        /// The field, as written in the TOML `[data]` table.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}
