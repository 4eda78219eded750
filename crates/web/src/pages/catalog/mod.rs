//! The catalog's pages: the searchable catalog table and each entity's page, with its own
//! views for groups and users, its relations graph and its API definition.

pub mod entity;
pub mod graph;
pub mod group;
pub mod header;
pub mod index;
pub mod openapi;
pub mod user;
pub mod yaml_out;
