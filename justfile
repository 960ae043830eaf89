# resgen recipes. Each calls cargo / the resgen CLI; nothing here holds logic the CLI lacks.
# Install just with `cargo install just` (or your package manager).

# Train the README's first run: the ResNet on bundled MNIST 3 vs 5, on the CPU.
train config="experiments/mnist-3v5.toml" *args="":
    cargo run --release -p resgen -- train --config {{config}} {{args}}

# The test suite (the README's test command).
test:
    cargo test --release --workspace

# The GD-step benchmark on the default CPU backend (pass e.g. `--device ndarray`).
bench *args="":
    cargo run --release -p resgen --bin resgen-bench -- {{args}}

# The benchmark on a GPU with CUDA, including the large shape.
bench-cuda:
    cargo run --release -p resgen --features cuda --bin resgen-bench -- --device cuda --large

# Lints as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
