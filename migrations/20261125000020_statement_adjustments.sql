-- Settled days are closed (decision 11): when a settled statement's figures change later (a
-- revert, a late movement, a late evaluation), the settled row stays as it was and the
-- difference is booked as an adjustment on the first open day, which carries it into the
-- running balance. A further change to the same settled day updates the amount of its
-- adjustment while the day it is booked on is still open; once that day is settled too, the
-- further difference is a new adjustment on a later open day (nothing closed ever changes).
CREATE TABLE statement_adjustments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    banca_id        uuid NOT NULL REFERENCES bancas (id) ON DELETE RESTRICT,
    dimension       text NOT NULL CHECK (dimension IN ('banca', 'ventana', 'vendedor')),
    entity_id       uuid NOT NULL,
    -- The settled day whose recomputed figures differ from the settled ones.
    settled_date    date NOT NULL,
    -- The open day the difference is booked on.
    applied_date    date NOT NULL,
    -- Recomputed (sales − payouts − commission + paid − collected) minus the settled one.
    amount          numeric(16, 2) NOT NULL,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT statement_adjustments_key UNIQUE (dimension, entity_id, settled_date, applied_date),
    CONSTRAINT statement_adjustments_after CHECK (applied_date > settled_date)
);
CREATE INDEX statement_adjustments_banca_applied_idx
    ON statement_adjustments (banca_id, applied_date);

-- The adjustments booked on a statement's day (part of its running balance).
ALTER TABLE account_statements
    ADD COLUMN total_adjustments numeric(16, 2) NOT NULL DEFAULT 0;
