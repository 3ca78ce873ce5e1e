//! Line charts drawn as SVG with plotters (text is left to the SVG viewer's fonts, so no system
//! font library is needed).

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One line of a chart; `band` adds a shaded band (low, high) at the same x values.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub band: Option<Vec<(f64, f64, f64)>>,
    pub color: RGBColor,
    pub dashed: bool,
    /// Points drawn as circles, without a line.
    pub markers: bool,
}

pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn bounds(series: &[Series]) -> (f64, f64, f64, f64) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = (f64::INFINITY, f64::NEG_INFINITY);
    let mut see = |px: f64, py: f64| {
        if px.is_finite() && py.is_finite() {
            x = (x.0.min(px), x.1.max(px));
            y = (y.0.min(py), y.1.max(py));
        }
    };
    for s in series {
        for &(px, py) in &s.points {
            see(px, py);
        }
        for &(px, lo, hi) in s.band.iter().flatten() {
            see(px, lo);
            see(px, hi);
        }
    }
    if !x.0.is_finite() {
        return (0.0, 1.0, 0.0, 1.0);
    }
    if x.1 <= x.0 {
        x.1 = x.0 + 1.0;
    }
    if y.1 <= y.0 {
        y.1 = y.0 + 1.0;
    }
    (x.0, x.1, y.0, y.1)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

/// Draws every series (band, then line, dashes or markers) and the legend, on a chart of either
/// y scale.
fn draw_series<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    for s in series {
        if let Some(band) = &s.band {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, lo, _)| (x, lo)).collect();
            poly.extend(band.iter().rev().map(|&(x, _, hi)| (x, hi)));
            chart
                .draw_series(std::iter::once(Polygon::new(poly, s.color.mix(0.15))))
                .map_err(err)?;
        }
        let style = s.color.stroke_width(2);
        let color = s.color;
        if s.markers {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, 5, s.color.filled())),
                )
                .map_err(err)?
        } else if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(s.points.clone(), 6, 4, style))
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(s.points.clone(), style))
                .map_err(err)?
        }
        .label(s.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(legend)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A chart with a linear y axis (`log_y` false) or a log one (every y must be > 0).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
    legend: SeriesLabelPosition,
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1, mut y0, mut y1) = bounds(series);
    if log_y {
        y0 = y0.max(1e-9) / 1.5;
        y1 *= 1.5;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .y_label_formatter(&|v: &f64| format!("{v:.0e}"))
            .draw()
            .map_err(err)?;
        draw_series(&mut chart, series, legend.clone())?;
    } else {
        let pad = (y1 - y0) * 0.05;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(err)?;
        draw_series(&mut chart, series, legend)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// A heatmap of `counts[row][col]` (white = 0, darkest = the largest count).
pub fn heatmap(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    counts: &[Vec<u64>],
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let rows = counts.len().max(1);
    let cols = counts.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..cols as f64, 0f64..rows as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(err)?;
    let cells = counts.iter().enumerate().flat_map(|(r, row)| {
        row.iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(move |(c, &n)| {
                let t = (n as f64 / max).sqrt();
                let shade = (255.0 * (1.0 - t)) as u8;
                Rectangle::new(
                    [(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)],
                    RGBColor(shade, shade, 255).filled(),
                )
            })
    });
    chart.draw_series(cells).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
