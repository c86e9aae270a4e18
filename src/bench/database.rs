//! The bench's scratch databases: created on the PostgreSQL server of the admin URL
//! (`DATABASE_URL`, else the local default) and dropped at the end.

use std::str::FromStr;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use url::Url;

/// The admin URL used when `DATABASE_URL` is unset.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server the bench works on, reached through an admin URL.
#[derive(Clone)]
pub struct Server {
    admin: Url,
}

impl Server {
    pub fn new(admin_url: &str) -> anyhow::Result<Server> {
        let admin = Url::parse(admin_url).context("the admin database URL is not a valid URL")?;
        Ok(Server { admin })
    }

    /// The URL of database `name` on this server (credentials and options kept).
    pub fn url_of(&self, name: &str) -> String {
        let mut u = self.admin.clone();
        u.set_path(&format!("/{name}"));
        u.to_string()
    }

    /// The admin URL without its password, to print.
    pub fn redacted(&self) -> String {
        Self::hide_password(self.admin.clone())
    }

    /// The URL of database `name` without its password, to print.
    pub fn redacted_url_of(&self, name: &str) -> String {
        let mut u = self.admin.clone();
        u.set_path(&format!("/{name}"));
        Self::hide_password(u)
    }

    fn hide_password(mut u: Url) -> String {
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        u.to_string()
    }

    async fn admin_conn(&self) -> anyhow::Result<PgConnection> {
        let opts = PgConnectOptions::from_str(self.admin.as_str())?
            .log_statements(log_off())
            .log_slow_statements(log_off(), std::time::Duration::from_secs(3600));
        opts.connect()
            .await
            .with_context(|| format!("cannot connect to {}", self.redacted()))
    }

    /// Creates database `name` (fails when it exists).
    pub async fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = self.admin_conn().await?;
        let result = crate::db::query(&format!("CREATE DATABASE {}", quote_ident(name)))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
        result.with_context(|| format!("cannot create the database {name}"))?;
        Ok(())
    }

    /// Drops database `name`, closing its other sessions first; no error when it is missing.
    pub async fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = self.admin_conn().await?;
        let result = crate::db::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
        result.with_context(|| format!("cannot drop the database {name}"))?;
        Ok(())
    }

    /// A small pool on database `name`, for seeding and verifying.
    pub async fn pool(&self, name: &str) -> anyhow::Result<PgPool> {
        let opts = PgConnectOptions::from_str(&self.url_of(name))?
            .log_statements(log_off())
            .log_slow_statements(log_off(), std::time::Duration::from_secs(3600));
        PgPoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .with_context(|| format!("cannot connect to the database {name}"))
    }

    /// libpq environment variables (`PGHOST`, …) that reach database `name`, for `pgbench`.
    pub fn libpq_env(&self, name: &str) -> Vec<(&'static str, String)> {
        let u = &self.admin;
        let mut env = vec![("PGDATABASE", name.to_string())];
        let query_host = u
            .query_pairs()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.into_owned());
        let host = query_host.or_else(|| {
            u.host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        });
        if let Some(h) = host.filter(|h| !h.is_empty()) {
            env.push(("PGHOST", h));
        }
        if let Some(p) = u.port() {
            env.push(("PGPORT", p.to_string()));
        } else if let Some((_, p)) = u.query_pairs().find(|(k, _)| k == "port") {
            env.push(("PGPORT", p.into_owned()));
        }
        if !u.username().is_empty() {
            env.push(("PGUSER", decode(u.username())));
        }
        if let Some(p) = u.password() {
            env.push(("PGPASSWORD", decode(p)));
        }
        if let Some((_, m)) = u.query_pairs().find(|(k, _)| k == "sslmode") {
            env.push(("PGSSLMODE", m.into_owned()));
        }
        env
    }
}

fn log_off() -> tracing::log::LevelFilter {
    tracing::log::LevelFilter::Off
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_libpq_env() {
        let s =
            Server::new("postgres://bob:p%40ss@db.local:6543/postgres?sslmode=disable").unwrap();
        assert_eq!(
            s.url_of("banca_bench_1"),
            "postgres://bob:p%40ss@db.local:6543/banca_bench_1?sslmode=disable"
        );
        assert!(!s.redacted().contains("p%40ss"));
        let env = s.libpq_env("x");
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PGHOST"), Some("db.local"));
        assert_eq!(get("PGPORT"), Some("6543"));
        assert_eq!(get("PGUSER"), Some("bob"));
        assert_eq!(get("PGPASSWORD"), Some("p@ss"));
        assert_eq!(get("PGSSLMODE"), Some("disable"));
        assert_eq!(get("PGDATABASE"), Some("x"));
    }
}
