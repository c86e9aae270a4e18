//! `banca reconcile`: recomputes the account statements of a date range from tickets, jugadas
//! and movements and reports every difference from the stored rows (issue 9 item 6).
//!
//! Per banca, in a transaction that is rolled back: the stored statements and adjustments are
//! read, the banca's statements are rebuilt from the first day with the very rebuild the
//! refresher runs ([`crate::db::statements::rebuild_from`], which books settled-day
//! corrections as adjustments), the result is read, and the two are compared field by field.
//! Nothing is written. A difference means a rebuild is missing (a request lost, a manual edit of
//! tickets or statements) or a settled day changed without its adjustment.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::{self, query_as, query_scalar};

/// One field of one statement (or adjustment) that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub banca_id: Uuid,
    /// `statement <dimension> <entity> <date>` or `adjustment <dimension> <entity> <settled date>`.
    pub row: String,
    pub field: &'static str,
    /// `None`: the row is missing on that side.
    pub stored: Option<String>,
    pub recomputed: Option<String>,
}

/// What a reconciliation found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub bancas: usize,
    pub rows_checked: usize,
    pub differences: Vec<Difference>,
}

const FIELDS: [&str; 11] = [
    "totalSales",
    "totalPayouts",
    "listeroCommission",
    "vendedorCommission",
    "balance",
    "totalPaid",
    "totalCollected",
    "totalAdjustments",
    "remainingBalance",
    "ticketCount",
    "settled",
];

type Rows = BTreeMap<String, Vec<String>>;

async fn statements(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Rows, sqlx::Error> {
    let rows: Vec<(String, Vec<String>)> = query_as(
        "SELECT 'statement ' || dimension || ' ' || entity_id || ' ' || date,
                ARRAY[total_sales::text, total_payouts::text, listero_commission::text,
                      vendedor_commission::text, balance::text, total_paid::text,
                      total_collected::text, total_adjustments::text, remaining_balance::text,
                      ticket_count::text, (settled_at IS NOT NULL)::text]
         FROM account_statements WHERE banca_id = $1 AND date BETWEEN $2 AND $3",
    )
    .bind(banca)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Rows = rows.into_iter().collect();
    let adj: Vec<(String, String)> = query_as(
        "SELECT 'adjustment ' || dimension || ' ' || entity_id || ' ' || settled_date,
                amount::text || ' on ' || applied_date
         FROM statement_adjustments WHERE banca_id = $1 AND settled_date BETWEEN $2 AND $3",
    )
    .bind(banca)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    for (k, v) in adj {
        out.insert(k, vec![v]);
    }
    Ok(out)
}

fn compare(banca: Uuid, before: &Rows, after: &Rows, out: &mut Vec<Difference>) {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for k in keys {
        match (before.get(k), after.get(k)) {
            (Some(b), Some(a)) => {
                for (i, (bv, av)) in b.iter().zip(a.iter()).enumerate() {
                    if bv != av {
                        out.push(Difference {
                            banca_id: banca,
                            row: k.clone(),
                            field: if k.starts_with("adjustment") {
                                "amount"
                            } else {
                                FIELDS[i]
                            },
                            stored: Some(bv.clone()),
                            recomputed: Some(av.clone()),
                        });
                    }
                }
            }
            (b, a) => out.push(Difference {
                banca_id: banca,
                row: k.clone(),
                field: "row",
                stored: b.map(|v| v.join(" ")),
                recomputed: a.map(|v| v.join(" ")),
            }),
        }
    }
}

/// Reconciles the statements of every banca with activity or statements between `from` and
/// `to` (inclusive); `progress` is told about each banca as it is done.
pub async fn reconcile(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    mut progress: impl FnMut(usize, usize, Uuid, usize, usize),
) -> Result<Report, sqlx::Error> {
    let bancas: Vec<Uuid> = query_scalar(
        "SELECT banca_id FROM tickets WHERE business_date BETWEEN $1 AND $2
         UNION SELECT banca_id FROM account_statements WHERE date BETWEEN $1 AND $2
         UNION SELECT banca_id FROM account_payments WHERE date BETWEEN $1 AND $2
         ORDER BY 1",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut report = Report {
        bancas: bancas.len(),
        ..Report::default()
    };
    for (i, banca) in bancas.iter().enumerate() {
        let mut tx = pool.begin().await?;
        db::statements::lock_banca(&mut tx, *banca).await?;
        let before = statements(&mut tx, *banca, from, to).await?;
        db::statements::rebuild_from(&mut tx, *banca, from).await?;
        let after = statements(&mut tx, *banca, from, to).await?;
        tx.rollback().await?;
        let found = report.differences.len();
        compare(*banca, &before, &after, &mut report.differences);
        report.rows_checked += after.len().max(before.len());
        progress(
            i + 1,
            bancas.len(),
            *banca,
            after.len(),
            report.differences.len() - found,
        );
    }
    Ok(report)
}
