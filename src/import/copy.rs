//! The copy engine: pages through each legacy table in id order, converts the rows and upserts
//! them into Banca in one statement per page (`jsonb_to_recordset`), each page in its own
//! transaction (a savepoint of the one rolled-back transaction in a dry run).
//!
//! A row already in Banca (same key) is updated only when a legacy value differs, so a re-run
//! over unchanged data writes nothing, and a run interrupted half-way continues where the
//! committed pages end.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use indicatif::ProgressBar;
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::money::{self, Rounded};
use super::tables::{Kind, Table, Update};
use crate::db::{query, query_as, query_scalar};

/// How the target is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each page commits on its own.
    Commit,
    /// Everything happens inside one transaction the caller rolls back; pages are savepoints.
    DryRun,
}

/// How a table is copied.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The business time zone (`$3` of the legacy queries).
    pub tz: &'a str,
    /// Legacy rows per page.
    pub batch: i64,
    pub mode: Mode,
}

/// What the copy of one table did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOutcome {
    pub target: &'static str,
    pub legacy: &'static str,
    /// Legacy rows, skipped ones included.
    pub legacy_rows: i64,
    /// Legacy rows left out by rule ([`Table::skip`]).
    pub skipped: i64,
    pub skip_reason: &'static str,
    pub inserted: i64,
    pub updated: i64,
}

impl TableOutcome {
    /// Imported rows that were already in Banca with the same values.
    pub fn unchanged(&self) -> i64 {
        self.legacy_rows - self.skipped - self.inserted - self.updated
    }
}

/// What the copy collects across tables.
#[derive(Debug, Default)]
pub struct Collected {
    /// Every value the conversion changed.
    pub rounded: Vec<Rounded>,
    /// Sorteos whose tickets, jugadas, lists or own row were written.
    pub touched: BTreeSet<Uuid>,
}

/// The legacy page query of `t`: the columns, then the page key (`x.id`). `$1` last id, `$2`
/// page size, `$3` business time zone.
pub fn page_sql(t: &Table, cols: &[super::tables::Col]) -> String {
    let mut sql = String::from("SELECT ");
    for c in cols {
        let _ = write!(sql, "{}, ", c.expr);
    }
    let _ = write!(
        sql,
        "x.id AS page_key FROM {} WHERE x.id > $1 AND {} ORDER BY x.id LIMIT $2",
        t.from,
        t.imported_filter()
    );
    sql
}

/// The upsert of one page of `t` (`$1`: a JSON array of row objects).
fn upsert_sql(t: &Table) -> String {
    let names: Vec<String> = t.cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let typed: Vec<String> = t
        .cols
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, c.ty))
        .collect();
    let keys: Vec<String> = t
        .key_cols()
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let mut sets = Vec::new();
    let mut lhs = Vec::new();
    let mut rhs = Vec::new();
    for c in &t.cols[t.key_len..] {
        let expr = match c.update {
            Update::Never => continue,
            Update::Always => format!("EXCLUDED.\"{}\"", c.name),
            Update::Expr(e) => format!("({e})"),
        };
        sets.push(format!("\"{}\" = {expr}", c.name));
        // `updated_at` follows a change; alone it is none (Banca bumps it on its own writes,
        // e.g. the password upgrade at login).
        if c.name != "updated_at" {
            lhs.push(format!("t.\"{}\"", c.name));
            rhs.push(expr);
        }
    }
    let touch = match t.touches_sorteo {
        Some(c) => format!("t.\"{c}\""),
        None => "NULL::uuid".into(),
    };
    format!(
        "INSERT INTO {target} AS t ({names})
         SELECT {names} FROM jsonb_to_recordset($1::jsonb) AS r({typed})
         ON CONFLICT ({keys}) DO UPDATE SET {sets}
         WHERE ({lhs}) IS DISTINCT FROM ({rhs})
         RETURNING (t.xmax = 0) AS inserted, {touch} AS sorteo",
        target = t.target,
        names = names.join(", "),
        typed = typed.join(", "),
        keys = keys.join(", "),
        sets = sets.join(", "),
        lhs = lhs.join(", "),
        rhs = rhs.join(", "),
    )
}

/// Legacy rows of `t`: all, and those imported.
pub async fn legacy_counts(
    src: &mut PgConnection,
    t: &Table,
    tz: &str,
) -> anyhow::Result<(i64, i64)> {
    // The same parameters as the page query ($3 is the time zone some queries use).
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE {}) FROM {}
         WHERE $1::uuid IS NOT NULL AND $2::int8 IS NOT NULL",
        t.imported_filter(),
        t.from
    );
    let (all, imported): (i64, i64) = query_as(&sql)
        .persistent(false)
        .bind(Uuid::nil())
        .bind(0i64)
        .bind(tz)
        .fetch_one(&mut *src)
        .await
        .with_context(|| format!("cannot count the rows of \"{}\"", t.legacy))?;
    Ok((all, imported))
}

/// Copies table `t` from `src` (inside the caller's snapshot) to `dst`.
pub async fn copy_table(
    src: &mut PgConnection,
    dst: &mut PgConnection,
    t: &Table,
    settings: Settings<'_>,
    bar: &ProgressBar,
    collected: &mut Collected,
) -> anyhow::Result<TableOutcome> {
    let Settings { tz, batch, mode } = settings;
    let (all, imported) = legacy_counts(src, t, tz).await?;
    let mut outcome = TableOutcome {
        target: t.target,
        legacy: t.legacy,
        legacy_rows: all,
        skipped: all - imported,
        skip_reason: t.skip_reason,
        ..TableOutcome::default()
    };
    bar.set_length(imported as u64);
    bar.set_position(0);
    let select = page_sql(t, t.cols);
    let upsert = upsert_sql(t);
    let mut last = Uuid::nil();
    loop {
        let rows: Vec<PgRow> = query(&select)
            .persistent(false)
            .bind(last)
            .bind(batch)
            .bind(tz)
            .fetch_all(&mut *src)
            .await
            .with_context(|| format!("cannot read \"{}\"", t.legacy))?;
        let Some(tail) = rows.last() else { break };
        last = tail
            .try_get::<Uuid, _>(t.cols.len())
            .context("reading the page key")?;
        let mut objects = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get(t.cols.len())?;
            objects.push(convert_row(t, row, id, &mut collected.rounded)?);
            ids.push(id);
        }
        let written = write_page(dst, t, &upsert, &objects, &ids, mode).await?;
        for (inserted, sorteo) in written {
            if inserted {
                outcome.inserted += 1;
            } else {
                outcome.updated += 1;
            }
            if let Some(s) = sorteo {
                collected.touched.insert(s);
            }
        }
        bar.inc(rows.len() as u64);
        if (rows.len() as i64) < batch {
            break;
        }
    }
    Ok(outcome)
}

/// Writes one page in its own transaction (savepoint); on a database error finds the row
/// that fails and names it.
async fn write_page(
    dst: &mut PgConnection,
    t: &Table,
    upsert: &str,
    objects: &[Value],
    ids: &[Uuid],
    mode: Mode,
) -> anyhow::Result<Vec<(bool, Option<Uuid>)>> {
    match write_once(dst, upsert, objects, mode).await {
        Ok(rows) => Ok(rows),
        Err(first) => {
            // Find the first row that fails on its own (the others are written, which a
            // re-run would do anyway).
            for (obj, id) in objects.iter().zip(ids) {
                if let Err(e) = write_once(dst, upsert, std::slice::from_ref(obj), mode).await {
                    return Err(row_error(t, *id, &e));
                }
            }
            Err(anyhow::anyhow!(
                "cannot write {} (legacy \"{}\"): {}",
                t.target,
                t.legacy,
                describe_db_error(&first)
            ))
        }
    }
}

async fn write_once(
    dst: &mut PgConnection,
    upsert: &str,
    objects: &[Value],
    mode: Mode,
) -> Result<Vec<(bool, Option<Uuid>)>, sqlx::Error> {
    let (begin, commit, rollback) = match mode {
        Mode::Commit => ("BEGIN", "COMMIT", "ROLLBACK"),
        Mode::DryRun => (
            "SAVEPOINT import_page",
            "RELEASE SAVEPOINT import_page",
            "ROLLBACK TO SAVEPOINT import_page",
        ),
    };
    query(begin).execute(&mut *dst).await?;
    let result = query_as::<(bool, Option<Uuid>)>(upsert)
        .bind(Value::Array(objects.to_vec()))
        .fetch_all(&mut *dst)
        .await;
    match result {
        Ok(rows) => {
            query(commit).execute(&mut *dst).await?;
            Ok(rows)
        }
        Err(e) => {
            query(rollback).execute(&mut *dst).await?;
            if mode == Mode::DryRun {
                query("RELEASE SAVEPOINT import_page")
                    .execute(&mut *dst)
                    .await?;
            }
            Err(e)
        }
    }
}

/// A one-line message for a row Banca refuses.
fn row_error(t: &Table, id: Uuid, e: &sqlx::Error) -> anyhow::Error {
    let conflict = e
        .as_database_error()
        .is_some_and(|d| d.is_unique_violation());
    if conflict {
        anyhow::anyhow!(
            "{} row {id} (legacy \"{}\") conflicts with data already in the target ({}); the \
             target must be empty or hold only an earlier import of this source",
            t.target,
            t.legacy,
            describe_db_error(e)
        )
    } else {
        anyhow::anyhow!(
            "{} row {id} (legacy \"{}\") cannot be imported: {}",
            t.target,
            t.legacy,
            describe_db_error(e)
        )
    }
}

/// `message (constraint: detail)` of a database error.
pub fn describe_db_error(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => {
            let detail = d
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|p| p.detail())
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            match d.constraint() {
                Some(c) => format!("{} ({c}{detail})", d.message()),
                None => format!("{}{detail}", d.message()),
            }
        }
        None => e.to_string(),
    }
}

/// One legacy row as the JSON object `jsonb_to_recordset` reads (NULLs left out).
fn convert_row(
    t: &Table,
    row: &PgRow,
    id: Uuid,
    rounded: &mut Vec<Rounded>,
) -> anyhow::Result<Value> {
    let mut obj = Map::with_capacity(t.cols.len());
    for (i, c) in t.cols.iter().enumerate() {
        let read = |e: sqlx::Error| {
            anyhow::anyhow!(
                "cannot read {}.{} of legacy \"{}\" row {id}: {e}",
                t.target,
                c.name,
                t.legacy
            )
        };
        let v = match c.kind {
            Kind::Uuid => row
                .try_get::<Option<Uuid>, _>(i)
                .map_err(read)?
                .map(|u| Value::String(u.to_string())),
            Kind::Text => row
                .try_get::<Option<String>, _>(i)
                .map_err(read)?
                .map(Value::String),
            Kind::Bool => row
                .try_get::<Option<bool>, _>(i)
                .map_err(read)?
                .map(Value::Bool),
            Kind::Int => row
                .try_get::<Option<i32>, _>(i)
                .map_err(read)?
                .map(Value::from),
            Kind::Json => row
                .try_get::<Option<Value>, _>(i)
                .map_err(read)?
                .filter(|v| !v.is_null()),
            Kind::Ts => row
                .try_get::<Option<NaiveDateTime>, _>(i)
                .map_err(read)?
                .map(|d| Value::String(d.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true))),
            Kind::Date => row
                .try_get::<Option<NaiveDate>, _>(i)
                .map_err(read)?
                .map(|d| Value::String(d.to_string())),
            Kind::Dec(scale) => match row.try_get::<Option<f64>, _>(i).map_err(read)? {
                None => None,
                Some(f) => {
                    let c2 = money::convert(f, scale).map_err(|e| {
                        anyhow::anyhow!("legacy \"{}\".\"{}\" of row {id}: {e}", t.legacy, c.legacy)
                    })?;
                    if c2.changed() {
                        rounded.push(Rounded {
                            table: t.legacy,
                            column: c.legacy,
                            id: id.to_string(),
                            original: c2.original,
                            stored: c2.stored,
                        });
                    }
                    Some(Value::String(c2.stored.to_string()))
                }
            },
        };
        if let Some(v) = v {
            obj.insert(c.name.to_string(), v);
        }
    }
    Ok(Value::Object(obj))
}

/// The keys (as uuids, one vector per key column) of the imported legacy rows of `t`, page by
/// page, to `each`.
pub async fn for_each_key_page<F>(
    src: &mut PgConnection,
    t: &Table,
    tz: &str,
    page: i64,
    mut each: F,
) -> anyhow::Result<()>
where
    F: AsyncFnMut(Vec<Vec<Uuid>>) -> anyhow::Result<()>,
{
    let select = page_sql(t, t.key_cols());
    let mut last = Uuid::nil();
    loop {
        let rows: Vec<PgRow> = query(&select)
            .persistent(false)
            .bind(last)
            .bind(page)
            .bind(tz)
            .fetch_all(&mut *src)
            .await
            .with_context(|| format!("cannot read \"{}\"", t.legacy))?;
        let Some(tail) = rows.last() else { break };
        last = tail.try_get(t.key_len)?;
        let mut cols: Vec<Vec<Uuid>> = vec![Vec::with_capacity(rows.len()); t.key_len];
        for r in &rows {
            for (i, col) in cols.iter_mut().enumerate() {
                col.push(r.try_get::<Uuid, _>(i)?);
            }
        }
        each(cols).await?;
        if (rows.len() as i64) < page {
            break;
        }
    }
    Ok(())
}

/// The ids of the legacy sorteos.
pub async fn legacy_sorteo_ids(src: &mut PgConnection) -> anyhow::Result<Vec<Uuid>> {
    query_scalar("SELECT id FROM \"Sorteo\" ORDER BY id")
        .persistent(false)
        .fetch_all(src)
        .await
        .context("cannot read the legacy sorteos")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::tables::TABLES;

    #[test]
    fn upserts_compare_only_what_they_update() {
        let users = TABLES.iter().find(|t| t.target == "users").unwrap();
        let sql = upsert_sql(users);
        assert!(sql.contains("ON CONFLICT (\"id\") DO UPDATE"));
        // Client telemetry is Banca's after the first import.
        assert!(!sql.contains("\"platform\" = "));
        assert!(sql.contains("CASE WHEN t.password_hash LIKE '$2%'"));
        let links = TABLES.iter().find(|t| t.target == "user_bancas").unwrap();
        assert!(upsert_sql(links).contains("ON CONFLICT (\"user_id\", \"banca_id\")"));
        let tickets = TABLES.iter().find(|t| t.target == "tickets").unwrap();
        let sql = upsert_sql(tickets);
        assert!(sql.contains("t.\"sorteo_id\" AS sorteo"));
        assert!(sql.contains("\"updated_at\" = EXCLUDED.\"updated_at\""));
        assert!(!sql.contains("t.\"updated_at\""));
    }
}
