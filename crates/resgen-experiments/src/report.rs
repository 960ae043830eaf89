//! `resgen report`: the headline table, generated from the committed tables, never typed.
//!
//! One row per claim: what the theory predicts, the fair comparison's measured numbers (read
//! from `results/<name>.csv`), and a [`Verdict`](crate::verdict::Verdict) computed by a stated
//! rule. Each claim's rule lives with its experiment (`claim` in `kinds/<kind>.rs`, listed in
//! [`crate::kinds::CLAIMS`]); this module only assembles the rows into `results/summary.md`
//! and a LaTeX booktabs table, `results/summary.tex`. A test checks that the committed summary
//! is exactly what the committed tables produce.

use crate::ExperimentError;
use crate::spec::{Experiment, VERDICT_PROFILE};
use crate::verdict::{Outcome, Verdict};
use std::path::Path;

pub use crate::verdict::Claim;

/// What a table's meta.json says about the run that made it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RunRecord {
    /// The profile.
    #[serde(default)]
    pub profile: String,
    /// The seeds (absent in tables merged before seeds were recorded).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// The hash of the rule the table was merged under (absent before rules were recorded).
    #[serde(default)]
    pub rule_hash: Option<String>,
    /// When its last cell finished.
    #[serde(default)]
    pub last_cell_finished: Option<String>,
}

impl RunRecord {
    /// `<results>/<name>.meta.json`, or `None` where the table is missing.
    pub fn load(results: &Path, name: &str) -> Result<Option<RunRecord>, ExperimentError> {
        let p = results.join(format!("{name}.meta.json"));
        if !p.exists() || !results.join(format!("{name}.csv")).exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).map_err(resgen_data::output::io_err(&p))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExperimentError::File { path: p.clone(), message: e.to_string() })
    }

    /// `confirm, seeds 1000-1009 (10), 2026-12-07`.
    pub fn text(&self) -> String {
        let seeds = match (self.seeds.first(), self.seeds.last()) {
            (Some(a), Some(b)) if self.seeds.windows(2).all(|w| w[1] == w[0] + 1) => {
                format!("seeds {a}-{b} ({})", self.seeds.len())
            }
            (Some(_), Some(_)) => format!(
                "seeds {} ({})",
                self.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                self.seeds.len()
            ),
            _ => "seeds not recorded".into(),
        };
        let date = self.last_cell_finished.as_deref().map(|d| d.get(..10).unwrap_or(d)).unwrap_or("date not recorded");
        format!("{}, {seeds}, {date}", self.profile)
    }
}

/// One row of the summary with the run that decided it.
#[derive(Clone, Debug)]
pub struct Row {
    /// The claim's row.
    pub claim: Claim,
    /// Which run's tables it reads (profile, seeds, date), from its table's meta.json.
    pub run: String,
}

/// Every claim's row, from the tables in `results` and the rules in the experiment files of
/// `experiments`, in [`crate::kinds::CLAIMS`]'s order. A row is decided only where every table
/// its rule reads exists and was merged under the rule its experiment file now states (the
/// `rule_hash` of its meta.json); otherwise the row says why it is not decided ("rule changed
/// after the data: rerun", or which table is missing). A malformed table is an error naming it.
pub fn claims(results: &Path, experiments: &Path) -> Result<Vec<Row>, ExperimentError> {
    let mut rows = Vec::new();
    for (name, rule_fn, reads) in crate::kinds::CLAIMS.iter() {
        let exp = Experiment::find(name, experiments)?;
        let (mut missing, mut changed) = (Vec::new(), Vec::new());
        let mut run = String::new();
        for t in std::iter::once(name).chain(reads.iter()) {
            let rule = if t == name { exp.rule() } else { Experiment::find(t, experiments)?.rule() };
            match RunRecord::load(results, t)? {
                None => missing.push(t.to_string()),
                Some(rec) => {
                    if rec.rule_hash.as_deref() != Some(rule.hash().as_str()) {
                        changed.push(t.to_string());
                    }
                    if t == name {
                        run = rec.text();
                    }
                }
            }
        }
        if !missing.is_empty() {
            rows.push(Row {
                claim: Claim::new(
                    &exp.claim,
                    name,
                    "",
                    String::new(),
                    Verdict::why(Outcome::NotDecided, format!("no table yet: {}", missing.join(", "))),
                ),
                run: "none".into(),
            });
            continue;
        }
        let mut claim = rule_fn(results, &exp.rule())?;
        if !changed.is_empty() {
            claim.verdict =
                Verdict::why(Outcome::NotDecided, format!("rule changed after the data: rerun {}", changed.join(", ")));
        }
        rows.push(Row { claim, run });
    }
    Ok(rows)
}

/// The words of a row not decided because its rule changed after its data.
pub const RULE_CHANGED: &str = "rule changed after the data: rerun";

/// The rows not decided, in words, for the command line to say: those whose rule changed after
/// their data (`refused`) and those whose tables are missing (`missing`).
pub fn undecided(rows: &[Row]) -> (Vec<String>, Vec<String>) {
    let mut out = (Vec::new(), Vec::new());
    for r in rows.iter().filter(|r| r.claim.verdict.outcomes().contains(&Outcome::NotDecided)) {
        let line = format!("{}: {}", r.claim.table, r.claim.verdict);
        if line.contains(RULE_CHANGED) { out.0.push(line) } else { out.1.push(line) }
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The fewest seeds (or data draws) behind any verdict: the distinct seeds of the
/// `<name>.cells.csv` of every table a claim reads (missing tables skipped), the smallest count.
pub fn fewest_seeds(results: &Path) -> Result<usize, ExperimentError> {
    let mut fewest = usize::MAX;
    for (name, _, reads) in crate::kinds::CLAIMS.iter() {
        for n in std::iter::once(name).chain(reads.iter()) {
            if RunRecord::load(results, n)?.is_none() {
                continue;
            }
            let c = crate::results::Cells::load(results, n, &[])?;
            fewest = fewest.min(c.distinct_seeds()?);
        }
    }
    Ok(if fewest == usize::MAX { 0 } else { fewest })
}

/// The summary's first paragraph: which profile's tables it reads, and what that run is.
fn provenance(profile: &str) -> String {
    if profile == VERDICT_PROFILE {
        format!(
            "Generated by `resgen report` from the tables in this folder, the {VERDICT_PROFILE} profile's run, which decides the verdicts; do not edit. \
             Each verdict's rule is the `claim` function of its experiment's module, crates/resgen-experiments/src/kinds/<kind>.rs \
             (the headline's: kinds/width_depth.rs), and every number it compares against is in its experiment file's `[verdict]` \
             table, each with its reason. The rules were set with the exploratory tables in view (the quick profile, seeds 0 to 4, \
             in results/quick/) and committed before this run; its seeds (1000 on) are used by no other committed table. Each \
             table's meta.json records the hash of the rule it was merged under, and a row whose rule changed after its data is \
             not decided. The last column names the run behind each row (profile, seeds, date its last cell finished)."
        )
    } else {
        format!(
            "Generated by `resgen report` from the tables in this folder (profile {profile}); do not edit. These are \
             exploratory tables, not the verdicts' run: the verdicts that count are in results/summary.md, from the \
             {VERDICT_PROFILE} profile on fresh seeds. The rules are the same (`claim` in crates/resgen-experiments/src/kinds/<kind>.rs, \
             its numbers in each experiment file's `[verdict]` table)."
        )
    }
}

/// `results/summary.md` for the tables of `profile`, with `seeds` the fewest seeds behind any
/// verdict ([`fewest_seeds`]).
pub fn markdown(rows: &[Row], seeds: usize, profile: &str) -> String {
    let mut out = format!(
        "# resgen: claims and verdicts\n\n{}\n\n\
         **Intervals.** Each verdict rests on {} (each seed sets the initialization and the data \
         draw): a mean over seeds; a difference or log-ratio within each seed where both networks \
         share seeds and data, with how many seeds agree in sign; an exponent fitted to each seed \
         on its own (for the depth exponents, the seeds' spread placed around the pooled fit). \
         Their coverage at these seed counts is checked by simulation (crates/resgen-stats). The \
         fewest seeds behind any verdict: {seeds}{}. The intervals cover the seed-to-seed variation \
         at the widths, depths, data and step sizes of each grid, nothing else: not those fixed \
         choices, and not multiplicity (the rows hold about fifty intervals, and at 95% each one \
         or two of them may exclude the true value by chance; no correction is applied).\n\n\
         | claim | table | prediction | fair comparison, measured | verdict | run |\n|---|---|---|---|---|---|\n",
        provenance(profile),
        crate::verdict::METHOD,
        if seeds < 10 { " (fewer than 10: honest intervals, but wide ones)" } else { "" }
    );
    for r in rows {
        let c = &r.claim;
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | **{}** | {} |\n",
            md_cell(&c.claim),
            c.table,
            md_cell(&c.prediction),
            md_cell(&c.measured),
            md_cell(&c.verdict.to_string()),
            md_cell(&r.run)
        ));
    }
    out
}

fn tex_escape(s: &str) -> String {
    let mut o = String::new();
    for ch in s.chars() {
        match ch {
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                o.push('\\');
                o.push(ch);
            }
            '^' => o.push_str("\\^{}"),
            '~' => o.push_str("\\textasciitilde{}"),
            '\\' => o.push_str("\\textbackslash{}"),
            _ => o.push(ch),
        }
    }
    o
}

/// `results/summary.tex`: a booktabs table (needs `\usepackage{booktabs}` and `tabularx`).
pub fn latex(rows: &[Row], profile: &str) -> String {
    let mut out = format!(
        "% Generated by `resgen report` from the {profile} profile's tables; do not edit.\n\
         \\begin{{tabularx}}{{\\textwidth}}{{@{{}}p{{0.17\\textwidth}}p{{0.22\\textwidth}}X p{{0.1\\textwidth}}@{{}}}}\n\\toprule\n\
         Claim & Prediction & Fair comparison, measured & Verdict \\\\\n\\midrule\n",
    );
    for r in rows {
        let c = &r.claim;
        out.push_str(&format!(
            "{} & {} & {} & {} \\\\\n",
            tex_escape(&c.claim),
            tex_escape(&c.prediction),
            tex_escape(&c.measured),
            tex_escape(&c.verdict.to_string())
        ));
    }
    out.push_str("\\bottomrule\n\\end{tabularx}\n");
    out
}

/// What [`write_report`] wrote, and the rows it did not decide.
pub struct Written {
    /// summary.md and summary.tex.
    pub paths: Vec<std::path::PathBuf>,
    /// The rows not decided because their rule changed after their data ([`undecided`]).
    pub refused: Vec<String>,
    /// The rows not decided because a table they read is missing.
    pub missing: Vec<String>,
}

/// Writes `summary.md` and `summary.tex` for `profile` into its folder under `results`
/// ([`crate::table::profile_dir`]), atomically, with the rules of `experiments`.
pub fn write_report(results: &Path, experiments: &Path, profile: &str) -> Result<Written, ExperimentError> {
    let dir = crate::table::profile_dir(results, profile);
    let rows = claims(&dir, experiments)?;
    let seeds = fewest_seeds(&dir)?;
    let md = dir.join("summary.md");
    let tex = dir.join("summary.tex");
    resgen_data::output::write_atomic(&md, markdown(&rows, seeds, profile).as_bytes())
        .map_err(resgen_data::output::io_err(&md))?;
    resgen_data::output::write_atomic(&tex, latex(&rows, profile).as_bytes())
        .map_err(resgen_data::output::io_err(&tex))?;
    let (refused, missing) = undecided(&rows);
    Ok(Written { paths: vec![md, tex], refused, missing })
}
