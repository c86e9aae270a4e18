//! Verification: compares the existing system with Banca after an import (or alone).
//!
//! - **Counts**: per table, the legacy rows the import takes (skipped-by-rule ones left out)
//!   against the rows with those keys in Banca.
//! - **Money** per business day and entity (banca, ventana, vendedor): sales, prizes and
//!   commissions of the sold jugadas, ticket totals, prize payments, movements and every
//!   money figure of the account statements.
//!
//! The tolerance of a group is the sum, over the legacy rows in it, of `|stored − original|`
//! (the rounding of each value to whole cents, [`super::money`]); legacy floats are read as
//! their shortest decimal (`float8::text::numeric`, PostgreSQL 12+), the same decimal the
//! import rounds. A group passes when `|Banca − legacy| ≤ tolerance` (sums taken to 12
//! decimals, compared with a 10⁻¹⁰ margin for that).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::copy;
use super::tables::{CARRY_OVER, TABLES};
use crate::db::{query_as, query_scalar};

/// One table's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountLine {
    pub target: &'static str,
    pub legacy: &'static str,
    /// Legacy rows the import takes.
    pub expected: i64,
    /// Of those, rows present in Banca.
    pub present: i64,
}

/// One metric over one period (a day, or a month for long histories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricLine {
    pub metric: String,
    pub period: String,
    /// Groups (day × level × entity) compared, and those beyond tolerance.
    pub groups: usize,
    pub differing: usize,
    pub legacy: Decimal,
    pub banca: Decimal,
    pub tolerance: Decimal,
}

/// A group beyond its tolerance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub metric: String,
    pub day: NaiveDate,
    pub level: String,
    pub entity: Option<Uuid>,
    pub legacy: Decimal,
    pub banca: Decimal,
    pub tolerance: Decimal,
}

/// The verification's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub counts: Vec<CountLine>,
    pub metrics: Vec<MetricLine>,
    pub mismatches: Vec<Mismatch>,
    /// Money groups compared.
    pub groups: usize,
}

impl Verification {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.counts.iter().all(|c| c.expected == c.present)
    }
}

/// A legacy float as the decimal the import rounds, and its rounding difference.
macro_rules! exact {
    ($e:literal) => {
        concat!("(", $e, ")::float8::text::numeric")
    };
}

/// Legacy tickets with the import's derivations (business day, banca).
const LEGACY_TICKETS: &str = concat!(
    "lt AS (
        SELECT t.id,
               COALESCE(t.\"businessDate\", (t.\"createdAt\" AT TIME ZONE 'UTC' AT TIME ZONE $1)::date) AS d,
               COALESCE(t.\"bancaId\", v.\"bancaId\") AS banca, t.\"ventanaId\" AS ventana,
               t.\"vendedorId\" AS vendedor, t.status::text AS status,
               t.\"isActive\" AND t.\"deletedAt\" IS NULL AS live,
               ",
    exact!("t.\"totalAmount\""),
    " AS total_amount, ",
    exact!("COALESCE(t.\"totalPayout\", 0)"),
    " AS total_payout, ",
    exact!("COALESCE(t.\"totalPaid\", 0)"),
    " AS total_paid
        FROM \"Ticket\" t JOIN \"Ventana\" v ON v.id = t.\"ventanaId\")"
);

/// Per (metric, day, banca, ventana, vendedor) legacy values `v` (rows `r`).
const LEGACY_ROWS: &str = concat!(
    "r AS (
        SELECT lt.d, lt.banca, lt.ventana, lt.vendedor, m.metric, m.v
        FROM \"Jugada\" j JOIN lt ON lt.id = j.\"ticketId\"
        CROSS JOIN LATERAL (VALUES
            ('sales', ",
    exact!("j.amount"),
    "),
            ('prizes', CASE WHEN j.\"isWinner\" THEN ",
    exact!("j.payout"),
    " END),
            ('vendedor_commission', ",
    exact!("j.\"commissionAmount\""),
    "),
            ('listero_commission', ",
    exact!("j.\"listeroCommissionAmount\""),
    ")) AS m(metric, v)
        WHERE lt.live AND lt.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
          AND j.\"isActive\" AND NOT j.\"isExcluded\" AND j.\"deletedAt\" IS NULL
        UNION ALL
        SELECT lt.d, lt.banca, lt.ventana, lt.vendedor, m.metric, m.v
        FROM lt CROSS JOIN LATERAL (VALUES
            ('ticket_total_amount', lt.total_amount), ('ticket_total_payout', lt.total_payout),
            ('ticket_total_paid', lt.total_paid)) AS m(metric, v))"
);

/// The same rows in Banca.
const BANCA_ROWS: &str = "r AS (
        SELECT t.business_date AS d, t.banca_id AS banca, t.ventana_id AS ventana,
               t.vendedor_id AS vendedor, m.metric, m.v
        FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
        CROSS JOIN LATERAL (VALUES
            ('sales', j.amount), ('prizes', CASE WHEN j.is_winner THEN j.payout END),
            ('vendedor_commission', j.commission_amount),
            ('listero_commission', j.listero_commission_amount)) AS m(metric, v)
        WHERE t.is_active AND t.deleted_at IS NULL
          AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
          AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
          AND t.banca_id = ANY($2)
        UNION ALL
        SELECT t.business_date, t.banca_id, t.ventana_id, t.vendedor_id, m.metric, m.v
        FROM tickets t CROSS JOIN LATERAL (VALUES
            ('ticket_total_amount', t.total_amount), ('ticket_total_payout', t.total_payout),
            ('ticket_total_paid', t.total_paid)) AS m(metric, v)
        WHERE t.banca_id = ANY($2))";

/// The three levels of `r`, with the tolerance column `tol` (0 on Banca's side).
const LEVELS: &str = "
    SELECT metric, d, 'banca', banca, round(sum(v), 12), round(sum(abs(round(v, 2) - v)), 12)
    FROM r WHERE v IS NOT NULL GROUP BY metric, d, banca
    UNION ALL
    SELECT metric, d, 'ventana', ventana, round(sum(v), 12), round(sum(abs(round(v, 2) - v)), 12)
    FROM r WHERE v IS NOT NULL GROUP BY metric, d, ventana
    UNION ALL
    SELECT metric, d, 'vendedor', vendedor, round(sum(v), 12), round(sum(abs(round(v, 2) - v)), 12)
    FROM r WHERE v IS NOT NULL GROUP BY metric, d, vendedor";

/// Legacy prize payments, movements and statements: `(metric, d, level, entity, v, tol)`.
const LEGACY_LEDGER: &str = concat!(
    "SELECT CASE WHEN p.\"isReversed\" THEN 'ticket_payments_reversed' ELSE 'ticket_payments' END,
            (p.\"paymentDate\" AT TIME ZONE 'UTC' AT TIME ZONE $1)::date, 'banca',
            COALESCE(t.\"bancaId\", v.\"bancaId\"),
            round(sum(",
    exact!("p.\"amountPaid\""),
    "), 12), round(sum(abs(round(",
    exact!("p.\"amountPaid\""),
    ", 2) - ",
    exact!("p.\"amountPaid\""),
    ")), 12)
     FROM \"TicketPayment\" p JOIN \"Ticket\" t ON t.id = p.\"ticketId\"
     JOIN \"Ventana\" v ON v.id = t.\"ventanaId\"
     GROUP BY 1, 2, 4
     UNION ALL
     SELECT 'movements_' || lower(x.type) || CASE WHEN x.\"isReversed\" THEN '_reversed' ELSE '' END,
            x.date,
            CASE WHEN x.\"vendedorId\" IS NOT NULL THEN 'vendedor'
                 WHEN x.\"ventanaId\" IS NOT NULL THEN 'ventana' ELSE 'banca' END,
            COALESCE(x.\"vendedorId\", x.\"ventanaId\", x.\"bancaId\", ev.\"bancaId\", euv.\"bancaId\"),
            round(sum(",
    exact!("x.amount"),
    "), 12), round(sum(abs(round(",
    exact!("x.amount"),
    ", 2) - ",
    exact!("x.amount"),
    ")), 12)
     FROM \"AccountPayment\" x
     LEFT JOIN \"Ventana\" ev ON ev.id = x.\"ventanaId\"
     LEFT JOIN \"User\" eu ON eu.id = x.\"vendedorId\"
     LEFT JOIN \"Ventana\" euv ON euv.id = eu.\"ventanaId\"
     WHERE NOT "
);

const LEGACY_STATEMENTS: &str = concat!(
    "
     GROUP BY 1, 2, 3, 4
     UNION ALL
     SELECT 'statement_' || m.field, x.date,
            CASE WHEN x.\"vendedorId\" IS NOT NULL THEN 'vendedor'
                 WHEN x.\"ventanaId\" IS NOT NULL THEN 'ventana' ELSE 'banca' END,
            COALESCE(x.\"vendedorId\", x.\"ventanaId\", x.\"bancaId\", ev.\"bancaId\", euv.\"bancaId\"),
            round(sum(m.v), 12), round(sum(abs(round(m.v, 2) - m.v)), 12)
     FROM \"AccountStatement\" x
     LEFT JOIN \"Ventana\" ev ON ev.id = x.\"ventanaId\"
     LEFT JOIN \"User\" eu ON eu.id = x.\"vendedorId\"
     LEFT JOIN \"Ventana\" euv ON euv.id = eu.\"ventanaId\"
     CROSS JOIN LATERAL (VALUES
         ('total_sales', ",
    exact!("x.\"totalSales\""),
    "), ('total_payouts', ",
    exact!("x.\"totalPayouts\""),
    "),
         ('listero_commission', ",
    exact!("x.\"listeroCommission\""),
    "), ('vendedor_commission', ",
    exact!("x.\"vendedorCommission\""),
    "),
         ('balance', ",
    exact!("x.balance"),
    "), ('total_paid', ",
    exact!("x.\"totalPaid\""),
    "), ('total_collected', ",
    exact!("x.\"totalCollected\""),
    "),
         ('remaining_balance', ",
    exact!("x.\"remainingBalance\""),
    "), ('accumulated_balance', ",
    exact!("x.\"accumulatedBalance\""),
    ")) AS m(field, v)
     WHERE COALESCE(x.\"bancaId\", ev.\"bancaId\", euv.\"bancaId\") IS NOT NULL
     GROUP BY 1, 2, 3, 4"
);

const BANCA_LEDGER: &str = "
    SELECT CASE WHEN p.is_reversed THEN 'ticket_payments_reversed' ELSE 'ticket_payments' END,
           (p.payment_date AT TIME ZONE $1)::date, 'banca', p.banca_id, sum(p.amount_paid), 0::numeric
    FROM ticket_payments p WHERE p.banca_id = ANY($2)
    GROUP BY 1, 2, 4
    UNION ALL
    SELECT 'movements_' || x.type || CASE WHEN x.is_reversed THEN '_reversed' ELSE '' END, x.date,
           CASE WHEN x.vendedor_id IS NOT NULL THEN 'vendedor'
                WHEN x.ventana_id IS NOT NULL THEN 'ventana' ELSE 'banca' END,
           COALESCE(x.vendedor_id, x.ventana_id, x.banca_id), sum(x.amount), 0::numeric
    FROM account_payments x WHERE x.banca_id = ANY($2)
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT 'statement_' || m.field, x.date, x.dimension, x.entity_id, sum(m.v), 0::numeric
    FROM account_statements x CROSS JOIN LATERAL (VALUES
        ('total_sales', x.total_sales), ('total_payouts', x.total_payouts),
        ('listero_commission', x.listero_commission),
        ('vendedor_commission', x.vendedor_commission), ('balance', x.balance),
        ('total_paid', x.total_paid), ('total_collected', x.total_collected),
        ('remaining_balance', x.remaining_balance),
        ('accumulated_balance', x.accumulated_balance)) AS m(field, v)
    WHERE x.banca_id = ANY($2)
    GROUP BY 1, 2, 3, 4";

/// Sums are taken to 12 decimals (a float's shortest decimal can have more); this absorbs
/// that last-place rounding.
const EPSILON: Decimal = Decimal::from_parts(1, 0, 0, false, 10);

/// Metrics computed at the banca, ventana and vendedor levels from the same rows.
const AGGREGATED: &[&str] = &[
    "sales",
    "prizes",
    "vendedor_commission",
    "listero_commission",
    "ticket_total_amount",
    "ticket_total_payout",
    "ticket_total_paid",
];

type Key = (String, NaiveDate, String, Option<Uuid>);
type Group = (String, NaiveDate, String, Option<Uuid>, Decimal, Decimal);

/// Compares `src` (the existing system; reads in the caller's snapshot, if any) with `dst`.
pub async fn verify(
    src: &mut PgConnection,
    dst: &mut PgConnection,
    tz: &str,
) -> anyhow::Result<Verification> {
    let mut v = Verification::default();
    for t in TABLES {
        let (_, expected) = copy::legacy_counts(src, t, tz).await?;
        let mut present = 0i64;
        let key_names: Vec<&str> = t.key_cols().iter().map(|c| c.name).collect();
        let sql = match key_names.as_slice() {
            [one] => format!(
                "SELECT count(*) FROM {} WHERE \"{one}\" = ANY($1)",
                t.target
            ),
            many => {
                let cols: Vec<String> = many.iter().map(|c| format!("\"{c}\"")).collect();
                let params: Vec<String> =
                    (1..=many.len()).map(|i| format!("${i}::uuid[]")).collect();
                format!(
                    "SELECT count(*) FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))",
                    t.target,
                    cols.join(", "),
                    params.join(", ")
                )
            }
        };
        let dst_ref = &mut *dst;
        copy::for_each_key_page(src, t, tz, 20_000, async |cols| {
            let mut q = query_scalar::<i64>(&sql);
            for c in cols {
                q = q.bind(c);
            }
            present += q
                .fetch_one(&mut *dst_ref)
                .await
                .with_context(|| format!("cannot count {} in Banca", t.target))?;
            Ok(())
        })
        .await?;
        v.counts.push(CountLine {
            target: t.target,
            legacy: t.legacy,
            expected,
            present,
        });
    }

    let legacy_sql = format!(
        "WITH {LEGACY_TICKETS}, {LEGACY_ROWS} {LEVELS} UNION ALL {LEGACY_LEDGER}{CARRY_OVER}{LEGACY_STATEMENTS}"
    );
    let legacy: Vec<Group> = query_as(&legacy_sql)
        .persistent(false)
        .bind(tz)
        .fetch_all(&mut *src)
        .await
        .context("cannot sum the money of the existing system")?;
    let bancas: Vec<Uuid> = query_scalar("SELECT id FROM \"Banca\"")
        .persistent(false)
        .fetch_all(&mut *src)
        .await
        .context("cannot read the legacy bancas")?;
    let banca_sql = format!("WITH {BANCA_ROWS} {LEVELS} UNION ALL {BANCA_LEDGER}");
    let banca: Vec<Group> = query_as(&banca_sql)
        .bind(tz)
        .bind(&bancas)
        .fetch_all(&mut *dst)
        .await
        .context("cannot sum the money in Banca")?;
    compare(&mut v, legacy, banca);
    Ok(v)
}

/// Fills the money part of `v` from both sides' groups.
fn compare(v: &mut Verification, legacy: Vec<Group>, banca: Vec<Group>) {
    let mut groups: BTreeMap<Key, (Decimal, Decimal, Decimal)> = BTreeMap::new();
    for (m, d, l, e, val, tol) in legacy {
        let g = groups.entry((m, d, l, e)).or_default();
        g.0 += val;
        g.2 += tol;
    }
    for (m, d, l, e, val, _) in banca {
        groups.entry((m, d, l, e)).or_default().1 += val;
    }
    let days: BTreeSet<NaiveDate> = groups.keys().map(|k| k.1).collect();
    let by_month = match (days.first(), days.last()) {
        (Some(a), Some(b)) => (*b - *a).num_days() > 62,
        _ => false,
    };
    let mut lines: BTreeMap<(String, String), MetricLine> = BTreeMap::new();
    for ((metric, day, level, entity), (legacy, banca, tolerance)) in groups {
        let differs = (banca - legacy).abs() > tolerance + EPSILON;
        if differs {
            v.mismatches.push(Mismatch {
                metric: metric.clone(),
                day,
                level: level.clone(),
                entity,
                legacy,
                banca,
                tolerance,
            });
        }
        v.groups += 1;
        // One line per metric and period. Jugada and ticket figures are the same rows summed
        // at three levels: the line sums the banca level; ledger rows (payments, movements,
        // statements) of different levels are different rows: the line sums them all. Groups
        // of every level are counted.
        let summed = level == "banca" || !AGGREGATED.contains(&metric.as_str());
        let period = if by_month {
            format!("{:04}-{:02}", day.year(), day.month())
        } else {
            day.to_string()
        };
        let line = lines
            .entry((metric.clone(), period.clone()))
            .or_insert_with(|| MetricLine {
                metric,
                period,
                groups: 0,
                differing: 0,
                legacy: Decimal::ZERO,
                banca: Decimal::ZERO,
                tolerance: Decimal::ZERO,
            });
        line.groups += 1;
        line.differing += usize::from(differs);
        if summed {
            line.legacy += legacy;
            line.banca += banca;
            line.tolerance += tolerance;
        }
    }
    v.metrics = lines.into_values().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_group_passes_within_its_rounding_tolerance() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let e = Some(Uuid::from_u128(1));
        let legacy = vec![
            (
                "sales".into(),
                day,
                "banca".into(),
                e,
                d("133.338333"),
                d("0.008333"),
            ),
            ("prizes".into(), day, "banca".into(), e, d("10"), d("0")),
        ];
        let banca = vec![
            ("sales".into(), day, "banca".into(), e, d("133.34"), d("0")),
            ("prizes".into(), day, "banca".into(), e, d("10.01"), d("0")),
        ];
        let mut v = Verification::default();
        compare(&mut v, legacy, banca);
        assert_eq!(v.groups, 2);
        assert_eq!(v.mismatches.len(), 1);
        assert_eq!(v.mismatches[0].metric, "prizes");
        assert!(!v.passed());
        assert_eq!(v.metrics.len(), 2);
    }

    #[test]
    fn a_group_missing_on_one_side_counts_as_zero() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut v = Verification::default();
        compare(
            &mut v,
            vec![],
            vec![("sales".into(), day, "vendedor".into(), None, d("5"), d("0"))],
        );
        assert_eq!(v.mismatches.len(), 1);
        assert_eq!(v.metrics[0].metric, "sales");
        // Counted, not summed: the line shows the banca level.
        assert_eq!(
            (v.metrics[0].groups, v.metrics[0].banca),
            (1, Decimal::ZERO)
        );
    }
}
