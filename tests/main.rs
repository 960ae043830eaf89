//! The cross-crate test suite as one test binary: each module below was once its own binary,
//! and each linked all of Burn; one binary compiles the shared backend code and links once.
//! Test names carry their module (`models::...`), which is how `.ci/run` picks the tests whose
//! behaviour depends on the compiled backends for its `--features wgpu` pass.

mod bounds;
mod cuda_check;
mod data;
mod experiments;
mod fused;
mod general;
mod hygiene;
mod models;
mod train;
