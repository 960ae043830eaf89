//! `resgen`: the command line of the resgen workspace.
//!
//! `resgen train --config experiments/<file>.toml [--set key=value ...] [--device ...] [--out DIR]`
//! trains one network and writes a run folder (see the README).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resgen_models::BackendKind;
use resgen_train::{RunConfig, RunOptions, StopReason, train_run};

#[derive(Parser)]
#[command(name = "resgen", version, about = "Generalization of deep residual vs fully connected networks, in numbers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one network and write its run folder.
    Train {
        /// The run config (TOML); every field has a default.
        #[arg(long)]
        config: PathBuf,
        /// Override a config field, e.g. `--set model.width=1024` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Backend: flex, ndarray, wgpu or cuda (default: the first compiled CPU backend).
        #[arg(long)]
        device: Option<BackendKind>,
        /// Run folder (default: runs/<config name>-<config hash>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// The empirical NTK at initialization (per layer and total, f64) of a config's network on
    /// its training set, with a summary (trace, lambda_min, condition number, complexity) and
    /// the Rademacher terms.
    Ntk {
        /// The run config (TOML); only `[data]` and `[model]` matter.
        #[arg(long)]
        config: PathBuf,
        /// Override a config field (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Also the analytic infinite-width NTK (fully connected network only, for now).
        #[arg(long)]
        analytic: bool,
        /// Write the Gram matrices as NumPy .npy instead of CSV.
        #[arg(long)]
        npy: bool,
        /// A CPU backend (or cuda): kernels are computed in f64.
        #[arg(long)]
        device: Option<BackendKind>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Every term and bound value for a finished training run, into RUN/bounds.csv.
    Bounds {
        /// The run folder written by `resgen train` (with its final weights).
        #[arg(long)]
        run: PathBuf,
        /// A CPU backend (or cuda): bounds are computed in f64.
        #[arg(long)]
        device: Option<BackendKind>,
    },
    /// List the backends compiled into this build.
    Devices,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { config, set, device, out, quiet } => {
            let cfg = RunConfig::load(&config, &set)?;
            let name = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
            let backend = device.unwrap_or_else(BackendKind::default_compiled);
            let opts = RunOptions { backend, out, quiet, name };
            let outcome = train_run(&cfg, &opts).map_err(anyhow::Error::msg)?;
            let last = outcome.rows.last().expect("at least the first iteration is logged");
            let why = match outcome.stop {
                StopReason::TargetLoss => "target loss reached",
                StopReason::DataExhausted => "every example used once",
                _ => "iteration budget used",
            };
            println!(
                "{}: {} iterations in {:.1}s ({why}) on {backend}; train loss {:.4}, train error {:.4}, test error {:.4}, sqrt(m)*||W-W0|| {:.3}",
                outcome.dir.display(),
                last.iter,
                outcome.train_seconds,
                last.train_loss,
                last.train_error,
                last.test_error,
                last.dist_total() * (cfg.model.width as f64).sqrt(),
            );
            Ok(())
        }
        Command::Ntk { config, set, analytic, npy, device, out } => {
            let cfg = RunConfig::load(&config, &set)?;
            let backend = device.unwrap_or_else(BackendKind::default_compiled);
            resgen_bounds::report::ntk_report(&cfg, backend, analytic, npy, &out).map_err(anyhow::Error::msg)?;
            println!("{}: summary.csv, rademacher.csv and the Gram matrices written", out.display());
            Ok(())
        }
        Command::Bounds { run, device } => {
            let backend = device.unwrap_or_else(BackendKind::default_compiled);
            let values = resgen_bounds::report::bounds_report(&run, backend).map_err(anyhow::Error::msg)?;
            for (k, v) in values {
                println!("{k:28} {v:.6}");
            }
            println!("written to {}", run.join("bounds.csv").display());
            Ok(())
        }
        Command::Devices => {
            for b in BackendKind::ALL {
                let state = if b.is_compiled() { "compiled in" } else { "not compiled (enable the Cargo feature)" };
                println!("{:8} {state}", b.name());
            }
            Ok(())
        }
    }
}
