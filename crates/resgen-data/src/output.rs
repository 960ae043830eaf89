//! Atomic file writes: a temporary file in the same folder, then a rename, so a killed run
//! never leaves a half-written file under its final name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// An I/O error on a named file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    /// The file or folder.
    pub path: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
}

/// Maps an I/O error to one that names the file.
pub fn io_err(path: &Path) -> impl Fn(std::io::Error) -> FileError + '_ {
    move |source| FileError { path: path.to_path_buf(), source }
}

/// A fresh temporary file `.<name>.<random>.tmp` in `path`'s folder, so a rename or link onto
/// `path` stays on one filesystem (atomic).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(&dir)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Lets `write` fill a fresh temporary file next to `path` (same folder, so the rename is
/// atomic), then renames it to `path`. On error the temporary file is removed and `path` is
/// left as it was.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = temp_beside(path)?;
    write(tmp.path())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `bytes` to `path` atomically if `path` does not exist yet; if it does (another
/// process got there first), leaves it untouched and returns `Ok(false)`. The temporary file is
/// linked to `path` without replacing (`link(2)` fails on an existing name), so of two racing
/// writers exactly one wins and no reader ever sees a partial file.
pub fn write_atomic_new(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.error),
    }
}

/// Renders rows as CSV text with a header.
pub fn csv_text(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in-memory write");
    for r in rows {
        w.write_record(r).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf8")
}

/// Formats a float for CSV with full round-trip precision.
pub fn num(v: f64) -> String {
    format!("{v}")
}
