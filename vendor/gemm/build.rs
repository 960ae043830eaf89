//! resgen patch: with the `blas` feature, link the MKL archive that `scripts/fetch-mkl.sh`
//! prepared (`libresgen_mkl.a` in `$RESGEN_MKL_LIB`: MKL's LP64 interface, sequential threading
//! and core layers merged into one archive, so that their circular references resolve in a
//! single pass of the linker). Without the feature this script does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RESGEN_MKL_LIB");
    if std::env::var_os("CARGO_FEATURE_BLAS").is_none() {
        return;
    }
    let Some(dir) = std::env::var_os("RESGEN_MKL_LIB") else {
        panic!(
            "the `blas` feature links MKL from $RESGEN_MKL_LIB, which is not set: run \
             `scripts/fetch-mkl.sh` (or `just fetch-mkl`) and export the variable it prints"
        );
    };
    let dir = std::path::PathBuf::from(dir);
    let lib = dir.join("libresgen_mkl.a");
    if !lib.exists() {
        panic!("RESGEN_MKL_LIB={}: no libresgen_mkl.a there; run scripts/fetch-mkl.sh", dir.display());
    }
    println!("cargo:rerun-if-changed={}", lib.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=resgen_mkl");
    for sys in ["pthread", "m", "dl"] {
        println!("cargo:rustc-link-lib=dylib={sys}");
    }
}
