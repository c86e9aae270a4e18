//! Banca: the backend of lottery bancas (tiempos and REVENTADO), a drop-in successor of the
//! existing Node/Express/Prisma backend. See `docs/architecture.md` for the layers:
//! `http` → `services` → `db` and `domain`.

pub mod app;
pub mod bench;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod import;
pub mod jobs;
pub mod observability;
pub mod print;
pub mod services;
pub mod telemetry;
