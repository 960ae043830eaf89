//! The cuda code path is type-checked by `just check-cuda` (a check build of Burn's CUDA stack,
//! about 5 minutes on 2 cores), not on every test run. These tests keep that check from going
//! stale: `ci/cuda-checked` records a fingerprint of what the check covered (the source of
//! crates/resgen-models/src/backend.rs, the only file with cuda-only code, and the locked Burn
//! and cubecl versions), written by `just check-cuda` after the check passes; the suite fails
//! when the fingerprint of the current tree differs, naming the recipe to run.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stamp_path() -> PathBuf {
    root().join("ci/cuda-checked")
}

/// 64-bit FNV-1a: simple, stable across platforms and Rust versions (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// What the cuda check depends on: backend.rs with line endings normalized, and the
/// `name version` lines of every locked burn and cubecl package.
fn fingerprint() -> String {
    let src = std::fs::read_to_string(root().join("crates/resgen-models/src/backend.rs")).unwrap();
    let src = src.replace("\r\n", "\n");
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let mut pinned = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take())
            && (n.starts_with("burn") || n.starts_with("cubecl"))
        {
            pinned.push(format!("{n} {}", v.trim_matches('"')));
        }
    }
    pinned.sort();
    let h = fnv1a(pinned.join("\n").as_bytes(), fnv1a(src.as_bytes(), FNV_OFFSET));
    format!("{h:016x}")
}

#[test]
fn fnv1a_matches_reference_values() {
    // Reference values of 64-bit FNV-1a (from the algorithm's published test vectors).
    assert_eq!(fnv1a(b"", FNV_OFFSET), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a", FNV_OFFSET), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar", FNV_OFFSET), 0x8594_4171_f739_67e8);
}

#[test]
fn the_cuda_path_was_checked_for_this_source_and_burn_version() {
    let want = fingerprint();
    let have = std::fs::read_to_string(stamp_path()).unwrap_or_default();
    assert_eq!(
        have.trim(),
        want,
        "crates/resgen-models/src/backend.rs or the locked Burn/cubecl versions changed since the cuda \
         code path was last type-checked: run `just check-cuda` (it updates ci/cuda-checked when the \
         check passes) and commit ci/cuda-checked"
    );
}

/// Run by `just check-cuda` after the cuda check passes: records the fingerprint it covered.
#[test]
#[ignore = "writes ci/cuda-checked; run by `just check-cuda` after the check passes"]
fn record_cuda_check() {
    std::fs::write(stamp_path(), format!("{}\n", fingerprint())).unwrap();
}
