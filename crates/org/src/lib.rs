//! Org import: Users and Groups, with their hierarchy and membership, read from identity
//! platforms (an LDAP directory, Okta's Users and Groups API, GitHub organisation teams) and
//! mapped to catalog entities the way Backstage's org providers map them.
//!
//! Each source yields a [`Directory`] (entries keyed by the platform's own ids: DNs, Okta ids,
//! team slugs); [`assemble`] turns it into entities (names normalised, duplicates and invalid
//! entries reported and left out, memberships resolved to `spec.memberOf`, `spec.parent` and
//! `spec.children`). The import writes them as one generated multi-document YAML file per
//! source under the data directory and registers that file once as a `file` location, so
//! imported entities are ordinary catalog entities; a dry run compares the new set with what the
//! catalog holds from that file and reports what would be added, changed and removed, per
//! field ([`diff`]). [`OrgImport`] keeps the settings and the latest report in the catalog's
//! state and [`run`] imports on a schedule. No HTTP server, no HTML.

mod assemble;
pub mod config;
mod diff;
mod directory;
mod github;
mod import;
mod ldap;
mod okta;
#[cfg(feature = "testing")]
pub mod testing;

pub use assemble::{Assembled, assemble, normalise_name};
pub use config::{GitHubSource, LdapSource, OktaSource, Settings, Source, SourceKind};
pub use diff::{Change, ChangeKind, FieldChange, diff};
pub use directory::{Directory, GroupEntry, UserEntry};
pub use github::read_github;
pub use import::{ImportError, OrgImport, Report, SourceReport, import, read_source, run};
pub use ldap::read_ldap;
pub use okta::read_okta;
