//! The completeness trend as server-rendered SVG: the cataloged share per recorded day, on a
//! 0–100 % scale. Deterministic (same input, same bytes), so it needs no JavaScript and is
//! compared whole in tests.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// `days`: (`YYYY-MM-DD`, found, cataloged), oldest first.
pub fn share(days: &[(String, i64, i64)]) -> String {
    let mut s = String::new();
    let (first, last) = match (days.first(), days.last()) {
        (Some(f), Some(l)) => (f.0.as_str(), l.0.as_str()),
        _ => ("", ""),
    };
    let _ = write!(
        s,
        r#"<svg class="trend completeness-trend" viewBox="0 0 {W} {H}" role="img" aria-labelledby="completeness-trend-title" xmlns="http://www.w3.org/2000/svg"><title id="completeness-trend-title">Share of repositories in the catalog per day from {first} to {last}</title>"#
    );
    let y = |pct: f64| TOP + (1.0 - pct / 100.0) * (H - TOP - BOTTOM);
    for pct in [0.0, 50.0, 100.0] {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{0:.1}" y1="{1:.1}" y2="{1:.1}"/><text class="axis" x="{2:.1}" y="{3:.1}" text-anchor="end">{pct}%</text>"#,
            W - RIGHT,
            y(pct),
            LEFT - 6.0,
            y(pct) + 4.0
        );
    }
    let n = days.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + i as f64 / (n - 1) as f64 * (W - LEFT - RIGHT)
        }
    };
    let points: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, (_, found, cataloged))| {
            let pct = if *found == 0 {
                100.0
            } else {
                *cataloged as f64 * 100.0 / *found as f64
            };
            format!("{:.1},{:.1}", x(i), y(pct))
        })
        .collect();
    if points.len() > 1 {
        let _ = write!(
            s,
            r#"<polyline class="actual" points="{}"/>"#,
            points.join(" ")
        );
    }
    for (p, (day, found, cataloged)) in points.iter().zip(days) {
        let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
        let _ = write!(
            s,
            r#"<circle class="point" cx="{cx}" cy="{cy}" r="3"><title>{day}: {cataloged} of {found}</title></circle>"#
        );
    }
    if n > 0 {
        let _ = write!(
            s,
            r#"<text class="axis" x="{LEFT}" y="{:.1}">{first}</text><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{last}</text>"#,
            H - 8.0,
            W - RIGHT,
            H - 8.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_the_share_per_day_deterministically() {
        let days = vec![
            ("2026-01-01".to_owned(), 10, 5),
            ("2026-01-02".to_owned(), 10, 10),
        ];
        let svg = super::share(&days);
        assert_eq!(svg, super::share(&days));
        // 50 % sits halfway down the plot, 100 % at its top.
        assert!(
            svg.contains(r#"<polyline class="actual" points="40.0,92.0 624.0,12.0"/>"#),
            "{svg}"
        );
        assert!(svg.contains("<title>2026-01-02: 10 of 10</title>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let one = super::share(&days[..1]);
        assert!(
            !one.contains("polyline") && one.contains("<circle"),
            "one day is a point"
        );
    }
}
