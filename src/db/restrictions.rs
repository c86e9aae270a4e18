//! Queries over restrictions.
