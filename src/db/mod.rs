//! Database access: pools for the three connection roles, bootstrap of a local database,
//! migrations, and plain async query functions per aggregate.

pub mod bootstrap;
pub mod migrate;
pub mod pools;
pub mod users;

pub use pools::{Pools, ReadSource};
