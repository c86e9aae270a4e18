-- Reports (cierres, dashboard, ventas, /reports): per-sorteo aggregates written in the same
-- transaction as the event that changes them (evaluate, revert, delete/restore of a drawn
-- sorteo), and a per-banca generation number that every money-changing write bumps, so a cached
-- report is never served after the event that changed it.

-- One row per (sorteo, ventana, vendedor, bet type, band) of the money population of the
-- statements (domain-money §8.1): tickets not deleted, active, ACTIVE/EVALUATED/PAID/PAGADO,
-- outside any whole-list exclusion, of a sorteo with a result (EVALUATED, or CLOSED after it)
-- that is not deleted; jugadas active, not excluded, not deleted.
-- `band`: a NUMERO line's sale-time multiplier; a REVENTADO line's is the smallest NUMERO
-- multiplier of the same number on the same ticket (0 when the ticket has none).
-- `in_band`: an active NUMERO multiplier of the lotería has exactly that value.
CREATE TABLE sales_rollup (
    sorteo_id            uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date        date NOT NULL,
    banca_id             uuid NOT NULL,
    ventana_id           uuid NOT NULL,
    vendedor_id          uuid NOT NULL,
    loteria_id           uuid NOT NULL,
    type                 bet_type NOT NULL,
    band                 numeric(12, 4) NOT NULL,
    in_band              boolean NOT NULL,
    total_sales          numeric(16, 2) NOT NULL,
    total_payouts        numeric(16, 2) NOT NULL,
    listero_commission   numeric(16, 2) NOT NULL,
    -- Seller commission whose origin is the user's policy (what vendedor statements subtract).
    vendedor_commission  numeric(16, 2) NOT NULL,
    -- Seller commission of every origin.
    commission_total     numeric(16, 2) NOT NULL,
    jugada_count         integer NOT NULL,
    winning_jugadas      integer NOT NULL,
    -- Distinct tickets with a line in this row (not additive across types and bands).
    ticket_count         integer NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, ventana_id, vendedor_id, type, band)
);
CREATE INDEX sales_rollup_banca_date_idx ON sales_rollup (banca_id, business_date);
CREATE INDEX sales_rollup_date_idx ON sales_rollup (business_date);

-- One row per (sorteo, ventana, vendedor) over the same population: the figures that add up
-- across sorteos and sellers (ticket counts too), for every report that does not split by bet
-- type or band.
CREATE TABLE ticket_rollup (
    sorteo_id            uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date        date NOT NULL,
    banca_id             uuid NOT NULL,
    ventana_id           uuid NOT NULL,
    vendedor_id          uuid NOT NULL,
    loteria_id           uuid NOT NULL,
    ticket_count         integer NOT NULL,
    winner_count         integer NOT NULL,
    total_sales          numeric(16, 2) NOT NULL,
    total_payouts        numeric(16, 2) NOT NULL,
    listero_commission   numeric(16, 2) NOT NULL,
    vendedor_commission  numeric(16, 2) NOT NULL,
    commission_total     numeric(16, 2) NOT NULL,
    jugada_count         integer NOT NULL,
    winning_jugadas      integer NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, ventana_id, vendedor_id)
);
CREATE INDEX ticket_rollup_banca_date_idx ON ticket_rollup (banca_id, business_date);
CREATE INDEX ticket_rollup_date_idx ON ticket_rollup (business_date);

-- The same figures per (sorteo, ventana): what the banca-, ventana- and lotería-level views
-- read (about 1/40 of `ticket_rollup` with 200 sellers). `vendedor_id` is always NULL, so a
-- query written for `ticket_rollup` with an optional vendedor filter reads it unchanged.
CREATE TABLE ventana_rollup (
    sorteo_id            uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date        date NOT NULL,
    banca_id             uuid NOT NULL,
    ventana_id           uuid NOT NULL,
    vendedor_id          uuid CHECK (vendedor_id IS NULL),
    loteria_id           uuid NOT NULL,
    ticket_count         integer NOT NULL,
    winner_count         integer NOT NULL,
    total_sales          numeric(16, 2) NOT NULL,
    total_payouts        numeric(16, 2) NOT NULL,
    listero_commission   numeric(16, 2) NOT NULL,
    vendedor_commission  numeric(16, 2) NOT NULL,
    commission_total     numeric(16, 2) NOT NULL,
    jugada_count         integer NOT NULL,
    winning_jugadas      integer NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, ventana_id)
);
CREATE INDEX ventana_rollup_banca_date_idx ON ventana_rollup (banca_id, business_date);
CREATE INDEX ventana_rollup_date_idx ON ventana_rollup (business_date);

-- Winners of a period (ventas payment figures, winners reports) without scanning every ticket.
CREATE INDEX tickets_winners_banca_date_idx ON tickets (banca_id, business_date)
    WHERE is_winner AND deleted_at IS NULL;
-- Cancelled tickets of a period (reports).
CREATE INDEX tickets_cancelled_banca_date_idx ON tickets (banca_id, business_date)
    WHERE status = 'CANCELLED';

-- The report cache's invalidation: a banca's generation grows with every write that changes
-- its money (rollups, prize payments, movements, statements, adjustments). Cached reports are
-- keyed by it. Bumped by statement-level triggers, so no writer can forget it; the sale path
-- does not bump it (sales of an open sorteo change no report money).
CREATE TABLE report_generations (
    banca_id    uuid PRIMARY KEY,
    generation  bigint NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION bump_report_generation_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_generations AS g (banca_id)
    SELECT DISTINCT banca_id FROM new_rows WHERE banca_id IS NOT NULL
    ORDER BY banca_id
    ON CONFLICT (banca_id) DO UPDATE SET generation = g.generation + 1, updated_at = now();
    RETURN NULL;
END $$;

CREATE FUNCTION bump_report_generation_old() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_generations AS g (banca_id)
    SELECT DISTINCT banca_id FROM old_rows WHERE banca_id IS NOT NULL
    ORDER BY banca_id
    ON CONFLICT (banca_id) DO UPDATE SET generation = g.generation + 1, updated_at = now();
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sales_rollup', 'ticket_rollup', 'ticket_payments',
                             'account_payments', 'account_statements', 'statement_adjustments']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION bump_report_generation_new()',
                       t || '_gen_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION bump_report_generation_new()',
                       t || '_gen_upd', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION bump_report_generation_old()',
                       t || '_gen_del', t);
    END LOOP;
END $$;

-- Replaces the rollups of one sorteo with its current money population (empty when the sorteo
-- has no result any more, or is deleted). Called in the transaction of every change to a drawn
-- sorteo (db::rollups::rebuild_sorteo). Returns the sales_rollup rows written.
CREATE FUNCTION rebuild_sorteo_rollup(p_sorteo uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
    DELETE FROM sales_rollup WHERE sorteo_id = p_sorteo;
    DELETE FROM ticket_rollup WHERE sorteo_id = p_sorteo;
    DELETE FROM ventana_rollup WHERE sorteo_id = p_sorteo;

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

    TRUNCATE rollup_pop;
    RETURN n;
END $$;

-- Existing results: fill the rollups once (a fresh database has none).
SELECT rebuild_sorteo_rollup(id) FROM sorteos WHERE winning_number IS NOT NULL;
