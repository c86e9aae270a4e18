-- Most played numbers without reading one row per jugada (issue 10, reports speed).
--
-- `daily_number_sales` keeps a row per sorteo × ventana × vendedor × number × type: with 200
-- sellers and a few hundred jugadas per sorteo that is about one row per jugada, and the
-- banca-wide "numbers" reports (`/reports/tickets/summary`, `/reports/tickets/numbers-analysis`)
-- summed ≈ 320,000 of them for 30 days. `number_rollup` is the same population summed per
-- sorteo × business day × number × type (at most 200 rows a sorteo for two digits): the
-- reports read it when they are not narrowed to a ventana or a seller, and
-- `daily_number_sales` when they are.
--
-- Written and removed together with `daily_number_sales`, in the evaluation's and the revert's
-- transaction (`db::statements::rebuild_number_sales` / `drop_number_sales`). Rows of a sorteo
-- that was deleted stay, as in `daily_number_sales`; the reports leave deleted sorteos out.

CREATE TABLE number_rollup (
    sorteo_id       uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    business_date   date NOT NULL,
    number          text NOT NULL,
    type            bet_type NOT NULL,
    banca_id        uuid NOT NULL,
    loteria_id      uuid NOT NULL,
    total_amount    numeric(16, 2) NOT NULL,
    jugada_count    integer NOT NULL,
    PRIMARY KEY (sorteo_id, business_date, number, type)
);
CREATE INDEX number_rollup_banca_date_idx ON number_rollup (banca_id, business_date);

INSERT INTO number_rollup (sorteo_id, business_date, number, type, banca_id, loteria_id,
                           total_amount, jugada_count)
SELECT sorteo_id, business_date, number, type, min(banca_id::text)::uuid,
       min(loteria_id::text)::uuid, sum(total_amount), sum(jugada_count)
FROM daily_number_sales
GROUP BY sorteo_id, business_date, number, type;
