//! The frame every page shares: title, navigation, the signed-in person and asset URLs.

use catalog::read::Snapshot;

use super::assets;
use super::view::{self, RefLink};
use crate::auth::Identity;

/// The signed-in person as the header shows them.
pub struct Me {
    pub name: String,
    pub initials: String,
    pub link: RefLink,
}

pub struct Layout {
    pub title: String,
    /// Which navigation entry is current: `home`, `catalog`, `ownership`, `scorecards`,
    /// `completeness`, `docs`, `create` or empty.
    pub nav: &'static str,
    pub me: Option<Me>,
    pub css: String,
    pub htmx: String,
}

impl Layout {
    pub fn new(title: &str, nav: &'static str, snap: &Snapshot, id: &Identity) -> Layout {
        let me = id.user.as_ref().map(|u| {
            let name = view::display_name(snap, &u.key()).unwrap_or_else(|| u.name.clone());
            Me {
                initials: view::initials(&name),
                name,
                link: RefLink::new(snap, u),
            }
        });
        Layout {
            title: title.to_owned(),
            nav,
            me,
            css: assets::url("style.css"),
            htmx: assets::url("htmx.min.js"),
        }
    }
}
