-- The by-seller cierre without summing every sorteo's rows (issue 10, reports speed).
--
-- `/cierres/by-seller` (summary) groups `sales_rollup` by seller × lotería × bet type × band and
-- counts each seller's tickets in `ticket_rollup`: for 30 days of the benchmark that is
-- ≈ 103,000 and ≈ 40,000 rows per request (p95 420 ms under load). Its figures need neither the
-- sorteo nor the lotería (the bands used per lotería in its `meta` come from `band_rollup`), so
-- the same sums are kept per business day × seller × bet type × band: ≈ 1/5 of the rows (a
-- seller sells in most of the day's 30-odd sorteos, a line or two in each; keeping the lotería
-- in the key was measured to save only 30 %). They are maintained by
-- `db::rollups::rebuild_sorteo` in the transaction that rebuilds a sorteo's rollups (evaluate,
-- revert, delete, restore): the sorteo's old rows are subtracted before the rebuild and its new
-- rows added after it, under one transaction-scoped advisory lock (two rebuilds never
-- interleave their differences), and groups left without jugadas are deleted. A deleted
-- sorteo's rollups are rebuilt empty, so these tables hold only live sorteos.

CREATE TABLE seller_day_rollup (
    business_date       date NOT NULL,
    banca_id            uuid NOT NULL,
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
    PRIMARY KEY (business_date, ventana_id, vendedor_id, type, band, in_band)
);
CREATE INDEX seller_day_rollup_banca_date_idx ON seller_day_rollup (banca_id, business_date);

-- Distinct tickets per seller × business day (a ticket belongs to one sorteo, so the sorteos'
-- counts add up).
CREATE TABLE seller_day_tickets (
    business_date  date NOT NULL,
    banca_id       uuid NOT NULL,
    ventana_id     uuid NOT NULL,
    vendedor_id    uuid NOT NULL,
    ticket_count   bigint NOT NULL,
    PRIMARY KEY (business_date, ventana_id, vendedor_id)
);
CREATE INDEX seller_day_tickets_banca_date_idx ON seller_day_tickets (banca_id, business_date);

-- A ventana belongs to one banca: `banca_id` follows the key.
INSERT INTO seller_day_rollup (business_date, banca_id, ventana_id, vendedor_id, type, band,
    in_band, total_sales, total_payouts, listero_commission, jugada_count, ticket_count)
SELECT r.business_date, min(r.banca_id::text)::uuid, r.ventana_id, r.vendedor_id, r.type,
       r.band, r.in_band, sum(r.total_sales), sum(r.total_payouts), sum(r.listero_commission),
       sum(r.jugada_count), sum(r.ticket_count)
FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
GROUP BY r.business_date, r.ventana_id, r.vendedor_id, r.type, r.band, r.in_band;

INSERT INTO seller_day_tickets (business_date, banca_id, ventana_id, vendedor_id, ticket_count)
SELECT r.business_date, min(r.banca_id::text)::uuid, r.ventana_id, r.vendedor_id,
       sum(r.ticket_count)
FROM ticket_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
GROUP BY r.business_date, r.ventana_id, r.vendedor_id;

-- The same extended statistics as `sales_rollup` (migration `…000002`): the planner then
-- expects the real number of seller groups and hashes them.
CREATE STATISTICS seller_day_rollup_seller_groups (ndistinct)
    ON vendedor_id, ventana_id FROM seller_day_rollup;
CREATE STATISTICS seller_day_tickets_seller_groups (ndistinct)
    ON vendedor_id, ventana_id FROM seller_day_tickets;
ANALYZE seller_day_rollup;
ANALYZE seller_day_tickets;
