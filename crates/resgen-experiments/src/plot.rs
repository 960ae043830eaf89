//! `resgen plot`: an SVG figure from a table alone (so a reader can restyle without rerunning).
//!
//! One line per series (by default one per architecture, ResNet beside FC), points with
//! error bars of one standard deviation over seeds, one panel per value of the `panels`
//! columns. Log axes are drawn by plotting `log10` of the values on a linear axis and labelling
//! the ticks with the original values.

use crate::ExperimentError;
use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::spec::Experiment;
use crate::spec::PlotSpec;
use crate::spec::grid::{ARCH, DATASET, DEPTH, FC, N_TRAIN, RESNET, THETA, WIDTH};
use crate::table::read_table;

/// The figure next to a table: `results/<name>.svg` (or under `results/<profile>/`).
pub fn plot_path(results: &Path, exp: &Experiment, profile: &str) -> std::path::PathBuf {
    crate::table::table_path(results, exp, profile).with_extension("svg")
}

/// The caption line under a figure's title: the profile, the sizes every cell shares (n, m, L,
/// data, when they are not a column of the grid), and what the error bars are.
pub fn caption(exp: &Experiment, profile: &str) -> Result<String, ExperimentError> {
    let cells = exp.cells(profile)?;
    let Some(first) = cells.first() else { return Ok(format!("{profile} profile")) };
    let grid: Vec<String> = first.coords.iter().map(|(k, _)| k.clone()).collect();
    let c = &first.config;
    let mut parts = vec![format!("{profile} profile")];
    let fixed = [
        (DATASET, "data", format!("{:?}", c.data.source).to_lowercase()),
        (N_TRAIN, "n", c.data.n_train.to_string()),
        (WIDTH, "m", c.model.width.to_string()),
        (DEPTH, "L", c.model.depth.to_string()),
    ];
    for (col, name, v) in fixed {
        // min-width searches over the width itself.
        let searched = col == WIDTH && exp.kind == crate::kinds::Kind::MinWidth;
        if !searched && !grid.iter().any(|g| g == col) {
            parts.push(format!("{name} = {v}"));
        }
    }
    let seeds: std::collections::BTreeSet<u64> = cells.iter().map(|c| c.seed).collect();
    parts.push(match seeds.len() {
        1 => "one seed (no error bars)".to_string(),
        k => format!("error bars: sd over {k} seeds"),
    });
    Ok(parts.join("; "))
}

/// Draws the experiment's figure from its table.
pub fn plot_experiment(
    exp: &Experiment,
    profile: &str,
    results: &Path,
) -> Result<Vec<std::path::PathBuf>, ExperimentError> {
    let table = crate::table::table_path(results, exp, profile);
    let out = plot_path(results, exp, profile);
    let title = match (&exp.plot.title, exp.claim.is_empty()) {
        (Some(t), _) => format!("{}: {t}", exp.name),
        (None, true) => exp.name.clone(),
        (None, false) => format!("{}: {}", exp.name, exp.claim),
    };
    let caption = caption(exp, profile)?;
    plot(&table, &out, &exp.plot, &title, &caption)?;
    let mut written = vec![out];
    for (figure, spec) in &exp.figures {
        let with_suffix = |p: &Path, suffix: &str, ext: &str| p.with_file_name(format!("{}-{suffix}.{ext}", exp.name));
        let source = match &spec.table {
            Some(derived) => with_suffix(&table, derived, "csv"),
            None => table.clone(),
        };
        let out = with_suffix(&table, figure, "svg");
        let title = match &spec.title {
            Some(t) => format!("{}: {t}", exp.name),
            None => title.clone(),
        };
        // A further figure of a derived table with nothing to draw (e.g. every cell censored,
        // so no width was found) is left out; the main figure is always drawn.
        if has_points(&source, spec)? {
            plot(&source, &out, spec, &title, &caption)?;
            written.push(out);
        } else if out.exists() {
            std::fs::remove_file(&out).map_err(resgen_data::output::io_err(&out))?;
        }
    }
    Ok(written)
}

/// Labelled series of points `(x, y, lo, hi)` in plotting coordinates: the mean and the ends of
/// its error bar (on a log axis `lo` is minus infinity when the bar reaches zero or below).
type Series = Vec<(String, Vec<(f64, f64, f64, f64)>)>;

/// Labelled panels of series.
type Panels = Vec<(String, Series)>;

/// A linear f64 axis whose ticks sit exactly at the given values (the data's own values, or
/// 1-2-5 steps in log space), instead of plotters' round decimal steps of log10.
#[derive(Clone)]
struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Keyed {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.lo..self.hi).map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.keys.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Draws `table` (CSV) to `out` (SVG) as `spec` says; `title` heads the figure and `caption`
/// (profile, fixed sizes, what the error bars are) goes on the line under it.
pub fn plot(table: &Path, out: &Path, spec: &PlotSpec, title: &str, caption: &str) -> Result<(), ExperimentError> {
    let (panels, xs_seen, dashed) = gather(table, spec)?;
    if panels.is_empty() {
        return Err(ExperimentError::table(table, format!("plot: no rows to draw after the filter {:?}", spec.filter)));
    }
    let height = 60 + 400 * panels.len() as u32;
    let root = SVGBackend::new(out, (820, height)).into_drawing_area();
    let e = |err: DrawingAreaErrorKind<std::io::Error>| ExperimentError::table(out, err.to_string());
    root.fill(&WHITE).map_err(e)?;
    let root = root.titled(title, ("sans-serif", 17)).map_err(e)?;
    let root = root.titled(caption, ("sans-serif", 13).into_font().color(&RGBColor(0x44, 0x44, 0x44))).map_err(e)?;
    let areas = root.split_evenly((panels.len(), 1));
    // Tick positions: the data's own x values when there are few, else 1-2-5 steps per decade;
    // for log y, the 1-2-5 values inside the range.
    let mut xs = xs_seen.clone();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    // Every series label of the figure, so that one series keeps its colour and marker in every
    // panel: ResNet's first, then FC's, then the others, each in the order of the y values and
    // then of first appearance.
    let mut global: Series = Vec::new();
    for (_, series) in &panels {
        for (label, _) in series {
            if !global.iter().any(|(l, _)| l == label) {
                global.push((label.clone(), Vec::new()));
            }
        }
    }
    let family_rank = |l: &str| {
        if l.starts_with("ResNet") {
            0
        } else if l.starts_with("FC") {
            1
        } else {
            2
        }
    };
    let y_rank = |l: &str| {
        if spec.y.len() < 2 {
            return 0;
        }
        spec.y.iter().position(|y| l.ends_with(&y_words(y))).unwrap_or(spec.y.len())
    };
    global.sort_by_key(|(l, _)| (family_rank(l), y_rank(l)));
    for (area, (panel, series)) in areas.iter().zip(&panels) {
        let all: Vec<&(f64, f64, f64, f64)> = series.iter().flat_map(|(_, p)| p).collect();
        let (x0, x1) = bounds(all.iter().map(|p| p.0));
        // A bar without a lower end on a log axis runs to the axis' bottom: it sets no bound.
        let (y0, y1) = bounds(all.iter().flat_map(|p| [p.1, p.2, p.3]).filter(|v| v.is_finite()));
        let x_keys = if spec.log_x {
            if xs.len() <= 10 { xs.iter().map(|v| v.log10()).collect() } else { log_keys(x0, x1) }
        } else {
            linear_keys(x0, x1)
        };
        let y_keys = if spec.log_y { log_keys(y0, y1) } else { linear_keys(y0, y1) };
        let mut builder = ChartBuilder::on(area);
        builder.margin(12).x_label_area_size(40).y_label_area_size(80);
        if !panel.is_empty() {
            builder.caption(panel.replace('=', " = "), ("sans-serif", 14));
        }
        let mut chart = builder
            .build_cartesian_2d(Keyed { lo: x0, hi: x1, keys: x_keys }, Keyed { lo: y0, hi: y1, keys: y_keys })
            .map_err(e)?;
        let fmt_axis = |log: bool| move |v: &f64| if log { tick(10f64.powf(*v)) } else { tick(*v) };
        let (fx, fy) = (fmt_axis(spec.log_x), fmt_axis(spec.log_y));
        chart
            .configure_mesh()
            .x_desc(spec.x_label.clone().unwrap_or_else(|| spec.x.clone()) + if spec.log_x { " (log)" } else { "" })
            .y_desc(spec.y_label.clone().unwrap_or_else(|| spec.y.join(", ")) + if spec.log_y { " (log)" } else { "" })
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .draw()
            .map_err(e)?;
        for (label, pts) in series {
            // One colour per network (Okabe-Ito: ResNet blue, FC vermillion), shaded per second
            // parameter; other series take the palette's remaining colours.
            let g = global.iter().position(|(l, _)| l == label).expect("every label is in the figure's list");
            let (color, shade) = series_style(&global, g);
            let is_dashed = dashed.contains(label);
            let mut pts = pts.clone();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let line: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
            let drawn = if is_dashed {
                chart.draw_series(DashedLineSeries::new(line, 6, 4, color.stroke_width(2))).map_err(e)?
            } else {
                chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map_err(e)?
            };
            drawn.label(label.clone()).legend(move |(x, y)| {
                // The legend shows the series' marker on its line (solid or dashed), as the plot
                // draws it (the other shapes are transparent, which the SVG backend does not
                // draw).
                let pick = |k: usize| if shade % 3 == k { color } else { TRANSPARENT };
                let (solid, dash) = if is_dashed { (TRANSPARENT, color) } else { (color, TRANSPARENT) };
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (18, 0)], solid.stroke_width(2))
                    + plotters::element::DashedPathElement::new(vec![(0, 0), (18, 0)], 5, 3, dash.stroke_width(2))
                    + Circle::new((9, 0), 3, pick(0).filled())
                    + TriangleMarker::new((9, 0), 5, pick(1).filled())
                    + Cross::new((9, 0), 4, pick(2).stroke_width(2))
            });
            // One marker shape per second parameter, so the lines differ by more than shade.
            match shade % 3 {
                0 => chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled()))).map(|_| ()),
                1 => chart
                    .draw_series(pts.iter().map(|p| TriangleMarker::new((p.0, p.1), 5, color.filled())))
                    .map(|_| ()),
                _ => {
                    chart.draw_series(pts.iter().map(|p| Cross::new((p.0, p.1), 4, color.stroke_width(2)))).map(|_| ())
                }
            }
            .map_err(e)?;
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.3 > p.2)
                        .map(|p| PathElement::new(vec![(p.0, p.2.max(y0)), (p.0, p.3)], color.stroke_width(1))),
                )
                .map_err(e)?;
        }
        if let (Some(slope), true) = (spec.reference_slope, spec.log_x && spec.log_y) {
            // Through the first point of the panel's first series, to the right edge, cut where
            // it leaves the panel.
            if let Some((x_a, y_a)) =
                series.first().and_then(|(_, p)| p.iter().min_by(|a, b| a.0.total_cmp(&b.0))).map(|p| (p.0, p.1))
            {
                let at = |x: f64| y_a + slope * (x - x_a);
                let mut x_b = x1;
                if at(x_b) < y0 {
                    x_b = x_a + (y0 - y_a) / slope;
                } else if at(x_b) > y1 {
                    x_b = x_a + (y1 - y_a) / slope;
                }
                let grey = RGBColor(0x77, 0x77, 0x77).to_rgba();
                chart
                    .draw_series(DashedLineSeries::new(vec![(x_a, y_a), (x_b, at(x_b))], 3, 3, grey.stroke_width(1)))
                    .map_err(e)?
                    .label(format!("slope {} (reference)", tick(slope)))
                    .legend(move |(x, y)| {
                        plotters::element::DashedPathElement::new(vec![(x, y), (x + 18, y)], 3, 3, grey.stroke_width(1))
                    });
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(emptiest_corner(series, (x0, x1), (y0, y1), legend_height(series.len(), area.dim_in_pixel().1)))
            .draw()
            .map_err(e)?;
    }
    root.present().map_err(e)?;
    Ok(())
}

/// Whether `spec` finds anything to draw in `table`.
pub fn has_points(table: &Path, spec: &PlotSpec) -> Result<bool, ExperimentError> {
    Ok(!gather(table, spec)?.0.is_empty())
}

/// The table's rows, filtered and grouped into panels and labelled series of points `(x, y, lo,
/// hi)` (the mean and its error bar's ends) in plotting coordinates, every x value seen, and the
/// labels of the series drawn dashed.
fn gather(table: &Path, spec: &PlotSpec) -> Result<(Panels, Vec<f64>, Vec<String>), ExperimentError> {
    let (header, rows) = read_table(table)?;
    let col = |name: &str| -> Result<usize, ExperimentError> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            ExperimentError::table(table, format!("plot: no column `{name}` (columns: {})", header.join(", ")))
        })
    };
    let xi = col(&spec.x)?;
    let ys: Vec<(String, usize, Option<usize>)> = spec
        .y
        .iter()
        // A summary table's `<y>_mean` (with `<y>_sd`), or a derived table's column `<y>` itself.
        .map(|y| {
            let mean = col(&format!("{y}_mean")).or_else(|e| col(y).map_err(|_| e))?;
            Ok((y.clone(), mean, col(&format!("{y}_sd")).ok()))
        })
        .collect::<Result<_, ExperimentError>>()?;
    let filters: Vec<(usize, &String)> =
        spec.filter.iter().map(|(k, v)| Ok((col(k)?, v))).collect::<Result<_, ExperimentError>>()?;
    // A series column the table lacks (a grid that does not sweep it, e.g. a one-branch run
    // of theta-phase) has a single value: it splits nothing and is left out of the labels.
    let series_cols: Vec<usize> = spec.series.iter().filter_map(|s| col(s).ok()).collect();
    let panel_cols: Vec<usize> = spec.panels.iter().map(|s| col(s)).collect::<Result<_, _>>()?;
    // A dashed column the table lacks (a grid that does not sweep it) dashes nothing.
    let dash_cols: Vec<(usize, &String)> = spec.dashed.iter().filter_map(|(k, v)| Some((col(k).ok()?, v))).collect();
    let dash_all = dash_cols.len() == spec.dashed.len();
    let mut dashed: Vec<String> = Vec::new();
    let tx = |v: f64, log: bool| if log { v.log10() } else { v };
    // panel label -> series label -> points (x, y, sd), all in plotting coordinates.
    let mut panels: Panels = Vec::new();
    let mut xs_seen: Vec<f64> = Vec::new();
    // A y or sd value is a number or empty (not measured: no point); anything else is an error
    // naming the table, the column and the line. (An x that is not a number, such as a pooled
    // row's `all`, is not a point on the x axis.)
    let number = |line: usize, i: usize, v: &str| -> Result<Option<f64>, ExperimentError> {
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            ExperimentError::table(table, format!("line {}, column `{}`: `{v}` is not a number", line + 2, header[i]))
        })
    };
    for (line, r) in rows.iter().enumerate().filter(|(_, r)| filters.iter().all(|(i, v)| &r[*i] == *v)) {
        let Ok(x) = r[xi].parse::<f64>() else { continue };
        let panel = panel_cols.iter().map(|&i| format!("{}={}", header[i], r[i])).collect::<Vec<_>>().join(", ");
        for (yname, ym, ysd) in &ys {
            let Some(y) = number(line, *ym, &r[*ym])? else { continue };
            let sd = match ysd {
                Some(i) => number(line, *i, &r[*i])?.unwrap_or(0.0),
                None => 0.0,
            };
            if (spec.log_x && x <= 0.0) || (spec.log_y && y <= 0.0) {
                continue;
            }
            // Legends name the parameter: "ResNet, L = 8", "FC, theta = 1/L".
            let is_fc = header.iter().position(|h| h == ARCH).is_some_and(|a| r[a] == FC);
            let mut label = series_cols
                .iter()
                // The FC network ignores theta: its series is drawn once, not once per theta.
                .filter(|&&i| !(is_fc && header[i] == THETA))
                .map(|&i| match (header[i].as_str(), r[i].as_str()) {
                    (ARCH, RESNET) => "ResNet".to_string(),
                    (ARCH, FC) => "FC".to_string(),
                    (DEPTH, v) => format!("L = {v}"),
                    (WIDTH, v) => format!("m = {v}"),
                    (k, v) => format!("{k} = {v}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            if ys.len() > 1 {
                label = format!("{label}, {}", y_words(yname)).trim_start_matches(", ").to_string();
            }
            // The bar from y - sd to y + sd; on a log axis a non-positive lower end is minus
            // infinity (the bar runs to the axis' bottom).
            let lo = if spec.log_y && y - sd <= 0.0 { f64::NEG_INFINITY } else { tx(y - sd, spec.log_y) };
            let point = (tx(x, spec.log_x), tx(y, spec.log_y), lo, tx(y + sd, spec.log_y));
            let p = match panels.iter().position(|(p, _)| *p == panel) {
                Some(i) => i,
                None => {
                    panels.push((panel.clone(), vec![]));
                    panels.len() - 1
                }
            };
            if dash_all
                && !dash_cols.is_empty()
                && dash_cols.iter().all(|(i, v)| &r[*i] == *v)
                && !dashed.contains(&label)
            {
                dashed.push(label.clone());
            }
            let s = &mut panels[p].1;
            match s.iter_mut().find(|(l, _)| *l == label) {
                // A repeated x in one series is the same cell seen again (FC across theta).
                Some((_, pts)) if pts.iter().any(|q| q.0 == point.0) => {}
                Some((_, pts)) => pts.push(point),
                None => s.push((label, vec![point])),
            }
            xs_seen.push(x);
        }
    }
    Ok((panels, xs_seen, dashed))
}

/// A table column as a legend names it, in words (figures with several y values per series).
fn y_words(column: &str) -> String {
    match column {
        "test_error" => "test error".into(),
        "bound_measured_rad" => "measured-Rademacher bound".into(),
        "bound_cg_fc_formula" => "Cao-Gu formula (FC)".into(),
        "bound_fcg_resnet_formula" => "Frei-Cao-Gu formula (ResNet)".into(),
        "ntk_sqrt_yKinvy_over_n" => "complexity, empirical NTK".into(),
        "analytic_sqrt_yKinvy_over_n" => "complexity, analytic NTK".into(),
        "h_norm" => "measured".into(),
        "h_norm_analytic" => "infinite-width recursion".into(),
        "lazy_width" => "lazy width (every seed inside the widths tried)".into(),
        "fitted_width" => "fitted law A L^b m^g = tau".into(),
        "above_widest" => "some seed's width above the widest tried (drawn there)".into(),
        "below_narrowest" => "some seed's width below the narrowest tried (drawn there)".into(),
        other => other.trim_start_matches("bound_").replace('_', " "),
    }
}

/// The colour of series `i` and its rank within its network's family (which picks the marker).
fn series_style(series: &Series, i: usize) -> (RGBAColor, usize) {
    let label = &series[i].0;
    let fam = |l: &str| l.split([',', ' ']).next().unwrap_or("").to_string();
    if !(label.starts_with("ResNet") || label.starts_with("FC")) {
        // Other series (e.g. "theta = 1/L, branch = two-layer"): one colour per value of the
        // first series column, one marker per value of the rest, in the figure's order.
        let first = |l: &str| l.split(", ").next().unwrap_or("").to_string();
        let rest = |l: &str| l.split_once(", ").map_or(String::new(), |(_, r)| r.to_string());
        let mut firsts: Vec<String> = Vec::new();
        let mut rests: Vec<String> = Vec::new();
        for (l, _) in series {
            if !firsts.contains(&first(l)) {
                firsts.push(first(l));
            }
            if !rests.contains(&rest(l)) {
                rests.push(rest(l));
            }
        }
        let palette = [
            RGBColor(0x00, 0x9E, 0x73),
            RGBColor(0xCC, 0x79, 0xA7),
            RGBColor(0xE6, 0x9F, 0x00),
            RGBColor(0x56, 0xB4, 0xE9),
            RGBColor(0x00, 0x00, 0x00),
            RGBColor(0xF0, 0xE4, 0x42),
        ];
        let c = firsts.iter().position(|f| *f == first(label)).unwrap_or(0);
        let shade = rests.iter().position(|r| *r == rest(label)).unwrap_or(0);
        return (palette[c % palette.len()].to_rgba(), shade);
    }
    let shade = series[..i].iter().filter(|(l, _)| fam(l) == fam(label)).count();
    let base = if label.starts_with("ResNet") { RGBColor(0x00, 0x72, 0xB2) } else { RGBColor(0xD5, 0x5E, 0x00) };
    let family = series.iter().filter(|(l, _)| fam(l) == fam(label)).count();
    let k = if family <= 1 { 1.0 } else { 1.0 - 0.6 * shade as f64 / (family - 1) as f64 };
    let mix = |c: u8| (255.0 - (255.0 - c as f64) * k) as u8;
    let color = RGBColor(mix(base.0), mix(base.1), mix(base.2)).to_rgba();
    (color, shade)
}

/// The legend's height as a fraction of the plotting area's: about 19 px per entry plus its
/// border, over a panel of `panel_px` pixels less its margins, caption and tick labels (80 px);
/// at least a quarter, at most all of it.
fn legend_height(entries: usize, panel_px: u32) -> f64 {
    let plot = (panel_px as f64 - 80.0).max(1.0);
    ((entries as f64 * 19.0 + 12.0) / plot).clamp(0.25, 1.0)
}

/// Where the legend covers the least data: of six places (corners and middles of the sides),
/// the one whose box (a third of the width, `height` of the height) holds the fewest samples
/// of the drawn lines (20 per segment, points included).
fn emptiest_corner(series: &Series, (x0, x1): (f64, f64), (y0, y1): (f64, f64), height: f64) -> SeriesLabelPosition {
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for (_, pts) in series {
        let mut p = pts.clone();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in p.windows(2) {
            for k in 0..20 {
                let t = k as f64 / 20.0;
                samples.push((w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1)));
            }
        }
        samples.extend(p.iter().map(|q| (q.0, q.1)));
    }
    let frac = |s: &(f64, f64)| ((s.0 - x0) / (x1 - x0), (s.1 - y0) / (y1 - y0));
    let count = |left: bool, (ylo, yhi): (f64, f64)| {
        samples
            .iter()
            .map(frac)
            .filter(|(fx, fy)| (if left { *fx < 0.36 } else { *fx > 0.64 }) && *fy >= ylo && *fy <= yhi)
            .count()
    };
    let h = height + 0.03;
    let (top, mid, bottom) = ((1.0 - h, 1.01), (0.5 - h / 2.0, 0.5 + h / 2.0), (-0.01, h));
    [
        (count(true, top), SeriesLabelPosition::UpperLeft),
        (count(false, top), SeriesLabelPosition::UpperRight),
        (count(false, bottom), SeriesLabelPosition::LowerRight),
        (count(true, bottom), SeriesLabelPosition::LowerLeft),
        (count(false, mid), SeriesLabelPosition::MiddleRight),
        (count(true, mid), SeriesLabelPosition::MiddleLeft),
    ]
    .into_iter()
    .min_by_key(|(c, _)| *c)
    .map(|(_, p)| p)
    .unwrap_or(SeriesLabelPosition::UpperLeft)
}

/// Tick positions in log10 space: the 1-2-5 values of every decade in `[lo, hi]` (only the
/// decades when the range spans more than three of them).
fn log_keys(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mults: &[f64] = if hi - lo > 3.0 {
        &[1.0]
    } else if hi - lo > 1.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]
    };
    let step = if hi - lo > 12.0 { ((hi - lo) / 8.0).ceil() as i32 } else { 1 };
    let mut d = lo.floor() as i32;
    while (d as f64) <= hi {
        for m in mults {
            let v = d as f64 + m.log10();
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
        d += step;
    }
    out
}

/// About six round tick positions in `[lo, hi]`.
fn linear_keys(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    if !(raw > 0.0 && raw.is_finite()) {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + 1e-12 * step {
        out.push(if v.abs() < 1e-12 * step { 0.0 } else { v });
        v += step;
    }
    out
}

/// A padded range around the values (a unit range around a single value).
fn bounds(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        vals.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.06 * (hi - lo) } else { 0.5 };
    (lo - pad, hi + pad)
}

/// A tick label with three significant digits (`0.158`, `2.51`, `25.1`, `1450`), scientific
/// beyond four digits (`1e12`, `2.5e4`).
fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() >= 1e4 || v.abs() < 1e-3 {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let decimals = 2 - v.abs().log10().floor() as i32;
    if decimals <= 0 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.*}", decimals as usize);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(cx, cy)` of circle markers.
    type Markers = Vec<(f64, f64)>;
    /// `(x, y_start, y_end)` of vertical bars.
    type Bars = Vec<(f64, f64, f64)>;

    /// `(cx, cy)` of every circle marker and the end points of every two-point vertical polyline
    /// drawn in `colour` (the series', which tick marks do not have) in the SVG, in pixels.
    fn markers_and_bars(svg: &str, colour: &str) -> (Markers, Bars) {
        let attr = |el: &str, name: &str| -> Option<String> {
            let i = el.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(el[i..i + el[i..].find('"')?].to_string())
        };
        let mut circles = Vec::new();
        let mut bars = Vec::new();
        for el in svg.split('<') {
            if el.starts_with("circle") {
                let c = |n| attr(el, n).unwrap().parse::<f64>().unwrap();
                circles.push((c("cx"), c("cy")));
            } else if el.starts_with("polyline") && attr(el, "stroke").as_deref() == Some(colour) {
                let pts: Vec<(f64, f64)> = attr(el, "points")
                    .unwrap()
                    .split_whitespace()
                    .map(|p| {
                        let (a, b) = p.split_once(',').unwrap();
                        (a.parse().unwrap(), b.parse().unwrap())
                    })
                    .collect();
                if pts.len() == 2 && pts[0].0 == pts[1].0 && pts[0].1 != pts[1].1 {
                    bars.push((pts[0].0, pts[0].1, pts[1].1));
                }
            }
        }
        (circles, bars)
    }

    #[test]
    fn log_axis_error_bars_end_at_the_tables_mean_minus_and_plus_sd() {
        // Three points on a log y axis: y = 1 with sd 0.5 (bar from 0.5 to 1.5), y = 0.1 with sd
        // 0.02 (0.08 to 0.12), and y = 0.02 with sd 0.062, more than the mean, whose bar has no
        // lower end on a log axis and must end at 0.082 above (a symmetric bar in log space, as
        // drawn before, would reach far higher).
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("t.csv");
        std::fs::write(&table, "arch,depth,v_mean,v_sd\nresnet,1,1,0.5\nresnet,2,0.1,0.02\nresnet,4,0.02,0.062\n")
            .unwrap();
        let spec = PlotSpec {
            x: "depth".into(),
            y: vec!["v".into()],
            series: vec!["arch".into()],
            log_y: true,
            ..Default::default()
        };
        let out = dir.path().join("t.svg");
        plot(&table, &out, &spec, "t", "c").unwrap();
        let (circles, bars) = markers_and_bars(&std::fs::read_to_string(&out).unwrap(), "#0072B2");
        // Three data markers, each with its bar, and the legend's marker (no bar).
        assert_eq!(circles.len(), 4, "{circles:?}");
        let circles: Vec<(f64, f64)> =
            circles.into_iter().filter(|c| bars.iter().any(|b| (b.0 - c.0).abs() < 0.5)).collect();
        assert_eq!(circles.len(), 3, "{circles:?}");
        // Pixel height is affine in log10(y): fit it on the markers at y = 1 and y = 0.1.
        let by_x = |x: f64| *circles.iter().find(|c| (c.0 - x).abs() < 0.5).unwrap();
        let mut xs: Vec<f64> = circles.iter().map(|c| c.0).collect();
        xs.sort_by(f64::total_cmp);
        let (p1, p01) = (by_x(xs[0]).1, by_x(xs[1]).1);
        let px = |v: f64| p1 + (p01 - p1) * (-v.log10());
        // The third marker lies where the fit says y = 0.02 is (to a pixel).
        assert!((by_x(xs[2]).1 - px(0.02)).abs() < 1.0);
        let bar = |x: f64| {
            let b = bars.iter().find(|b| (b.0 - x).abs() < 0.5).unwrap();
            (b.1.max(b.2), b.1.min(b.2)) // (bottom, top) in pixels: y grows downwards
        };
        let (bottom, top) = bar(xs[0]);
        assert!((bottom - px(0.5)).abs() < 1.0 && (top - px(1.5)).abs() < 1.0, "{bottom} {top}");
        let (bottom, top) = bar(xs[1]);
        assert!((bottom - px(0.08)).abs() < 1.0 && (top - px(0.12)).abs() < 1.0, "{bottom} {top}");
        let (bottom, top) = bar(xs[2]);
        assert!((top - px(0.082)).abs() < 1.0, "{top} vs {}", px(0.082));
        // Its lower end is the axis' bottom, below every marker.
        assert!(bottom > px(0.02) + 5.0, "{bottom}");
    }

    #[test]
    fn a_value_that_is_not_a_number_is_an_error_naming_it_and_an_empty_one_no_point() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("t.csv");
        let spec =
            PlotSpec { x: "depth".into(), y: vec!["v".into()], series: vec!["arch".into()], ..Default::default() };
        // An empty mean is a value not measured: no point, no error.
        std::fs::write(&table, "arch,depth,v_mean,v_sd\nresnet,1,1,0.5\nresnet,2,,\n").unwrap();
        assert!(has_points(&table, &spec).unwrap());
        // A mean or an sd that is not a number names the table, the line and the column.
        std::fs::write(&table, "arch,depth,v_mean,v_sd\nresnet,1,1,0.5\nresnet,2,abc,0.1\n").unwrap();
        let e = has_points(&table, &spec).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("line 3, column `v_mean`: `abc` is not a number"), "{e}");
        std::fs::write(&table, "arch,depth,v_mean,v_sd\nresnet,1,1,x\n").unwrap();
        let e = has_points(&table, &spec).unwrap_err().to_string();
        assert!(e.contains("line 2, column `v_sd`: `x` is not a number"), "{e}");
    }
}
