//! `strata bench --chart FILE.svg`: a horizontal bar chart, one group per workload, of the
//! measured CMK time overhead beside the published RU surcharge and the target (half of it).
//! Drawn with plotters' SVG backend; it must not measure anything or read the report back.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{CliError, CliResult};

/// One workload's group of bars, in percent.
pub(super) struct Bar {
    pub workload: String,
    /// Measured CMK time overhead: SMK ops/s over CMK ops/s, minus 1.
    pub measured: f64,
    /// The published RU surcharge of the workload's kind.
    pub published: f64,
}

const WIDTH: u32 = 960;
/// Pixels per workload group, and around the plot (title, axis, legend).
const GROUP: u32 = 54;
const MARGIN: u32 = 130;
/// Pixels of the legend strip under the plot.
const LEGEND: u32 = 30;
const MEASURED: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PUBLISHED: RGBColor = RGBColor(0x99, 0x99, 0x99);
const TARGET: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
/// Each group's bars, top to bottom: label, colour, offset from the group's centre, value.
type Series = (&'static str, RGBColor, f64, fn(&Bar) -> f64);
const SERIES: [Series; 3] = [
    ("measured time overhead", MEASURED, 0.27, |b| b.measured),
    ("published RU surcharge", PUBLISHED, 0.0, |b| b.published),
    ("target: half the published", TARGET, -0.27, |b| b.published / 2.0),
];

/// Writes the chart of `bars` (in the order given, top to bottom) to `path`; `caption` is its
/// title.
pub(super) fn write_svg(path: &Path, caption: &str, bars: &[Bar]) -> CliResult<()> {
    let err = |e: &dyn std::fmt::Display| CliError::internal(format!("cannot draw {} ({e})", path.display()));
    let n = bars.len().max(1);
    let height = MARGIN + GROUP * n as u32;
    let (lo, hi) = x_range(bars);
    let root = SVGBackend::new(path, (WIDTH, height + LEGEND)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (plot, legend) = root.split_vertically(height);
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(120)
        .build_cartesian_2d(lo..hi, -0.5..(n as f64 - 0.5))
        .map_err(|e| err(&e))?;
    // Workload i is drawn at y = n - 1 - i, so the first is at the top.
    let name_at = |y: &f64| {
        let i = n as f64 - 1.0 - y.round();
        let exact = (y - y.round()).abs() < 1e-6;
        match bars.get(i as usize) {
            Some(b) if exact && i >= 0.0 => b.workload.clone(),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&name_at)
        .x_label_formatter(&|x| format!("{x:.0}%"))
        .x_desc("CMK over SMK, percent")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| err(&e))?;
    for (_, color, offset, value) in SERIES {
        let rects = bars.iter().enumerate().map(move |(i, b)| {
            let y = (n - 1 - i) as f64 + offset;
            Rectangle::new([(0.0, y - 0.12), (value(b), y + 0.12)], color.filled())
        });
        chart.draw_series(rects).map_err(|e| err(&e))?;
    }
    // The measured value, right of its bar (or of zero when it is negative).
    let pad = (hi - lo) * 0.005;
    let values = bars.iter().enumerate().map(|(i, b)| {
        let y = (n - 1 - i) as f64 + SERIES[0].2 + 0.12;
        Text::new(
            format!("{:+.1}%", b.measured),
            (b.measured.max(0.0) + pad, y),
            ("sans-serif", 12),
        )
    });
    chart.draw_series(values).map_err(|e| err(&e))?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.stroke_width(1),
        )))
        .map_err(|e| err(&e))?;
    // The legend, in its own strip under the plot so it never covers a bar.
    for (k, (label, color, _, _)) in SERIES.iter().enumerate() {
        let x = 140 + 260 * k as i32;
        legend
            .draw(&Rectangle::new([(x, 8), (x + 14, 20)], color.filled()))
            .map_err(|e| err(&e))?;
        legend
            .draw(&Text::new(*label, (x + 20, 7), ("sans-serif", 13)))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The x axis: zero, every bar and a little room on both sides.
fn x_range(bars: &[Bar]) -> (f64, f64) {
    let values = bars
        .iter()
        .flat_map(|b| [b.measured, b.published])
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.1).max(1.0);
    (lo - if lo < 0.0 { pad } else { 0.0 }, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` is one well-formed `<svg>` document: every element closed in order.
    fn well_formed_svg(text: &str) -> bool {
        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                return false;
            };
            let tag = &rest[open + 1..open + close];
            rest = &rest[open + close + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name.trim()) {
                    return false;
                }
                continue;
            }
            let name: String = tag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if stack.is_empty() {
                roots += 1;
                if name != "svg" {
                    return false;
                }
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        stack.is_empty() && roots == 1
    }

    /// The trimmed contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim())
            })
            .collect()
    }

    #[test]
    fn the_chart_is_an_svg_naming_every_workload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chart.svg");
        let bars: Vec<Bar> = [
            ("load", 1.3, 6.0),
            ("write-t4", -8.0, 6.0),
            ("read-cold", 12.5, 5.0),
        ]
        .iter()
        .map(|(w, m, p)| Bar {
            workload: w.to_string(),
            measured: *m,
            published: *p,
        })
        .collect();
        write_svg(&path, "CMK overhead", &bars).expect("chart written");
        let text = std::fs::read_to_string(&path).expect("chart file");
        assert!(well_formed_svg(&text), "{text}");
        let labels = texts(&text);
        for b in &bars {
            assert!(
                labels.contains(&b.workload.as_str()),
                "{} missing from {labels:?}",
                b.workload
            );
        }
        assert!(labels.contains(&"published RU surcharge"), "{labels:?}");
    }

    #[test]
    fn the_checker_refuses_broken_documents() {
        assert!(well_formed_svg("<svg a=\"1\"><g><rect/></g></svg>"));
        assert!(!well_formed_svg("<svg><g></svg>"));
        assert!(!well_formed_svg("<html></html>"));
    }

    #[test]
    fn the_axis_holds_zero_and_every_bar() {
        let bars = [Bar {
            workload: "x".into(),
            measured: -20.0,
            published: 15.0,
        }];
        let (lo, hi) = x_range(&bars);
        assert!(lo < -20.0 && hi > 15.0);
    }
}
