//! The database behind Stagedoor: one `Db` over SQLite or PostgreSQL, its migrations, and the
//! tables the catalog keeps durable (registered locations and the stitched final entities), and
//! the capabilities' own (campaign progress, pushed facts, scorecard results over time, scaffolder
//! tasks and their events).

mod campaigns;
mod db;
mod discovery;
mod entities;
mod error;
mod events;
mod locations;
mod migrate;
mod pushed_facts;
mod scores;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;

pub use campaigns::CampaignDay;
pub use db::Db;
pub use discovery::{CompletenessDay, DiscoveredRow};
pub use entities::EntityRow;
pub use error::StoreError;
pub use events::{EventRow, MAX_RANK, SearchDay, UserDay};
pub use locations::LocationRow;
pub use pushed_facts::PushedFactsRow;
pub use scores::{ScoreChange, ScorecardDay};
pub use tasks::{TaskEventRow, TaskRow};
