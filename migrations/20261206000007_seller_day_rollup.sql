-- The by-seller cierre without summing every sorteo's rows (issue 10, reports speed).
--
-- `/cierres/by-seller` groups `sales_rollup` by seller × lotería × bet type × band and counts
-- each seller's tickets in `ticket_rollup`: for 30 days of the benchmark that is ≈ 103,000 and
-- ≈ 40,000 rows per request (p95 420 ms under load). A seller sells in ≈ 5–6 sorteos of each
-- lotería per day, so the same sums kept per business day instead of per sorteo are ≈ 1/5 of
-- the rows. They are maintained by `db::rollups::rebuild_sorteo` in the transaction that
-- rebuilds a sorteo's rollups (evaluate, revert, delete, restore): the sorteo's old rows are
-- subtracted before the rebuild and its new rows added after it, under a transaction-scoped
-- advisory lock per lotería (two rebuilds of sorteos of one lotería never interleave), and
-- groups left without jugadas are deleted. A deleted sorteo's rollups are rebuilt empty, so
-- these tables hold only live sorteos.

CREATE TABLE seller_day_rollup (
    business_date       date NOT NULL,
    banca_id            uuid NOT NULL,
    loteria_id          uuid NOT NULL,
    ventana_id          uuid NOT NULL,
    vendedor_id         uuid NOT NULL,
    type                bet_type NOT NULL,
    band                numeric(12, 4) NOT NULL,
    in_band             boolean NOT NULL,
    total_sales         numeric(16, 2) NOT NULL,
    total_payouts       numeric(16, 2) NOT NULL,
    listero_commission  numeric(16, 2) NOT NULL,
    jugada_count        bigint NOT NULL,
    -- Σ of the sorteos' distinct tickets (additive within one type and band).
    ticket_count        bigint NOT NULL,
    PRIMARY KEY (business_date, loteria_id, ventana_id, vendedor_id, type, band, in_band)
);
CREATE INDEX seller_day_rollup_banca_date_idx ON seller_day_rollup (banca_id, business_date);

-- Distinct tickets per seller × lotería × business day (a ticket belongs to one sorteo, so
-- the sorteos' counts add up).
CREATE TABLE seller_day_tickets (
    business_date  date NOT NULL,
    banca_id       uuid NOT NULL,
    loteria_id     uuid NOT NULL,
    ventana_id     uuid NOT NULL,
    vendedor_id    uuid NOT NULL,
    ticket_count   bigint NOT NULL,
    PRIMARY KEY (business_date, loteria_id, ventana_id, vendedor_id)
);
CREATE INDEX seller_day_tickets_banca_date_idx ON seller_day_tickets (banca_id, business_date);

INSERT INTO seller_day_rollup (business_date, banca_id, loteria_id, ventana_id, vendedor_id,
    type, band, in_band, total_sales, total_payouts, listero_commission, jugada_count,
    ticket_count)
SELECT r.business_date, r.banca_id, r.loteria_id, r.ventana_id, r.vendedor_id, r.type, r.band,
       r.in_band, sum(r.total_sales), sum(r.total_payouts), sum(r.listero_commission),
       sum(r.jugada_count), sum(r.ticket_count)
FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
GROUP BY r.business_date, r.banca_id, r.loteria_id, r.ventana_id, r.vendedor_id, r.type,
         r.band, r.in_band;

INSERT INTO seller_day_tickets (business_date, banca_id, loteria_id, ventana_id, vendedor_id,
    ticket_count)
SELECT r.business_date, r.banca_id, r.loteria_id, r.ventana_id, r.vendedor_id,
       sum(r.ticket_count)
FROM ticket_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
GROUP BY r.business_date, r.banca_id, r.loteria_id, r.ventana_id, r.vendedor_id;

-- The same extended statistics as `sales_rollup` (migration `…000002`): the planner then
-- expects the real number of seller groups and hashes them.
CREATE STATISTICS seller_day_rollup_seller_groups (ndistinct)
    ON vendedor_id, ventana_id FROM seller_day_rollup;
CREATE STATISTICS seller_day_tickets_seller_groups (ndistinct)
    ON vendedor_id, ventana_id FROM seller_day_tickets;
ANALYZE seller_day_rollup;
ANALYZE seller_day_tickets;
