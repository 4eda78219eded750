//! Charts as server-rendered SVG: a campaign's burndown (failing entities per day against the
//! ideal line to zero at the deadline) and a scorecard's trend (the share at each level per day).
//! Deterministic (same input, same bytes), so they need no JavaScript and are compared whole in
//! tests.

use std::fmt::Write;

use chrono::NaiveDate;

/// One day's count of failing entities; `demo` marks generated history.
pub struct Point {
    pub day: NaiveDate,
    pub failing: i64,
    pub demo: bool,
}

pub(crate) const W: f64 = 640.0;
pub(crate) const H: f64 = 240.0;
pub(crate) const LEFT: f64 = 44.0;
pub(crate) const RIGHT: f64 = 16.0;
pub(crate) const TOP: f64 = 14.0;
pub(crate) const BOTTOM: f64 = 30.0;

/// The burndown from `start` to the later of `deadline` and `today`. `total` is the height of the
/// scale (everything the campaign covers); the ideal line starts at the first point's count.
pub fn burndown(
    start: NaiveDate,
    deadline: NaiveDate,
    today: NaiveDate,
    total: i64,
    points: &[Point],
) -> String {
    let end = deadline.max(today).max(start + chrono::Days::new(1));
    let span = (end - start).num_days() as f64;
    let top = total
        .max(points.iter().map(|p| p.failing).max().unwrap_or(0))
        .max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - start).num_days() as f64 / span * (W - LEFT - RIGHT);
    let y = |n: i64| TOP + (1.0 - n as f64 / top) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="burndown" viewBox="0 0 {W} {H}" role="img" aria-labelledby="burndown-title" xmlns="http://www.w3.org/2000/svg"><title id="burndown-title">Failing entities per day from {start} to {deadline}</title>"#
    );
    // Horizontal grid with counts: zero, half and the top.
    let grid: Vec<(f64, String)> = [0, (top as i64) / 2, top as i64]
        .iter()
        .map(|n| (y(*n), n.to_string()))
        .collect();
    axes(&mut s, &grid, [(x(start), start), (x(end), end)]);
    let _ = write!(
        s,
        r#"<line class="deadline" x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{1:.1}"/><text class="axis deadline-label" x="{0:.1}" y="{2:.1}" text-anchor="end">deadline</text>"#,
        x(deadline),
        H - BOTTOM,
        TOP + 10.0
    );
    if let Some(first) = points.first() {
        let _ = write!(
            s,
            r#"<line class="ideal" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
            x(start.max(first.day)),
            y(first.failing),
            x(deadline),
            y(0)
        );
    }
    // The measured line, split where generated history gives way to recorded days.
    for demo in [true, false] {
        let line: Vec<String> = points
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                // The recorded line starts where the generated one ends, so the two join.
                p.demo == demo || (!demo && points.get(i + 1).is_some_and(|n| !n.demo))
            })
            .map(|(_, p)| format!("{:.1},{:.1}", x(p.day), y(p.failing)))
            .collect();
        if line.len() > 1 {
            let class = if demo { "actual demo" } else { "actual" };
            let _ = write!(
                s,
                r#"<polyline class="{class}" points="{}"/>"#,
                line.join(" ")
            );
        }
    }
    if let Some(last) = points.last() {
        let _ = write!(
            s,
            r#"<circle class="now" cx="{:.1}" cy="{:.1}" r="4"><title>{}: {} failing</title></circle>"#,
            x(last.day),
            y(last.failing),
            last.day,
            last.failing
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal grid lines with their labels at the left (`(y, label)`), and the first and last
/// dates under the plot (`(x, date)`).
pub(crate) fn axes(s: &mut String, grid: &[(f64, String)], ends: [(f64, NaiveDate); 2]) {
    for (y, label) in grid {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for ((x, date), anchor) in ends.into_iter().zip(["start", "end"]) {
        let _ = write!(
            s,
            r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{date}</text>"#,
            H - 8.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
    }

    #[test]
    fn the_chart_draws_the_ideal_and_the_measured_lines_on_one_scale() {
        let points = vec![
            Point {
                day: day(1),
                failing: 10,
                demo: true,
            },
            Point {
                day: day(2),
                failing: 8,
                demo: true,
            },
            Point {
                day: day(3),
                failing: 5,
                demo: false,
            },
        ];
        let svg = burndown(day(1), day(21), day(3), 10, &points);
        // The ideal line runs from 10 failing at the start to 0 at the deadline (x = the
        // right edge, since the deadline is the end of the scale).
        assert!(
            svg.contains(r#"<line class="ideal" x1="44.0" y1="14.0" x2="624.0" y2="210.0"/>"#),
            "{svg}"
        );
        // Demo days are drawn apart from recorded ones, joined at the last demo day.
        assert!(
            svg.contains(r#"<polyline class="actual demo" points="44.0,14.0 73.0,53.2"/>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<polyline class="actual" points="73.0,53.2 102.0,112.0"/>"#),
            "{svg}"
        );
        assert!(svg.contains("<title>2026-09-03: 5 failing</title>"));
        assert_eq!(
            svg,
            super::burndown(day(1), day(21), day(3), 10, &points),
            "deterministic"
        );
    }

    #[test]
    fn a_campaign_past_its_deadline_extends_the_scale_to_today() {
        let points = vec![
            Point {
                day: day(1),
                failing: 4,
                demo: false,
            },
            Point {
                day: day(30),
                failing: 2,
                demo: false,
            },
        ];
        let svg = burndown(day(1), day(21), day(30), 4, &points);
        // Today (the 30th) is the right edge; the deadline sits at 20/29 of the width.
        assert!(
            svg.contains(r#"x="624.0" y="232.0" text-anchor="end">2026-09-30<"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<line class="deadline" x1="444.0""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<polyline class="actual" points="44.0,14.0 624.0,112.0"/>"#),
            "{svg}"
        );
    }
}

/// A scorecard's trend: per day, the share of entities at each level or above, one line per
/// level (lowest first, so the lines never cross). `days` holds, per day, the share (0–100) for
/// each level.
pub fn trend(levels: &[String], days: &[(NaiveDate, Vec<f64>)]) -> Option<String> {
    let (first, last) = (days.first()?.0, days.last()?.0);
    let span = ((last - first).num_days() as f64).max(1.0);
    let x = |d: NaiveDate| LEFT + (d - first).num_days() as f64 / span * (W - LEFT - RIGHT);
    let y = |p: f64| TOP + (1.0 - p / 100.0) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="trend" viewBox="0 0 {W} {H}" role="img" aria-labelledby="trend-title" xmlns="http://www.w3.org/2000/svg"><title id="trend-title">Share of entities at each level or above, per day from {first} to {last}</title>"#
    );
    let grid: Vec<(f64, String)> = [0.0, 50.0, 100.0]
        .iter()
        .map(|p| (y(*p), format!("{p}%")))
        .collect();
    axes(&mut s, &grid, [(x(first), first), (x(last), last)]);
    for (i, level) in levels.iter().enumerate() {
        let points: Vec<String> = days
            .iter()
            .filter_map(|(d, shares)| Some(format!("{:.1},{:.1}", x(*d), y(*shares.get(i)?))))
            .collect();
        let class = format!("level-{}", (i + 1).min(3));
        if points.len() == 1 {
            let _ = write!(
                s,
                r#"<circle class="line {class}" cx="{}" r="3"><title>{level}</title></circle>"#,
                points[0].replace(',', "\" cy=\"")
            );
        } else {
            let _ = write!(
                s,
                r#"<polyline class="line {class}" points="{}"><title>{level}</title></polyline>"#,
                points.join(" ")
            );
        }
    }
    s.push_str("</svg>");
    Some(s)
}

#[cfg(test)]
mod trend_tests {
    use super::*;

    #[test]
    fn the_trend_draws_a_line_per_level_on_a_percent_scale() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 9, n).unwrap();
        let levels = vec!["bronze".to_owned(), "silver".to_owned()];
        let svg = trend(
            &levels,
            &[(d(1), vec![50.0, 0.0]), (d(11), vec![100.0, 25.0])],
        )
        .unwrap();
        assert!(svg.contains(r#"<polyline class="line level-1" points="44.0,112.0 624.0,14.0"><title>bronze</title>"#), "{svg}");
        assert!(svg.contains(r#"<polyline class="line level-2" points="44.0,210.0 624.0,161.0"><title>silver</title>"#), "{svg}");
        assert!(trend(&levels, &[]).is_none());
        let one = trend(&levels, &[(d(1), vec![50.0, 0.0])]).unwrap();
        assert!(
            one.contains(r#"<circle class="line level-1" cx="44.0" cy="112.0" r="3">"#),
            "{one}"
        );
    }
}
