//! Build-time code identity of the cells' results.
//!
//! `RESGEN_SOURCE_HASH` is an FNV-1a hash of every file that can change a measurement: the
//! sources and manifests of the workspace's crates, `Cargo.lock` and the bundled data. The sweep
//! reuses a finished cell only when the hash it was computed with equals this build's (and the
//! backend is the same), so a numerical change can never hide behind a stale cell; README,
//! docs and result files are outside the hash, so committing them reuses every cell.
//! `RESGEN_GIT_COMMIT` (with `+dirty` when tracked sources differ from it) is recorded beside
//! it for provenance only.

use std::path::{Path, PathBuf};
use std::process::Command;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") || p.file_name().is_some_and(|n| n == "Cargo.toml") {
            out.push(p);
        }
    }
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").current_dir(root).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let crates = root.join("crates");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).into_iter().flatten().flatten() {
        let k = krate.path();
        collect(&k.join("src"), &mut files);
        files.push(k.join("Cargo.toml"));
    }
    files.push(root.join("Cargo.toml"));
    files.push(root.join("Cargo.lock"));
    files.push(root.join("data/mnist_5k.csv.gz"));
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f);
        feed(rel.to_string_lossy().as_bytes());
        feed(&std::fs::read(f).unwrap_or_default());
        feed(&[0]);
    }
    println!("cargo:rustc-env=RESGEN_SOURCE_HASH={h:016x}");
    println!("cargo:rerun-if-changed={}", crates.display());
    for f in ["Cargo.toml", "Cargo.lock", "data/mnist_5k.csv.gz"] {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let commit = match git(&root, &["rev-parse", "--short=12", "HEAD"]) {
        Some(c) => {
            let dirty = git(
                &root,
                &["status", "--porcelain", "--untracked-files=no", "--", "crates", "Cargo.lock", "Cargo.toml"],
            )
            .is_some_and(|s| !s.is_empty());
            if dirty { format!("{c}+dirty") } else { c }
        }
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=RESGEN_GIT_COMMIT={commit}");
    // A new commit (or checkout) changes the recorded commit.
    for f in [".git/HEAD", ".git/logs/HEAD"] {
        let p = root.join(f);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
}
