-- The weekly cierre without summing every seller's rows (issue 10, reports speed).
--
-- `/cierres/weekly` (and the XLSX band sheets) group `sales_rollup` by sorteo × business day ×
-- bet type × band: for 30 days of the benchmark that summed ≈ 103,000 rows (one per ventana ×
-- seller × type × band) into ≈ 2,200 (80–160 ms of the request). `band_rollup` keeps those
-- sums, written by `rebuild_sorteo_rollup` in the same transaction as `sales_rollup` (evaluate,
-- revert, delete, restore), so the two always agree; the cierre reads it when it is not
-- narrowed to a ventana or to sellers. It changes only together with `sales_rollup`, whose
-- trigger already bumps the banca's report generation in that transaction.

CREATE TABLE band_rollup (
    sorteo_id           uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date       date NOT NULL,
    banca_id            uuid NOT NULL,
    loteria_id          uuid NOT NULL,
    type                bet_type NOT NULL,
    band                numeric(12, 4) NOT NULL,
    in_band             boolean NOT NULL,
    total_sales         numeric(16, 2) NOT NULL,
    total_payouts       numeric(16, 2) NOT NULL,
    listero_commission  numeric(16, 2) NOT NULL,
    jugada_count        bigint NOT NULL,
    -- Σ of the sellers' distinct tickets (additive within one type and band).
    ticket_count        bigint NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, type, band)
);
CREATE INDEX band_rollup_banca_date_idx ON band_rollup (banca_id, business_date);
CREATE INDEX band_rollup_date_idx ON band_rollup (business_date);

CREATE OR REPLACE FUNCTION rebuild_sorteo_rollup(p_sorteo uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    DELETE FROM sales_rollup WHERE sorteo_id = p_sorteo;
    DELETE FROM ticket_rollup WHERE sorteo_id = p_sorteo;
    DELETE FROM ventana_rollup WHERE sorteo_id = p_sorteo;
    DELETE FROM band_rollup WHERE sorteo_id = p_sorteo;

    CREATE TEMP TABLE IF NOT EXISTS rollup_pop (
        id uuid, business_date date, banca_id uuid, ventana_id uuid, vendedor_id uuid,
        loteria_id uuid, is_winner boolean, total_payout numeric) ON COMMIT DROP;
    TRUNCATE rollup_pop;
    INSERT INTO rollup_pop
    SELECT t.id, t.business_date, t.banca_id, t.ventana_id, t.vendedor_id, t.loteria_id,
           t.is_winner, t.total_payout
    FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
    WHERE t.sorteo_id = p_sorteo
      AND t.deleted_at IS NULL AND t.is_active
      AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
      AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
      AND s.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM sorteo_lista_exclusions x
          WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL AND x.number IS NULL
            AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
            AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id));

    WITH jl AS (
        SELECT j.ticket_id, j.type, j.number, j.amount, j.final_multiplier_x, j.is_winner,
               j.payout, j.listero_commission_amount, j.commission_amount, j.commission_origin,
               p.business_date, p.banca_id, p.ventana_id, p.vendedor_id, p.loteria_id
        FROM jugadas j JOIN rollup_pop p ON p.id = j.ticket_id
        WHERE j.sorteo_id = p_sorteo AND j.is_active AND NOT j.is_excluded
          AND j.deleted_at IS NULL),
    nb AS (
        SELECT ticket_id, number, min(final_multiplier_x) AS x
        FROM jl WHERE type = 'NUMERO' GROUP BY ticket_id, number),
    banded AS (
        SELECT jl.*, CASE WHEN jl.type = 'NUMERO' THEN jl.final_multiplier_x
                          ELSE COALESCE(nb.x, 0) END AS band
        FROM jl LEFT JOIN nb ON jl.type = 'REVENTADO' AND nb.ticket_id = jl.ticket_id
                            AND nb.number = jl.number),
    grouped AS (
        SELECT business_date, banca_id, ventana_id, vendedor_id, loteria_id, type, band,
               sum(amount) AS sales,
               COALESCE(sum(payout) FILTER (WHERE is_winner), 0) AS payouts,
               sum(listero_commission_amount) AS listero,
               COALESCE(sum(commission_amount) FILTER (WHERE commission_origin = 'USER'), 0)
                 AS vend,
               sum(commission_amount) AS comm,
               count(*) AS jugadas,
               count(*) FILTER (WHERE is_winner) AS winning,
               count(DISTINCT ticket_id) AS tickets
        FROM banded
        GROUP BY business_date, banca_id, ventana_id, vendedor_id, loteria_id, type, band)
    INSERT INTO sales_rollup (sorteo_id, business_date, banca_id, ventana_id, vendedor_id,
        loteria_id, type, band, in_band, total_sales, total_payouts, listero_commission,
        vendedor_commission, commission_total, jugada_count, winning_jugadas, ticket_count)
    SELECT p_sorteo, g.business_date, g.banca_id, g.ventana_id, g.vendedor_id, g.loteria_id,
           g.type, g.band,
           EXISTS (SELECT 1 FROM loteria_multipliers m
                   WHERE m.loteria_id = g.loteria_id AND m.kind = 'NUMERO' AND m.is_active
                     AND m.value_x = g.band
                     AND (m.applies_to_sorteo_id IS NULL OR m.applies_to_sorteo_id = p_sorteo)),
           g.sales, g.payouts, g.listero, g.vend, g.comm, g.jugadas, g.winning, g.tickets
    FROM grouped g;
    GET DIAGNOSTICS n = ROW_COUNT;

    INSERT INTO ticket_rollup (sorteo_id, business_date, banca_id, ventana_id, vendedor_id,
        loteria_id, ticket_count, winner_count, total_sales, total_payouts, listero_commission,
        vendedor_commission, commission_total, jugada_count, winning_jugadas)
    SELECT p_sorteo, p.business_date, p.banca_id, p.ventana_id, p.vendedor_id, p.loteria_id,
           count(*), count(*) FILTER (WHERE p.is_winner),
           COALESCE(max(m.sales), 0), sum(p.total_payout),
           COALESCE(max(m.listero), 0), COALESCE(max(m.vend), 0), COALESCE(max(m.comm), 0),
           COALESCE(max(m.jugadas), 0), COALESCE(max(m.winning), 0)
    FROM rollup_pop p
    LEFT JOIN (SELECT business_date, ventana_id, vendedor_id, sum(total_sales) AS sales,
                      sum(listero_commission) AS listero, sum(vendedor_commission) AS vend,
                      sum(commission_total) AS comm, sum(jugada_count) AS jugadas,
                      sum(winning_jugadas) AS winning
               FROM sales_rollup WHERE sorteo_id = p_sorteo
               GROUP BY business_date, ventana_id, vendedor_id) m
      ON m.business_date = p.business_date AND m.ventana_id = p.ventana_id
     AND m.vendedor_id = p.vendedor_id
    GROUP BY p.business_date, p.banca_id, p.ventana_id, p.vendedor_id, p.loteria_id;

    INSERT INTO ventana_rollup (sorteo_id, business_date, banca_id, ventana_id, loteria_id,
        ticket_count, winner_count, total_sales, total_payouts, listero_commission,
        vendedor_commission, commission_total, jugada_count, winning_jugadas)
    SELECT p_sorteo, business_date, banca_id, ventana_id, loteria_id,
           sum(ticket_count), sum(winner_count), sum(total_sales), sum(total_payouts),
           sum(listero_commission), sum(vendedor_commission), sum(commission_total),
           sum(jugada_count), sum(winning_jugadas)
    FROM ticket_rollup WHERE sorteo_id = p_sorteo
    GROUP BY business_date, banca_id, ventana_id, loteria_id;

    INSERT INTO band_rollup (sorteo_id, business_date, banca_id, loteria_id, type, band,
        in_band, total_sales, total_payouts, listero_commission, jugada_count, ticket_count)
    SELECT p_sorteo, business_date, banca_id, loteria_id, type, band, in_band,
           sum(total_sales), sum(total_payouts), sum(listero_commission), sum(jugada_count),
           sum(ticket_count)
    FROM sales_rollup WHERE sorteo_id = p_sorteo
    GROUP BY business_date, banca_id, loteria_id, type, band, in_band;

    TRUNCATE rollup_pop;
    RETURN n;
END $$;

INSERT INTO band_rollup (sorteo_id, business_date, banca_id, loteria_id, type, band, in_band,
    total_sales, total_payouts, listero_commission, jugada_count, ticket_count)
SELECT sorteo_id, business_date, banca_id, loteria_id, type, band, in_band,
       sum(total_sales), sum(total_payouts), sum(listero_commission), sum(jugada_count),
       sum(ticket_count)
FROM sales_rollup
GROUP BY sorteo_id, business_date, banca_id, loteria_id, type, band, in_band;
