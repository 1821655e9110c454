//! SVG charts for the report (plotters' SVG backend: pure Rust, no fonts or system libraries;
//! text is left to the browser). Each function returns the SVG document as a string.

use plotters::coord::Shift;
use plotters::prelude::*;

const W: u32 = 720;
const H: u32 = 420;
/// Observed data, model, third series.
pub const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(120, 120, 120),
];

type Res = Result<String, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw the chart: {e:?}")
}

fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>) -> Res {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo.min(0.0), hi + pad)
}

/// An axis value as people write it: whole numbers without ".0" (counts are counts), others
/// with at most three significant decimals.
pub fn axis_number(v: &f64) -> String {
    let v = *v;
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        return format!("{:.0}", v.round());
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let t = format!("{v:.digits$}");
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    }
}

/// Lines over a shared x axis; `marker` draws a dashed vertical line (e.g. the calibration end);
/// `x_text` writes the x values (e.g. as calendar dates), else [`axis_number`].
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
    marker: Option<(f64, &str)>,
    x_text: Option<&dyn Fn(f64) -> String>,
) -> Res {
    let (x0, x1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let x_fmt = |x: &f64| match x_text {
            Some(f) => f(*x),
            None => axis_number(x),
        };
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&axis_number)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if let Some((x, label)) = marker {
            let style = BLACK.mix(0.5).stroke_width(1);
            let n = 30;
            for k in (0..n).step_by(2) {
                let a = y0 + (y1 - y0) * k as f64 / n as f64;
                let b = y0 + (y1 - y0) * (k + 1) as f64 / n as f64;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, a), (x, b)],
                        style,
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    label.to_string(),
                    (x, y1 - (y1 - y0) * 0.02),
                    ("sans-serif", 13),
                )))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// Grouped bars: one group per label (centred on its index), one bar per series; headroom
/// above the tallest bar keeps the legend clear of the data.
pub fn bars(
    title: &str,
    x_label: &str,
    y_label: &str,
    labels: &[String],
    series: &[(&str, &[f64])],
) -> Res {
    let k = series.len().max(1);
    let (_, y1) = range(series.iter().flat_map(|s| s.1.iter().copied()));
    let n = labels.len();
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..y1 * 1.3)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(n + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&axis_number)
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let width = 0.8 / k as f64;
        for (j, (name, values)) in series.iter().enumerate() {
            let c = COLORS[j % COLORS.len()];
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let x = i as f64 - 0.4 + j as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width * 0.95, *v)], c.filled())
                }))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// A histogram of money `values` on a log scale: a bar for the customers worth nothing
/// (below one hundredth of a `currency` unit), then four bins per decade up to the largest
/// value, each labelled with its lower bound in `currency` (e.g. "$", "EUR").
pub fn log_histogram(title: &str, x_label: &str, values: &[f64], currency: &str) -> Res {
    const FLOOR: f64 = 0.01;
    const PER_DECADE: f64 = 4.0;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let zero = finite.iter().filter(|&&v| v < FLOOR).count() as f64;
    let positive: Vec<f64> = finite.iter().copied().filter(|&v| v >= FLOOR).collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    let (mut labels, mut counts) = (vec![format!("< {currency}0.01")], vec![zero]);
    if !positive.is_empty() {
        let start = (lo.log10() * PER_DECADE).floor() as i64;
        let end = (hi.log10() * PER_DECADE).floor() as i64;
        let bins = (end - start + 1) as usize;
        let mut c = vec![0.0; bins];
        for v in &positive {
            let b = ((v.log10() * PER_DECADE).floor() as i64 - start).clamp(0, bins as i64 - 1);
            c[b as usize] += 1.0;
        }
        for b in 0..bins {
            let edge = 10f64.powf((start + b as i64) as f64 / PER_DECADE);
            labels.push(format!("{currency}{}", money_label(edge)));
        }
        counts.extend(c);
    }
    bars(
        title,
        x_label,
        "customers",
        &labels,
        &[("customers", &counts)],
    )
}

/// A bin edge rounded to two significant digits: 0.018, 1, 1.8, 18, 180, 1.8k, 18k, 1.8M.
fn money_label(v: f64) -> String {
    let two = |x: f64| {
        let mag = 10f64.powi(x.log10().floor() as i32 - 1);
        axis_number(&((x / mag).round() * mag))
    };
    if v >= 1e6 {
        format!("{}M", two(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", two(v / 1e3))
    } else {
        two(v)
    }
}

/// Impossible cells of a matrix (a history no customer can have): grey, unlike any value.
const IMPOSSIBLE: RGBColor = RGBColor(190, 190, 190);

/// A heat map of a (frequency × recency) matrix; `None` cells (impossible histories) are grey,
/// apart from the white-to-blue scale of the values, and the legend says so.
pub fn heatmap(title: &str, m: &clv::diagnostics::PropertyMatrix) -> Res {
    let nx = m.recencies.len();
    let ny = m.frequencies.len();
    let hi = m
        .values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1e-12);
    svg(|root| {
        let (area, legend) = root.split_horizontally(W - 90);
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..m.age, 0f64..ny as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("recency t_x (age T = {})", axis_number(&m.age)))
            .y_desc("frequency x")
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .disable_mesh()
            .draw()
            .map_err(err)?;
        let dx = m.age / (nx - 1).max(1) as f64;
        let cells = m.values.iter().enumerate().flat_map(|(i, row)| {
            row.iter().enumerate().map(move |(j, v)| {
                let x = (m.recencies[j] - dx / 2.0).max(0.0);
                let x2 = (m.recencies[j] + dx / 2.0).min(m.age);
                let fill = match v {
                    Some(v) => color(v / hi),
                    None => IMPOSSIBLE,
                };
                Rectangle::new([(x, i as f64), (x2, i as f64 + 1.0)], fill.filled())
            })
        });
        chart.draw_series(cells).map_err(err)?;
        // colour scale
        let steps = 20;
        for s in 0..steps {
            let f = s as f64 / (steps - 1) as f64;
            let y = 60 + (steps - 1 - s) * 14;
            legend
                .draw(&Rectangle::new([(10, y), (30, y + 14)], color(f).filled()))
                .map_err(err)?;
        }
        legend
            .draw(&Text::new(format!("{hi:.3}"), (34, 60), ("sans-serif", 12)))
            .map_err(err)?;
        legend
            .draw(&Text::new(
                "0",
                (34, 60 + (steps - 1) * 14),
                ("sans-serif", 12),
            ))
            .map_err(err)?;
        let y = 60 + (steps + 1) * 14;
        legend
            .draw(&Rectangle::new(
                [(10, y), (30, y + 14)],
                IMPOSSIBLE.filled(),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new("impossible", (34, y + 2), ("sans-serif", 12)))
            .map_err(err)?;
        Ok(())
    })
}

/// White → dark blue.
fn color(f: f64) -> RGBColor {
    let f = f.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
}
