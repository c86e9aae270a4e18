-- The tickets summary without reading every ticket of the period (issue 10, reports speed).
--
-- `/reports/tickets/summary` splits the sold tickets by hour of sale, lotería and sorteo; it
-- read every ticket of the period (≈ 67,000 for 30 days of the benchmark, 190 ms). For a drawn
-- sorteo those figures no longer change, so they are kept per sorteo × business day × hour of
-- sale (the UTC hour, `date_bin`; the report turns it into the business zone's hour, exact for
-- zones whose offset is whole hours — the report reads the tickets otherwise): ≈ 5,400 rows for
-- the same 30 days. The sold population is the summary's: tickets not deleted, active,
-- ACTIVE/EVALUATED/PAID/PAGADO. Payment state and cancellations stay live.
--
-- Written and removed with `daily_number_sales`, in the evaluation's and the revert's
-- transaction (`db::statements::rebuild_number_sales` / `drop_number_sales`); rows of a deleted
-- sorteo stay and the report leaves deleted sorteos out.

CREATE TABLE sale_hour_rollup (
    sorteo_id       uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date   date NOT NULL,
    -- created_at binned to the UTC hour.
    sale_hour       timestamptz NOT NULL,
    banca_id        uuid NOT NULL,
    loteria_id      uuid NOT NULL,
    ticket_count    integer NOT NULL,
    total_amount    numeric(16, 2) NOT NULL,
    -- Σ total_payout of the tickets no longer ACTIVE (the summary's prizes).
    total_payout    numeric(16, 2) NOT NULL,
    winner_count    integer NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, sale_hour)
);
CREATE INDEX sale_hour_rollup_banca_date_idx ON sale_hour_rollup (banca_id, business_date);

INSERT INTO sale_hour_rollup (sorteo_id, business_date, sale_hour, banca_id, loteria_id,
                              ticket_count, total_amount, total_payout, winner_count)
SELECT t.sorteo_id, t.business_date,
       date_bin('1 hour', t.created_at, timestamptz '2000-01-01 00:00:00+00'),
       min(t.banca_id::text)::uuid, min(t.loteria_id::text)::uuid, count(*),
       sum(t.total_amount),
       COALESCE(sum(t.total_payout) FILTER (WHERE t.status <> 'ACTIVE'), 0),
       count(*) FILTER (WHERE t.is_winner)
FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
WHERE s.winning_number IS NOT NULL
  AND t.deleted_at IS NULL AND t.is_active
  AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
GROUP BY 1, 2, 3;
