//! Queries over sorteos.
