//! `resgen plot`: an SVG figure from a table alone (so a reader can restyle without rerunning).
//!
//! One line per series (by default one per architecture, ResNet beside FC), points with
//! error bars of one standard deviation over seeds, one panel per value of the `panels`
//! columns. Log axes are drawn by plotting `log10` of the values on a linear axis and labelling
//! the ticks with the original values.

use std::path::Path;

use plotters::prelude::*;

use crate::spec::PlotSpec;
use crate::table::read_table;

type Series = Vec<(String, Vec<(f64, f64, f64)>)>;

/// Draws `table` (CSV) to `out` (SVG) as `spec` says; `title` heads the figure.
pub fn plot(table: &Path, out: &Path, spec: &PlotSpec, title: &str) -> Result<(), String> {
    let (header, rows) = read_table(table)?;
    let col = |name: &str| -> Result<usize, String> {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: plot: no column `{name}` (columns: {})", table.display(), header.join(", ")))
    };
    let xi = col(&spec.x)?;
    let ys: Vec<(String, usize, Option<usize>)> = spec
        .y
        .iter()
        .map(|y| Ok((y.clone(), col(&format!("{y}_mean"))?, col(&format!("{y}_sd")).ok())))
        .collect::<Result<_, String>>()?;
    let filters: Vec<(usize, &String)> =
        spec.filter.iter().map(|(k, v)| Ok((col(k)?, v))).collect::<Result<_, String>>()?;
    let series_cols: Vec<usize> = spec.series.iter().map(|s| col(s)).collect::<Result<_, _>>()?;
    let panel_cols: Vec<usize> = spec.panels.iter().map(|s| col(s)).collect::<Result<_, _>>()?;
    let tx = |v: f64, log: bool| if log { v.log10() } else { v };
    // panel label -> series label -> points (x, y, sd), all in plotting coordinates.
    let mut panels: Vec<(String, Series)> = Vec::new();
    for r in rows.iter().filter(|r| filters.iter().all(|(i, v)| &r[*i] == *v)) {
        let Ok(x) = r[xi].parse::<f64>() else { continue };
        let panel = panel_cols.iter().map(|&i| format!("{}={}", header[i], r[i])).collect::<Vec<_>>().join(", ");
        for (yname, ym, ysd) in &ys {
            let Ok(y) = r[*ym].parse::<f64>() else { continue };
            let sd = ysd.and_then(|i| r[i].parse::<f64>().ok()).unwrap_or(0.0);
            if (spec.log_x && x <= 0.0) || (spec.log_y && y <= 0.0) {
                continue;
            }
            // Legends name the parameter: "ResNet, L = 8", "FC, theta = 1/L".
            let mut label = series_cols
                .iter()
                .map(|&i| match (header[i].as_str(), r[i].as_str()) {
                    ("arch", "resnet") => "ResNet".to_string(),
                    ("arch", "fc") => "FC".to_string(),
                    ("depth", v) => format!("L = {v}"),
                    ("width", v) => format!("m = {v}"),
                    (k, v) => format!("{k} = {v}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            if ys.len() > 1 {
                label = format!("{label} {yname}").trim().to_string();
            }
            // Error bars in log space: from y - sd (if positive) to y + sd.
            let (lo, hi) = if spec.log_y { ((y - sd).max(y * 1e-3), y + sd) } else { (y - sd, y + sd) };
            let point = (tx(x, spec.log_x), tx(y, spec.log_y), 0.5 * (tx(hi, spec.log_y) - tx(lo, spec.log_y)));
            let p = match panels.iter().position(|(p, _)| *p == panel) {
                Some(i) => i,
                None => {
                    panels.push((panel.clone(), vec![]));
                    panels.len() - 1
                }
            };
            let s = &mut panels[p].1;
            match s.iter_mut().find(|(l, _)| *l == label) {
                Some((_, pts)) => pts.push(point),
                None => s.push((label, vec![point])),
            }
        }
    }
    if panels.is_empty() {
        return Err(format!("{}: plot: no rows to draw after the filter {:?}", table.display(), spec.filter));
    }
    let height = 420 * panels.len() as u32;
    let root = SVGBackend::new(out, (760, height)).into_drawing_area();
    let e = |err: DrawingAreaErrorKind<std::io::Error>| format!("{}: {err}", out.display());
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len(), 1));
    for (area, (panel, series)) in areas.iter().zip(&panels) {
        let all: Vec<&(f64, f64, f64)> = series.iter().flat_map(|(_, p)| p).collect();
        let (x0, x1) = bounds(all.iter().map(|p| p.0));
        let (y0, y1) = bounds(all.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2]));
        let caption = if panel.is_empty() { title.to_string() } else { format!("{title} ({panel})") };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
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
        for (i, (label, pts)) in series.iter().enumerate() {
            // One colour per network (Okabe-Ito: ResNet blue, FC vermillion), shaded per second
            // parameter; other series take the palette's remaining colours.
            let shade = series[..i].iter().filter(|(l, _)| l.split(',').next() == label.split(',').next()).count();
            let base = if label.starts_with("ResNet") {
                RGBColor(0x00, 0x72, 0xB2)
            } else if label.starts_with("FC") {
                RGBColor(0xD5, 0x5E, 0x00)
            } else {
                [RGBColor(0x00, 0x9E, 0x73), RGBColor(0xCC, 0x79, 0xA7), RGBColor(0xE6, 0x9F, 0x00)][i % 3]
            };
            let k = 0.55f64.powi(shade as i32);
            let mix = |c: u8| (255.0 - (255.0 - c as f64) * k) as u8;
            let color = RGBColor(mix(base.0), mix(base.1), mix(base.2)).to_rgba();
            let mut pts = pts.clone();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))
                .map_err(e)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled()))).map_err(e)?;
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.2 > 0.0)
                        .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], color.stroke_width(1))),
                )
                .map_err(e)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(e)?;
    }
    root.present().map_err(e)?;
    Ok(())
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

/// A tick label with three significant digits (`0.158`, `2.51`, `25.1`, `1450`).
fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = 2 - v.abs().log10().floor() as i32;
    if decimals <= 0 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.*}", decimals as usize);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
