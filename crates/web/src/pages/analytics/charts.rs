//! The adoption dashboard's charts as server-rendered SVG: active engineers over time (one line
//! each for DAU, WAU and MAU on the scorecards' axes) and horizontal bars of shares (teams,
//! features) with an optional marker (the chasm at 50 %). Deterministic, like every chart here.

use std::fmt::Write;

use chrono::NaiveDate;
use model::html::escape as esc;

use crate::pages::scorecards::charts::{BOTTOM, H, LEFT, RIGHT, TOP, W, axes};

/// One line per series (label, CSS class, values per day from `first`), on a count scale from
/// zero to the largest value (at least `top`, the population, when given).
pub fn lines(
    title: &str,
    first: NaiveDate,
    series: &[(&str, &str, Vec<usize>)],
    top: Option<usize>,
) -> Option<String> {
    let len = series.iter().map(|s| s.2.len()).max()?;
    if len == 0 {
        return None;
    }
    let last = first + chrono::Days::new(len as u64 - 1);
    let span = ((len - 1) as f64).max(1.0);
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .max()
        .unwrap_or(0)
        .max(top.unwrap_or(0))
        .max(1) as f64;
    let x = |i: usize| LEFT + i as f64 / span * (W - LEFT - RIGHT);
    let y = |n: f64| TOP + (1.0 - n / max) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="trend adoption-lines" viewBox="0 0 {W} {H}" role="img" aria-labelledby="lines-title" xmlns="http://www.w3.org/2000/svg"><title id="lines-title">{} from {first} to {last}</title>"#,
        esc(title)
    );
    let grid: Vec<(f64, String)> = [0.0, (max / 2.0).round(), max]
        .iter()
        .map(|n| (y(*n), format!("{n}")))
        .collect();
    axes(&mut s, &grid, [(x(0), first), (x(len - 1), last)]);
    for (label, class, values) in series {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v as f64)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="line {class}" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            esc(label)
        );
    }
    s.push_str("</svg>");
    Some(s)
}

/// One bar per row (label, share 0–1, CSS class), labelled with its percentage; `marker` draws
/// a dashed vertical line at that share with its label.
pub fn bars(title: &str, rows: &[(String, f64, String)], marker: Option<(f64, &str)>) -> String {
    const ROW: f64 = 22.0;
    const LABEL: f64 = 170.0;
    let h = TOP + ROW * rows.len() as f64 + BOTTOM;
    let x = |share: f64| LABEL + share.clamp(0.0, 1.0) * (W - LABEL - RIGHT - 40.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="hbars" viewBox="0 0 {W} {h}" role="img" aria-labelledby="bars-{0}" xmlns="http://www.w3.org/2000/svg"><title id="bars-{0}">{1}</title>"#,
        title.len(),
        esc(title)
    );
    for (pct, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")] {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{1:.1}"/><text class="axis" x="{0:.1}" y="{2:.1}" text-anchor="{anchor}">{3}%</text>"#,
            x(pct),
            h - BOTTOM,
            h - 12.0,
            (pct * 100.0) as u32
        );
    }
    for (i, (label, share, class)) in rows.iter().enumerate() {
        let top = TOP + ROW * i as f64;
        let _ = write!(
            s,
            r#"<text class="axis bar-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar {class}" x="{LABEL}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {:.0}%</title></rect><text class="axis" x="{:.1}" y="{:.1}">{:.0}%</text>"#,
            LABEL - 8.0,
            top + 15.0,
            esc(label),
            top + 4.0,
            x(*share) - LABEL,
            ROW - 8.0,
            esc(label),
            share * 100.0,
            x(*share) + 4.0,
            top + 15.0,
            share * 100.0
        );
    }
    if let Some((at, label)) = marker {
        let _ = write!(
            s,
            r#"<line class="marker" x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{1:.1}"/><text class="axis marker-label" x="{0:.1}" y="{2:.1}" text-anchor="middle">{3}</text>"#,
            x(at),
            h - BOTTOM,
            TOP - 3.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_share_one_count_scale_from_zero() {
        let d = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let svg = lines(
            "Active",
            d,
            &[
                ("DAU", "level-1", vec![0, 5]),
                ("MAU", "level-3", vec![10, 10]),
            ],
            Some(20),
        )
        .unwrap();
        // Twenty engineers is the top of the scale; 10 sits half way, 0 at the bottom.
        assert!(svg.contains(r#"<polyline class="line level-3" points="44.0,112.0 624.0,112.0"><title>MAU</title>"#), "{svg}");
        assert!(
            svg.contains(r#"<polyline class="line level-1" points="44.0,210.0 624.0,161.0">"#),
            "{svg}"
        );
        assert!(svg.contains(">2026-09-02<"));
        assert!(lines("x", d, &[], None).is_none());
    }

    #[test]
    fn bars_are_as_long_as_their_share_and_escape_labels() {
        let svg = bars(
            "Teams",
            &[("R&D <core>".to_owned(), 0.5, "phase-2".to_owned())],
            Some((0.5, "chasm")),
        );
        assert!(svg.contains("R&amp;D &lt;core&gt;"), "{svg}");
        assert!(
            svg.contains(r#"<rect class="bar phase-2" x="170" y="18.0" width="207.0""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<line class="marker" x1="377.0""#), "{svg}");
    }
}
