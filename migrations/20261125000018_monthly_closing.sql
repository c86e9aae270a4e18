-- Monthly closing snapshots (domain-money §5.8), written by the `monthly_closing` job: per
-- entity and month, the month's sums of its daily statements and its net flow. A reporting
-- snapshot: the ledger's running balance stays in account_statements.
CREATE TABLE monthly_closing_balances (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- 'YYYY-MM'.
    closing_month       char(7) NOT NULL,
    dimension           text NOT NULL CHECK (dimension IN ('banca', 'ventana', 'vendedor')),
    banca_id            uuid NOT NULL REFERENCES bancas (id) ON DELETE RESTRICT,
    ventana_id          uuid,
    vendedor_id         uuid,
    entity_id           uuid GENERATED ALWAYS AS (
                            CASE dimension WHEN 'vendedor' THEN vendedor_id
                                           WHEN 'ventana' THEN ventana_id
                                           ELSE banca_id END) STORED,
    total_sales         numeric(16, 2) NOT NULL,
    total_payouts       numeric(16, 2) NOT NULL,
    total_commission    numeric(16, 2) NOT NULL,
    total_paid          numeric(16, 2) NOT NULL,
    total_collected     numeric(16, 2) NOT NULL,
    -- sales − payouts − commission − collected + paid of the month (its net flow).
    closing_balance     numeric(16, 2) NOT NULL,
    -- The remaining balance of the entity's last statement of the month (the running ledger).
    remaining_balance   numeric(16, 2) NOT NULL,
    ticket_count        integer NOT NULL,
    closing_date        timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT monthly_closing_balances_key UNIQUE (closing_month, dimension, entity_id)
);
CREATE INDEX monthly_closing_balances_banca_idx ON monthly_closing_balances (banca_id, closing_month);
