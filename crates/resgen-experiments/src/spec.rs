//! An experiment file, `experiments/<name>.toml`, and the cells of its sweep.
//!
//! ```toml
//! kind = "forward-scale"             # which measurement (see [`Kind`], crate::kinds)
//! claim = "forward pass stays O(1) with theta = 1/L"
//! seeds = [0, 1, 2]                  # every cell runs once per seed (model.seed = data.seed = seed)
//!
//! [base]                             # run-config fields, as in a `resgen train` config
//! model.width = 256
//!
//! [datasets.sphere]                  # named data tables, picked by the grid key "dataset"
//! source = "sphere"
//!
//! [params]                           # the kind's own parameters (e.g. min-width's target loss)
//!
//! [profiles.quick]                   # `--profile quick` (CPU, minutes)
//! set = { "data.n_train" = 100 }     # fields fixed in this profile
//! grid = { "model.depth" = [2, 4, 8], "model.arch" = ["resnet", "fc"], dataset = ["sphere"] }
//!
//! [plot]                             # how `resgen plot` draws results/<name>.csv
//! x = "depth"
//! y = ["h_norm"]
//!
//! [verdict]                          # every number the claim's rule reads, with its reason
//! h_norm_max = { value = 3.0, why = "O(1): within 3x of ||x|| = 1 at every depth" }
//! ```
//!
//! A cell is one point of the grid and one seed. What determines its result (the resolved run
//! config, the kind and its parameters) is hashed into its folder name, `runs/<kind>/<hash>`,
//! so a rerun finds finished cells, and two experiments that need the same cell share it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use resgen_train::{RunConfig, apply_override, fnv_hex};
use serde::{Deserialize, Serialize};

use crate::ExperimentError;
pub use crate::kinds::Kind;

/// One profile: fields fixed for it and the grid it sweeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Run-config fields set in this profile (`"model.width" = 2048`).
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// The grid: each key takes each of its values. `dataset` picks a `[datasets.*]` table.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Seeds for this profile (default: the file's `seeds`).
    pub seeds: Option<Vec<u64>>,
    /// Kind parameters overriding the file's `[params]`.
    #[serde(default)]
    pub params: toml::Table,
    /// Another profile whose `set`, `grid` and `params` this one starts from (its own entries
    /// added on top; its `seeds`, if given, replace the other's).
    pub from: Option<String>,
}

/// How `resgen plot` draws the table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotSpec {
    /// Column on the x axis (numeric).
    pub x: String,
    /// Values on the y axis: the table's `<y>_mean` columns (with `<y>_sd` as error bars);
    /// with several, each series gets one line per value.
    pub y: Vec<String>,
    /// Columns whose values name a line (default: arch).
    #[serde(default = "default_series")]
    pub series: Vec<String>,
    /// Columns that split the figure into panels, one per value (stacked).
    #[serde(default)]
    pub panels: Vec<String>,
    /// Keep only rows with these column values (`where = { layer = "output" }`).
    #[serde(default, rename = "where")]
    pub filter: BTreeMap<String, String>,
    /// Log scale on x.
    #[serde(default)]
    pub log_x: bool,
    /// Log scale on y.
    #[serde(default)]
    pub log_y: bool,
    /// Axis titles (default: the column names).
    pub x_label: Option<String>,
    /// Axis titles (default: the column names).
    pub y_label: Option<String>,
    /// A further figure's table: the suffix of one of the kind's derived tables
    /// (`results/<name>-<table>.csv`) instead of the main table.
    pub table: Option<String>,
    /// The figure's title (the question it answers); the claim by default.
    pub title: Option<String>,
    /// Series whose rows have these column values are drawn dashed (`dashed = { branch =
    /// "two-layer" }`), the others solid.
    #[serde(default)]
    pub dashed: BTreeMap<String, String>,
    /// A reference line of this slope on log-log axes (e.g. -0.5 for `m^-1/2`), drawn dashed in
    /// grey through the first point of each panel's first series.
    pub reference_slope: Option<f64>,
}

fn default_series() -> Vec<String> {
    vec!["arch".into()]
}

/// An experiment file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The file's stem; the table is `results/<name>.csv`.
    #[serde(skip)]
    pub name: String,
    /// Where it was read from (for errors).
    #[serde(skip)]
    pub path: PathBuf,
    /// The measurement.
    pub kind: Kind,
    /// The claim it tests, in words (copied into the README of results).
    #[serde(default)]
    pub claim: String,
    /// Seeds (at least 3 for the committed tables).
    pub seeds: Vec<u64>,
    /// Run-config fields shared by every cell.
    #[serde(default)]
    pub base: toml::Table,
    /// Named data tables for the grid key `dataset`.
    #[serde(default)]
    pub datasets: BTreeMap<String, toml::Table>,
    /// The kind's parameters.
    #[serde(default)]
    pub params: toml::Table,
    /// `quick`, `paper`, ...
    pub profiles: BTreeMap<String, Profile>,
    /// The figure.
    pub plot: PlotSpec,
    /// Further figures, `[figures.<figure>]`, each drawn as `results/<name>-<figure>.svg`.
    #[serde(default)]
    pub figures: BTreeMap<String, PlotSpec>,
    /// The numbers the claim's rule reads (`claim` in `kinds/<kind>.rs`), each with its reason.
    #[serde(default)]
    pub verdict: BTreeMap<String, RuleNumber>,
}

/// One number of a claim's rule, `name = { value = 0.25, why = "..." }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleNumber {
    /// The value the rule compares against.
    pub value: f64,
    /// Why it is this value, in one line.
    pub why: String,
}

/// The profile whose tables decide the summary's verdicts, written to `results/` itself; every
/// other profile's tables go to `results/<profile>/`.
pub const VERDICT_PROFILE: &str = "confirm";

/// A claim's rule as its experiment file fixes it: the `[verdict]` table, read by the claim's
/// code through [`Rule::num`], and hashed into each table's meta.json when its cells are merged
/// ([`Rule::hash`]), so that `resgen report` can refuse a row whose rule changed after its data.
#[derive(Clone, Debug, Default)]
pub struct Rule {
    /// The experiment's name.
    pub experiment: String,
    /// Its file (for errors).
    pub path: PathBuf,
    /// The numbers.
    pub numbers: BTreeMap<String, RuleNumber>,
}

impl Rule {
    /// The value of `name`; an error naming the file when the table lacks it.
    pub fn num(&self, name: &str) -> Result<f64, ExperimentError> {
        self.numbers.get(name).map(|n| n.value).ok_or_else(|| ExperimentError::Key {
            path: self.path.clone(),
            key: format!("verdict.{name}"),
            message: format!("the rule of {} reads this number; add it with its reason", self.experiment),
        })
    }

    /// 16 hex digits: FNV-1a of the names and values (not the reasons: rewording a reason does
    /// not change the rule).
    pub fn hash(&self) -> String {
        let text: String = self.numbers.iter().map(|(k, n)| format!("{k} = {:?}\n", n.value)).collect();
        fnv_hex(&format!("resgen-rule v1\n{text}"))
    }
}

/// One point of a sweep.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Position in the sweep (grid order, then seed).
    pub index: usize,
    /// The grid assignment as table columns (short name, value), seed excluded.
    pub coords: Vec<(String, String)>,
    /// The seed.
    pub seed: u64,
    /// The resolved run config.
    pub config: RunConfig,
    /// The kind's parameters (file `[params]` then profile `params`).
    pub params: toml::Table,
    /// The measurement.
    pub kind: Kind,
    /// 16 hex digits: FNV-1a of everything that determines the result.
    pub hash: String,
}

impl Cell {
    /// The cell's folder under a runs root: `<root>/<kind>/<hash>`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(self.kind.name()).join(&self.hash)
    }

    /// A short human label, e.g. `arch=fc depth=8 seed=1`.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = self.coords.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("seed={}", self.seed));
        parts.join(" ")
    }
}

/// Version of the cell hash: bump when a measurement's output changes meaning.
/// v2: the NTRF measurements gained the solver's duality gap (and changed stopping rule).
/// v3: training steps use the written-out backward pass (last-bit differences from autodiff).
const CELL_SCHEMA: &str = "resgen-cell v3";

/// A TOML value as it appears in a table column: strings bare, other values as TOML.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The grid columns that verdicts and figures read, named as [`column_name`] names them (the
/// run config's key without its section), and the values of `arch`.
pub mod grid {
    /// `model.arch`.
    pub const ARCH: &str = "arch";
    /// `model.depth`.
    pub const DEPTH: &str = "depth";
    /// `model.width`.
    pub const WIDTH: &str = "width";
    /// `model.theta`.
    pub const THETA: &str = "theta";
    /// `model.branch`.
    pub const BRANCH: &str = "branch";
    /// The `dataset` key (a named data set).
    pub const DATASET: &str = "dataset";
    /// `data.n_train`.
    pub const N_TRAIN: &str = "n_train";
    /// `data.label_noise`.
    pub const LABEL_NOISE: &str = "label_noise";
    /// `arch` of the residual network.
    pub const RESNET: &str = "resnet";
    /// `arch` of the fully connected network.
    pub const FC: &str = "fc";
    /// `arch` of the ResNet with a learned residual scale per block (beyond the paper).
    pub const LEARNED_SCALE: &str = "resnet-learned-scale";
}

/// The column name of a grid key: its last segment (`model.depth` -> `depth`).
pub fn column_name(key: &str) -> String {
    key.rsplit('.').next().unwrap_or(key).to_string()
}

impl Experiment {
    /// Reads `experiments/<name>.toml` (or any path); errors name the file and the key. Every
    /// profile's cells are resolved here ([`Experiment::cells`]), so a parameter or config value
    /// out of range is an error before any cell of any profile runs.
    pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
        let file = |message: String| ExperimentError::File { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| file(e.to_string()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file(e.to_string()))?;
        let mut exp: Experiment = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            ExperimentError::Key { path: path.to_path_buf(), key: e.path().to_string(), message: e.inner().to_string() }
        })?;
        exp.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        exp.path = path.to_path_buf();
        if exp.seeds.is_empty() {
            return Err(ExperimentError::Key {
                path: path.to_path_buf(),
                key: "seeds".into(),
                message: "give at least one seed".into(),
            });
        }
        for (name, n) in &exp.verdict {
            if !n.value.is_finite() || n.why.trim().is_empty() || n.why.contains('\n') {
                return Err(ExperimentError::Key {
                    path: path.to_path_buf(),
                    key: format!("verdict.{name}"),
                    message: "a rule's number needs a finite value and a one-line reason (why = \"...\")".into(),
                });
            }
        }
        for profile in exp.profiles.keys() {
            exp.cells(profile)?;
        }
        Ok(exp)
    }

    /// Finds an experiment by name in `dir` (`experiments/`), or reads a path.
    pub fn find(name_or_path: &str, dir: &Path) -> Result<Experiment, ExperimentError> {
        let p = Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") {
            return Self::load(p);
        }
        let path = dir.join(format!("{name_or_path}.toml"));
        if !path.exists() {
            let mut known = list(dir).unwrap_or_default();
            known.sort();
            return Err(ExperimentError::NotFound { name: name_or_path.to_string(), path, known });
        }
        Self::load(&path)
    }

    /// The profile, resolved through its `from` (its own entries on top of the other's), or an
    /// error listing the ones the file has.
    pub fn profile(&self, name: &str) -> Result<Profile, ExperimentError> {
        let get = |n: &str| {
            self.profiles.get(n).ok_or_else(|| ExperimentError::NoProfile {
                path: self.path.clone(),
                name: n.to_string(),
                known: self.profiles.keys().cloned().collect(),
            })
        };
        let own = get(name)?;
        let Some(base) = &own.from else { return Ok(own.clone()) };
        let mut p = get(base)?.clone();
        if p.from.is_some() {
            return Err(ExperimentError::Profile {
                origin: format!("{} [profiles.{name}]", self.path.display()),
                message: format!("from = \"{base}\": that profile has a `from` of its own; name a profile without one"),
            });
        }
        p.set.extend(own.set.clone());
        p.grid.extend(own.grid.clone());
        p.params.extend(own.params.clone());
        if own.seeds.is_some() {
            p.seeds = own.seeds.clone();
        }
        p.from = None;
        Ok(p)
    }

    /// The claim's rule as this file fixes it (its `[verdict]` table).
    pub fn rule(&self) -> Rule {
        Rule { experiment: self.name.clone(), path: self.path.clone(), numbers: self.verdict.clone() }
    }

    /// The seeds of a profile.
    pub fn seeds(&self, profile: &str) -> Result<Vec<u64>, ExperimentError> {
        Ok(self.profile(profile)?.seeds.unwrap_or_else(|| self.seeds.clone()))
    }

    /// Every cell of a profile's sweep, in a fixed order: the grid (keys in file order of the
    /// sorted map, last key fastest), then seeds. Invalid configs are errors naming the cell;
    /// invalid kind parameters ([`Kind::check_params`]) are errors naming the file (and the
    /// profile, where its parameters make them invalid) and the key.
    pub fn cells(&self, profile: &str) -> Result<Vec<Cell>, ExperimentError> {
        let prof = self.profile(profile)?;
        let origin = format!("{} [profiles.{profile}]", self.path.display());
        let mut params = self.params.clone();
        for (k, v) in &prof.params {
            params.insert(k.clone(), v.clone());
        }
        if let Err(e) = self.kind.check_params(&params) {
            // The profile is named where its own parameters make the difference.
            return Err(match self.kind.check_params(&self.params) {
                Err(own) => ExperimentError::File { path: self.path.clone(), message: own.to_string() },
                Ok(()) => ExperimentError::Profile { origin, message: e.to_string() },
            });
        }
        let seeds = prof.seeds.clone().unwrap_or_else(|| self.seeds.clone());
        let mut cells = Vec::new();
        for point in grid_points(&prof, &origin)? {
            for &seed in &seeds {
                let coords: Vec<(String, String)> =
                    point.iter().map(|(k, v)| (column_name(k), value_text(v))).collect();
                let config = self.cell_config(&prof, &point, seed, &origin).map_err(|e| ExperimentError::Cell {
                    cell: coords.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "),
                    error: Box::new(e),
                })?;
                let hash = fnv_hex(&format!(
                    "{CELL_SCHEMA}\nkind = {}\n[params]\n{}\n{}",
                    self.kind.name(),
                    toml::to_string(&params).unwrap_or_default(),
                    config.to_toml()
                ));
                cells.push(Cell {
                    index: cells.len(),
                    coords,
                    seed,
                    config,
                    params: params.clone(),
                    kind: self.kind,
                    hash,
                });
            }
        }
        Ok(cells)
    }

    /// The run config of one cell: the base, the profile's `set`, the grid point (a `dataset`
    /// value expands to its `[datasets.<name>]` table) and the seed. The FC network has no
    /// branches: its theta, residual variance and branch do not change its result, so they are
    /// reset, and its cells are shared across them (same hash).
    fn cell_config(
        &self,
        prof: &Profile,
        point: &[(String, toml::Value)],
        seed: u64,
        origin: &str,
    ) -> Result<RunConfig, ExperimentError> {
        let in_profile = |message: String| ExperimentError::Profile { origin: origin.to_string(), message };
        let mut table = self.base.clone();
        let mut set = |key: &str, v: &toml::Value| -> Result<(), ExperimentError> {
            apply_override(&mut table, &format!("{key}={}", toml_literal(v))).map_err(|e| in_profile(e.to_string()))
        };
        for (k, v) in &prof.set {
            set(k, v)?;
        }
        for (k, v) in point {
            if k == "dataset" {
                let name = value_text(v);
                let data = self.datasets.get(&name).ok_or_else(|| {
                    in_profile(format!("grid value dataset = \"{name}\" has no [datasets.{name}] table"))
                })?;
                for (dk, dv) in data {
                    set(&format!("data.{dk}"), dv)?;
                }
            } else {
                set(k, v)?;
            }
        }
        set("model.seed", &toml::Value::Integer(seed as i64))?;
        set("data.seed", &toml::Value::Integer(seed as i64))?;
        let text = toml::to_string(&table).map_err(|e| in_profile(e.to_string()))?;
        let mut config =
            RunConfig::from_toml_str(&text, origin, &[]).map_err(|e| ExperimentError::Config(Box::new(e)))?;
        if !config.model.arch.is_residual() {
            config.model.theta = Default::default();
            config.model.residual_variance = Default::default();
            config.model.branch = Default::default();
        }
        Ok(config)
    }
}

/// A value as a TOML literal for [`apply_override`].
fn toml_literal(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => toml::Value::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}

/// The experiment names (file stems) in a folder: the TOML files with a top-level `kind`
/// (plain run configs live beside them). An experiment file that does not load is an error
/// naming it, so a typo never silently drops an experiment from `all`.
pub fn list(dir: &Path) -> Result<Vec<String>, ExperimentError> {
    let file = |path: &Path, message: String| ExperimentError::File { path: path.to_path_buf(), message };
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| file(dir, e.to_string()))? {
        let p = e.map_err(ExperimentError::Io)?.path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).map_err(|e| file(&p, e.to_string()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file(&p, e.to_string()))?;
        if table.contains_key("kind") {
            Experiment::load(&p)?;
            out.push(p.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The cells of shard `k` of `n` (1-based): every `n`-th cell from the `k`-th, so the shards
/// of a sweep are disjoint and cover it.
pub fn shard(cells: Vec<Cell>, k: usize, n: usize) -> Vec<Cell> {
    cells.into_iter().filter(|c| c.index % n == k - 1).collect()
}

/// Parses `k/N` (1 <= k <= N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), ExperimentError> {
    let bad = || ExperimentError::Shard(s.to_string());
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// A profile's grid points: the cartesian product of its grid's values, in key order.
fn grid_points(prof: &Profile, origin: &str) -> Result<Vec<Vec<(String, toml::Value)>>, ExperimentError> {
    let mut points: Vec<Vec<(String, toml::Value)>> = vec![vec![]];
    for (k, vals) in &prof.grid {
        if vals.is_empty() {
            return Err(ExperimentError::Profile {
                origin: origin.to_string(),
                message: format!("grid key `{k}` has no values"),
            });
        }
        points = points
            .into_iter()
            .flat_map(|p| {
                vals.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((k.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    Ok(points)
}
