//! What a source read, before it becomes entities: users and groups keyed by the platform's own
//! identifiers (an LDAP DN, an Okta id, a GitHub login or team slug), with memberships written
//! as those keys, and the entries the source could not use.

use std::collections::BTreeMap;

/// One person as the source holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserEntry {
    /// The source's identifier (DN, Okta id, GitHub login): what memberships name.
    pub key: String,
    /// The name wanted for the catalog, before normalising.
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub description: Option<String>,
    /// Keys of the groups the source says this user belongs to.
    pub member_of: Vec<String>,
    pub annotations: BTreeMap<String, String>,
}

/// One group as the source holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupEntry {
    pub key: String,
    pub name: String,
    /// `spec.type` (`team` unless the source says otherwise).
    pub group_type: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub description: Option<String>,
    /// Keys of the groups this one belongs to (LDAP `memberOf`, a GitHub team's parent).
    pub member_of: Vec<String>,
    /// Keys of its members: users, or groups (which become its children).
    pub members: Vec<String>,
    pub annotations: BTreeMap<String, String>,
}

/// Everything one source read, with the entries it could not use (each a message naming it).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub users: Vec<UserEntry>,
    pub groups: Vec<GroupEntry>,
    pub errors: Vec<String>,
}
