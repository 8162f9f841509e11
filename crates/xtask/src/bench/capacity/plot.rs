//! The capacity plot as a self-contained SVG: replies per second achieved (left) and the
//! reply's p99 latency (right) against the offered rate, one line per code measured.

use std::fmt::Write;

use super::Series;

const PANEL_WIDTH: f64 = 420.0;
const PANEL_HEIGHT: f64 = 300.0;
const MARGIN: f64 = 60.0;
const COLOURS: [&str; 2] = ["#1f6fb4", "#d9730d"];
const DASHES: [&str; 2] = ["", "6 4"];

/// One panel: where it sits and what its axes mean.
struct Panel {
    left: f64,
    title: &'static str,
    y_label: &'static str,
    y_max: f64,
    x_max: f64,
}

impl Panel {
    fn x(&self, v: f64) -> f64 {
        self.left + MARGIN + v / self.x_max * (PANEL_WIDTH - MARGIN - 20.0)
    }

    fn y(&self, v: f64) -> f64 {
        30.0 + (1.0 - v / self.y_max) * (PANEL_HEIGHT - 30.0 - MARGIN)
    }

    fn axes(&self, svg: &mut String) {
        let (x0, x1, y0, y1) = (self.x(0.0), self.x(self.x_max), self.y(0.0), self.y(self.y_max));
        let _ = write!(
            svg,
            r##"<text x="{:.0}" y="18" font-weight="bold">{}</text><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="#444"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x0:.1}" y2="{y1:.1}" stroke="#444"/>"##,
            self.left + MARGIN,
            self.title
        );
        for i in 0..=4 {
            let (xv, yv) = (self.x_max * f64::from(i) / 4.0, self.y_max * f64::from(i) / 4.0);
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{xv:.0}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{yv:.0}</text><line x1="{x0:.1}" y1="{:.1}" x2="{x1:.1}" y2="{:.1}" stroke="#ddd"/>"##,
                self.x(xv),
                y0 + 16.0,
                x0 - 6.0,
                self.y(yv) + 4.0,
                self.y(yv),
                self.y(yv)
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">offered, messages/s</text><text transform="translate({:.1} {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
            (x0 + x1) / 2.0,
            y0 + 36.0,
            self.left + 14.0,
            (y0 + y1) / 2.0,
            self.y_label
        );
    }

    fn line(&self, svg: &mut String, points: &[(f64, f64)], colour: &str, dash: &str) {
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.x(x), self.y(y.min(self.y_max))))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"##,
            path.join(" ")
        );
        for &(x, y) in points {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"##,
                self.x(x),
                self.y(y.min(self.y_max))
            );
        }
    }
}

/// The SVG document for `series` (at most two are told apart by colour and dash).
pub fn draw(series: &[Series]) -> String {
    let steps = || series.iter().flat_map(|s| &s.steps);
    let x_max = nice(steps().map(|s| f64::from(s.offered)).fold(1.0, f64::max));
    let p99_ms = |s: &super::Step| s.latency_us.value_at_quantile(0.99) as f64 / 1000.0;
    let throughput =
        Panel { left: 0.0, title: "replies per second", y_label: "replies/s", y_max: x_max, x_max };
    let latency = Panel {
        left: PANEL_WIDTH,
        title: "reply latency p99",
        y_label: "ms",
        y_max: nice(steps().map(p99_ms).fold(1.0, f64::max)),
        x_max,
    };
    let width = 2.0 * PANEL_WIDTH;
    let height = PANEL_HEIGHT + 20.0 * series.len() as f64;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>"##
    );
    throughput.axes(&mut svg);
    latency.axes(&mut svg);
    throughput.line(&mut svg, &[(0.0, 0.0), (x_max, x_max)], "#bbb", "2 3");
    for (i, s) in series.iter().enumerate() {
        let (colour, dash) = (COLOURS[i % 2], DASHES[i % 2]);
        let achieved: Vec<(f64, f64)> =
            s.steps.iter().map(|p| (f64::from(p.offered), p.replies_per_second)).collect();
        let p99: Vec<(f64, f64)> = s.steps.iter().map(|p| (f64::from(p.offered), p99_ms(p))).collect();
        throughput.line(&mut svg, &achieved, colour, dash);
        latency.line(&mut svg, &p99, colour, dash);
        let y = PANEL_HEIGHT + 20.0 * i as f64;
        let _ = write!(
            svg,
            r##"<line x1="{MARGIN}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.0}" y="{:.0}">{}</text>"##,
            y - 4.0,
            MARGIN + 30.0,
            y - 4.0,
            MARGIN + 38.0,
            y,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `v`.
fn nice(v: f64) -> f64 {
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|&n| n >= v).unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn axes_end_on_round_numbers_at_or_above_the_largest_value() {
        for (v, nice) in [(1500.0, 2000.0), (1000.0, 1000.0), (230.0, 250.0), (41.1, 50.0), (7.0, 10.0)] {
            assert_eq!(super::nice(v), nice, "{v}");
        }
    }
}
