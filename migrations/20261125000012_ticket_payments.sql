-- Prize payments of winning tickets (issue 7, decision 10): one model behind
-- `/tickets/:id/pay|reverse-payment|finalize-payment` and `/ticket-payments`. Payments are
-- never deleted: a reversal marks the row (who, when, why) and a forced revert of an evaluation
-- reverses them (decision 9). Money is NUMERIC(14,2).

CREATE TABLE ticket_payments (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ticket_id           uuid NOT NULL REFERENCES tickets (id) ON DELETE RESTRICT,
    banca_id            uuid NOT NULL,
    amount_paid         numeric(14, 2) NOT NULL CHECK (amount_paid > 0),
    paid_by_id          uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    payment_date        timestamptz NOT NULL DEFAULT now(),
    method              text NOT NULL DEFAULT 'cash'
                        CHECK (method IN ('cash', 'transfer', 'check', 'other', 'system')),
    notes               text,
    is_partial          boolean NOT NULL DEFAULT false,
    remaining_amount    numeric(14, 2),
    is_final            boolean NOT NULL DEFAULT false,
    completed_at        timestamptz,
    is_reversed         boolean NOT NULL DEFAULT false,
    reversed_at         timestamptz,
    reversed_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    reversed_reason     text,
    idempotency_key     varchar(100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_payments_ticket_idx ON ticket_payments (ticket_id, created_at);
CREATE INDEX ticket_payments_banca_date_idx ON ticket_payments (banca_id, payment_date DESC);
-- A payment's idempotency key is unique per payer (the existing system: globally).
CREATE UNIQUE INDEX ticket_payments_idempotency_key
    ON ticket_payments (paid_by_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
