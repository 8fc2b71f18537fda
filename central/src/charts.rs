//! The dashboard's charts, drawn on the server as SVG with plotters.
//!
//! Pure: labels and values in, an SVG document out. Text is written as SVG `<text>` in a generic
//! `sans-serif` family that the browser resolves, so no font file is needed to build or to run
//! (plotters is built without its `ttf` feature and only estimates text widths for layout).

use std::error::Error;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH_PX: u32 = 760;
const HEIGHT_PX: u32 = 320;
/// More x labels than this overlap at the chart's width.
const X_LABELS_MAX: usize = 16;
/// The band above the plot for the title and the legend.
const HEADER_PX: u32 = 52;
/// An estimate of the width of one character of legend text, for laying the legend out.
const LEGEND_CHAR_PX: i32 = 7;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x33, 0x3d, 0x4a);
const MUTED: RGBColor = RGBColor(0x4a, 0x58, 0x68);
const GRID: RGBColor = RGBColor(0xe3, 0xe7, 0xed);

pub const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
pub const ORANGE: RGBColor = RGBColor(0xd9, 0x82, 0x2b);
pub const SLATE: RGBColor = RGBColor(0x9a, 0xa7, 0xb8);
pub const GREEN: RGBColor = RGBColor(0x2e, 0x8b, 0x57);

/// One line or one kind of bar; `None` where there is no value (a gap, not a zero).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub values: Vec<Option<f64>>,
}

/// What a chart shows: a title, the unit of the y axis and one label per x position.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    /// What and when, under the title: the office and the period.
    pub subtitle: String,
    pub y_label: String,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    /// Said in the middle of the chart when no series has a value.
    pub empty_text: String,
    /// Counts: the y axis shows whole numbers only.
    pub whole_numbers: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

impl Chart {
    /// Each series as a line through its values, with a dot on each.
    pub fn lines(&self) -> Result<String, ChartError> {
        self.render(Style::Lines)
    }

    /// The series side by side as bars at each x position.
    pub fn bars(&self) -> Result<String, ChartError> {
        self.render(Style::Bars)
    }

    fn render(&self, style: Style) -> Result<String, ChartError> {
        let mut svg = String::new();
        self.draw(&mut svg, style).map_err(|error| ChartError(error.to_string()))?;
        Ok(svg)
    }

    fn draw(&self, svg: &mut String, style: Style) -> Result<(), Box<dyn Error>> {
        let root = SVGBackend::with_string(svg, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        root.fill(&WHITE)?;
        // Title and legend get a band of their own, so the legend never hides a line or bar.
        let (header, body) = root.split_vertically(HEADER_PX);
        self.draw_header(&header)?;

        let positions = self.x_labels.len().max(1);
        let values = || self.series.iter().flat_map(|s| s.values.iter().flatten().copied());
        let highest = values().fold(0.0_f64, f64::max);
        let floor = if self.whole_numbers { 5.0 } else { 1.0 };
        let y_max = (highest * 1.15).max(floor);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(12)
            .margin_right(18)
            .margin_bottom(6)
            .x_label_area_size(30)
            .y_label_area_size(58)
            .build_cartesian_2d(-0.5_f64..positions as f64 - 0.5, 0.0_f64..y_max)?;
        let x_label = |x: &f64| -> String {
            // Only whole positions carry a label; plotters may ask for halves.
            let index = x.round();
            if (x - index).abs() > 1e-6 || index < 0.0 {
                return String::new();
            }
            self.x_labels.get(index as usize).cloned().unwrap_or_default()
        };
        let y_label = |y: &f64| match (self.whole_numbers, y_max <= 5.0) {
            (true, _) if (y - y.round()).abs() > 1e-6 => String::new(),
            (false, true) => format!("{y:.1}"),
            _ => format!("{y:.0}"),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(positions.min(X_LABELS_MAX))
            .x_label_formatter(&x_label)
            .y_labels(6)
            .y_label_formatter(&y_label)
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 12).into_font().color(&INK))
            .axis_desc_style((FONT, 13).into_font().color(&INK))
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .axis_style(SLATE)
            .draw()?;

        let count = self.series.len().max(1) as f64;
        for (k, series) in self.series.iter().enumerate() {
            let color = series.color;
            let points: Vec<(f64, f64)> =
                series.values.iter().enumerate().filter_map(|(x, v)| v.map(|v| (x as f64, v))).collect();
            match style {
                Style::Lines => {
                    // A gap in the values breaks the line rather than drawing through it.
                    for run in runs(&series.values) {
                        chart.draw_series(LineSeries::new(run, color.stroke_width(2)))?;
                    }
                    chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                }
                Style::Bars => {
                    let width = 0.8 / count;
                    chart.draw_series(points.iter().map(|&(x, v)| {
                        let left = x - 0.4 + width * k as f64;
                        Rectangle::new([(left, 0.0), (left + width * 0.92, v)], color.filled())
                    }))?;
                }
            }
        }
        if values().next().is_none() {
            let (width, height) = body.dim_in_pixel();
            let center = ((width / 2) as i32, (height / 2) as i32);
            let text = (FONT, 15).into_font().color(&SLATE).pos(Pos::new(HPos::Center, VPos::Center));
            body.draw(&Text::new(self.empty_text.as_str(), center, text))?;
        }
        root.present()?;
        Ok(())
    }

    /// The title and subtitle on the left and a swatch per series on the right.
    fn draw_header<DB: DrawingBackend>(
        &self,
        header: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn Error>>
    where
        DB::ErrorType: 'static,
    {
        let middle = 16;
        let left = (FONT, 16).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        header.draw(&Text::new(self.title.as_str(), (14, middle), left))?;
        let below = (FONT, 12).into_font().color(&MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        header.draw(&Text::new(self.subtitle.as_str(), (14, middle + 20), below))?;
        let label = (FONT, 12).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        // Laid out from the right edge; plotters cannot measure text here, so widths are estimated.
        let mut x = WIDTH_PX as i32 - 16;
        for series in self.series.iter().rev() {
            x -= series.name.chars().count() as i32 * LEGEND_CHAR_PX + 20;
            header.draw(&Rectangle::new([(x, middle - 6), (x + 12, middle + 6)], series.color.filled()))?;
            header.draw(&Text::new(series.name.as_str(), (x + 17, middle), label.clone()))?;
            x -= 16;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Lines,
    Bars,
}

/// The runs of consecutive values, as points.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for (x, value) in values.iter().enumerate() {
        match value {
            Some(v) => runs.last_mut().map_or((), |run| run.push((x as f64, *v))),
            None if runs.last().is_some_and(|run| !run.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Option<f64>>) -> Chart {
        Chart {
            title: "Espera por hora".into(),
            subtitle: "Oficina Centro, 29/11/2026".into(),
            y_label: "minutos".into(),
            x_labels: (0..values.len()).map(|h| format!("{h:02}h")).collect(),
            series: vec![Series { name: "p50 <&>".into(), color: BLUE, values }],
            empty_text: "Sin datos".into(),
            whole_numbers: false,
        }
    }

    #[test]
    fn lines_and_bars_are_svg_with_their_labels_escaped() {
        let chart = chart(vec![Some(3.0), None, Some(5.5), Some(1.0)]);
        for svg in [chart.lines().expect("lines"), chart.bars().expect("bars")] {
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.contains("Espera por hora"));
            assert!(svg.contains("p50 &lt;&amp;&gt;"), "legend text is escaped");
            assert!(svg.contains("font-family=\"sans-serif\""));
            assert!(!svg.contains("Sin datos"));
        }
    }

    #[test]
    fn a_chart_without_values_says_so() {
        let svg = chart(vec![None, None]).lines().expect("lines");
        assert!(svg.contains("Sin datos"), "{svg}");
        let svg = chart(Vec::new()).bars().expect("bars");
        assert!(svg.contains("Sin datos"), "{svg}");
    }

    #[test]
    fn gaps_break_lines() {
        let runs = runs(&[Some(1.0), None, None, Some(2.0), Some(3.0), None]);
        assert_eq!(runs, vec![vec![(0.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
    }
}
