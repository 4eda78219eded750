//! The relations graph: an entity and its direct neighbours laid out in three columns and
//! rendered as inline SVG on the server, so it needs no JavaScript, every node is a real link,
//! and its size is bounded however many relations an entity has.
//!
//! Left: what the entity belongs to or is used by (owner, system, parent, dependents,
//! consumers). Right: what it uses or contains. Each side shows at most [`MAX_PER_SIDE`] nodes
//! and says how many more there are.

use model::relations as rel;

pub const WIDTH: u32 = 880;
pub const NODE_W: u32 = 220;
pub const NODE_H: u32 = 44;
const ROW: u32 = 56;
const PAD: u32 = 16;
/// Nodes shown per side before the rest are summarised.
pub const MAX_PER_SIDE: usize = 10;
/// Characters of a label that fit a node.
const LABEL_CHARS: usize = 26;

/// Relations drawn on the left: the entity points "up" or is depended upon.
const LEFT: [&str; 7] = [
    rel::OWNED_BY,
    rel::PART_OF,
    rel::CHILD_OF,
    rel::MEMBER_OF,
    rel::DEPENDENCY_OF,
    rel::API_CONSUMED_BY,
    rel::API_PROVIDED_BY,
];

/// A neighbour before layout.
#[derive(Debug, Clone)]
pub struct Neighbour {
    pub relation: String,
    pub label: String,
    pub kind: String,
    pub full: String,
    /// `None` when the target is not in the catalog.
    pub href: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub x: u32,
    pub y: u32,
    pub label: String,
    pub kind: String,
    pub full: String,
    pub href: Option<String>,
    /// Text x position (inside the node).
    pub tx: u32,
    pub ty: u32,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub x1: u32,
    pub y1: u32,
    pub x2: u32,
    pub y2: u32,
    pub label: String,
    pub lx: u32,
    pub ly: u32,
    /// `start` or `end`: edge labels sit next to the neighbour's node.
    pub anchor: &'static str,
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub width: u32,
    pub height: u32,
    pub center: Node,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// (x, y, text) notes such as "+12 more".
    pub notes: Vec<(u32, u32, String)>,
}

fn cut(s: &str) -> String {
    crate::pages::view::truncate(s, LABEL_CHARS)
}

/// Lays out `center` and its neighbours. Neighbours reached by several relations become one
/// node whose edge names them all. Deterministic: the same input gives the same picture.
#[cfg(test)]
pub fn layout(
    center_label: &str,
    center_kind: &str,
    center_full: &str,
    neighbours: Vec<Neighbour>,
) -> Graph {
    layout_with_hidden(center_label, center_kind, center_full, neighbours, [0, 0])
}

/// Whether a relation is drawn on the left.
pub fn on_left(relation: &str) -> bool {
    LEFT.contains(&relation)
}

/// [`layout`], when the caller already dropped `hidden` = [left, right] neighbours it will
/// not show (so it need not resolve every relation of an entity with hundreds).
pub fn layout_with_hidden(
    center_label: &str,
    center_kind: &str,
    center_full: &str,
    neighbours: Vec<Neighbour>,
    hidden: [usize; 2],
) -> Graph {
    // Merge by target, keeping first-seen relation order per target.
    let mut merged: Vec<(Neighbour, Vec<String>)> = Vec::new();
    for n in neighbours {
        match merged.iter_mut().find(|(m, _)| m.full == n.full) {
            Some((_, rels)) => {
                if !rels.contains(&n.relation) {
                    rels.push(n.relation.clone())
                }
            }
            None => {
                let r = n.relation.clone();
                merged.push((n, vec![r]));
            }
        }
    }
    let (mut left, mut right): (Vec<_>, Vec<_>) = merged
        .into_iter()
        .partition(|(n, _)| LEFT.contains(&n.relation.as_str()));
    let key = |(n, _): &(Neighbour, Vec<String>)| (n.relation.clone(), n.label.to_lowercase());
    left.sort_by_key(key);
    right.sort_by_key(key);
    let more_left = left.len().saturating_sub(MAX_PER_SIDE) + hidden[0];
    let more_right = right.len().saturating_sub(MAX_PER_SIDE) + hidden[1];
    left.truncate(MAX_PER_SIDE);
    right.truncate(MAX_PER_SIDE);

    let rows = left.len().max(right.len()).max(1) as u32;
    let notes_row = u32::from(more_left > 0 || more_right > 0);
    let height = PAD * 2 + rows * ROW - (ROW - NODE_H) + notes_row * 24;
    let body_h = rows * ROW - (ROW - NODE_H);
    let cx = (WIDTH - NODE_W) / 2;
    let cy = PAD + (body_h - NODE_H) / 2;
    let center = Node {
        x: cx,
        y: cy,
        label: cut(center_label),
        kind: center_kind.to_owned(),
        full: center_full.to_owned(),
        href: None,
        tx: cx + 14,
        ty: cy + 28,
    };

    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut place = |side: &[(Neighbour, Vec<String>)], x: u32, on_left: bool| {
        let count = side.len() as u32;
        // Centre a short column against the taller one.
        let top = PAD + (body_h - (count.max(1) * ROW - (ROW - NODE_H))) / 2;
        for (i, (n, rels)) in side.iter().enumerate() {
            let y = top + i as u32 * ROW;
            nodes.push(Node {
                x,
                y,
                label: cut(&n.label),
                kind: n.kind.clone(),
                full: n.full.clone(),
                href: n.href.clone(),
                tx: x + 14,
                ty: y + 28,
            });
            let (x1, x2) = if on_left {
                (x + NODE_W, cx)
            } else {
                (cx + NODE_W, x)
            };
            edges.push(Edge {
                x1,
                y1: y + NODE_H / 2,
                x2,
                y2: cy + NODE_H / 2,
                label: rels.join(", "),
                lx: if on_left { x1 + 6 } else { x2 - 6 },
                ly: y + NODE_H / 2 - 6,
                anchor: if on_left { "start" } else { "end" },
            });
        }
    };
    place(&left, PAD, true);
    place(&right, WIDTH - PAD - NODE_W, false);
    // Right-hand edges were built from the centre out; make every line start at its neighbour.
    for e in edges.iter_mut().filter(|e| e.anchor == "end") {
        std::mem::swap(&mut e.x1, &mut e.x2);
        std::mem::swap(&mut e.y1, &mut e.y2);
    }
    let mut notes = Vec::new();
    let ny = height - PAD + 2;
    if more_left > 0 {
        notes.push((PAD, ny, format!("+{more_left} more")));
    }
    if more_right > 0 {
        notes.push((WIDTH - PAD - NODE_W, ny, format!("+{more_right} more")));
    }
    Graph {
        width: WIDTH,
        height,
        center,
        nodes,
        edges,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(relation: &str, name: &str) -> Neighbour {
        Neighbour {
            relation: relation.into(),
            label: name.into(),
            kind: "component".into(),
            full: format!("component:default/{name}"),
            href: Some(format!("/catalog/default/component/{name}")),
        }
    }

    #[test]
    fn graph_stays_inside_its_box_however_many_neighbours() {
        for count in [0usize, 1, 3, 10, 11, 250] {
            let mut ns: Vec<Neighbour> = (0..count)
                .map(|i| n(rel::DEPENDS_ON, &format!("d{i}")))
                .collect();
            ns.extend((0..count).map(|i| n(rel::DEPENDENCY_OF, &format!("u{i}"))));
            let g = layout("me", "component", "component:default/me", ns);
            assert!(
                g.nodes.len() <= 2 * MAX_PER_SIDE,
                "{count}: {} nodes",
                g.nodes.len()
            );
            assert_eq!(g.nodes.len(), 2 * count.min(MAX_PER_SIDE));
            assert_eq!(g.edges.len(), g.nodes.len());
            assert!(g.height <= 2 * PAD + MAX_PER_SIDE as u32 * ROW + 24);
            for node in g.nodes.iter().chain([&g.center]) {
                assert!(
                    node.x + NODE_W <= g.width && node.y + NODE_H <= g.height,
                    "{count}: {node:?}"
                );
            }
            for e in &g.edges {
                assert!(e.x1.max(e.x2) <= g.width && e.y1.max(e.y2) <= g.height);
            }
            for (x, y, _) in &g.notes {
                assert!(*x < g.width && *y <= g.height);
            }
            assert_eq!(g.notes.len(), if count > MAX_PER_SIDE { 2 } else { 0 });
            if count > MAX_PER_SIDE {
                assert_eq!(g.notes[0].2, format!("+{} more", count - MAX_PER_SIDE));
            }
        }
    }

    #[test]
    fn one_node_per_target_with_every_relation_named() {
        let g = layout(
            "me",
            "component",
            "component:default/me",
            vec![
                n(rel::DEPENDS_ON, "db"),
                n(rel::CONSUMES_API, "db"),
                n(rel::OWNED_BY, "team"),
            ],
        );
        assert_eq!(g.nodes.len(), 2);
        let db = g
            .edges
            .iter()
            .find(|e| e.label.contains("dependsOn"))
            .unwrap();
        assert_eq!(db.label, "dependsOn, consumesApi");
        // Owner on the left, dependency on the right.
        let team = g.nodes.iter().find(|x| x.label == "team").unwrap();
        let dbn = g.nodes.iter().find(|x| x.label == "db").unwrap();
        assert!(team.x < g.center.x && dbn.x > g.center.x);
    }

    #[test]
    fn long_labels_are_cut_to_fit() {
        let g = layout(
            "a-very-long-entity-name-that-goes-on-and-on",
            "component",
            "x",
            vec![],
        );
        assert!(g.center.label.chars().count() <= LABEL_CHARS);
        assert!(g.center.label.ends_with('…'));
    }
}
