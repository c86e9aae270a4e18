-- Money after a result (issue 7; the accounts routes come with issue 9).
--
-- * daily_number_sales: per-number sales of an EVALUATED sorteo, written in the evaluation's
--   transaction and removed by its revert (domain-money §1.5; the existing system left them).
-- * account_statements: one row per entity (banca, ventana or vendedor) and business day
--   (domain-money §5.1–5.2). Rebuilt from the tickets and movements, never edited by hand.
-- * account_payments: movements (payments to / collections from an entity, §5.4). Their routes
--   are issue 9; statements already count them.
-- * statement_refreshes: the durable follow-up of evaluate/revert (and of movements): a row
--   written in the same transaction as the change, deleted by the transaction that rebuilt the
--   statements from `from_date` on. A crash between the two leaves the row, so the rebuild is
--   retried; it is never lost.

CREATE TABLE daily_number_sales (
    business_date   date NOT NULL,
    banca_id        uuid NOT NULL,
    ventana_id      uuid NOT NULL,
    vendedor_id     uuid NOT NULL,
    loteria_id      uuid NOT NULL,
    sorteo_id       uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    number          text NOT NULL,
    type            bet_type NOT NULL,
    total_amount    numeric(16, 2) NOT NULL,
    ticket_count    integer NOT NULL,
    jugada_count    integer NOT NULL,
    PRIMARY KEY (sorteo_id, ventana_id, vendedor_id, number, type)
);
CREATE INDEX daily_number_sales_banca_date_idx ON daily_number_sales (banca_id, business_date);

CREATE TABLE account_statements (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    date                date NOT NULL,
    -- 'YYYY-MM' of `date`.
    month               char(7) NOT NULL,
    dimension           text NOT NULL CHECK (dimension IN ('banca', 'ventana', 'vendedor')),
    banca_id            uuid NOT NULL REFERENCES bancas (id) ON DELETE RESTRICT,
    -- Set for ventana rows and (as the vendedor's ventana that day) for vendedor rows.
    ventana_id          uuid,
    vendedor_id         uuid,
    -- The row's entity: the vendedor, the ventana or the banca.
    entity_id           uuid GENERATED ALWAYS AS (
                            CASE dimension WHEN 'vendedor' THEN vendedor_id
                                           WHEN 'ventana' THEN ventana_id
                                           ELSE banca_id END) STORED,
    total_sales         numeric(16, 2) NOT NULL DEFAULT 0,
    total_payouts       numeric(16, 2) NOT NULL DEFAULT 0,
    listero_commission  numeric(16, 2) NOT NULL DEFAULT 0,
    vendedor_commission numeric(16, 2) NOT NULL DEFAULT 0,
    -- sales − payouts − commission of the dimension (vendedor: vendedor's; else listero's).
    balance             numeric(16, 2) NOT NULL DEFAULT 0,
    total_paid          numeric(16, 2) NOT NULL DEFAULT 0,
    total_collected     numeric(16, 2) NOT NULL DEFAULT 0,
    -- opening + balance + paid − collected (positive: the entity owes the banca).
    remaining_balance   numeric(16, 2) NOT NULL DEFAULT 0,
    accumulated_balance numeric(16, 2) NOT NULL DEFAULT 0,
    ticket_count        integer NOT NULL DEFAULT 0,
    is_settled          boolean NOT NULL DEFAULT false,
    can_edit            boolean NOT NULL DEFAULT true,
    settled_at          timestamptz,
    settled_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_statements_entity_present CHECK (
        (dimension = 'banca' AND vendedor_id IS NULL)
        OR (dimension = 'ventana' AND ventana_id IS NOT NULL AND vendedor_id IS NULL)
        OR (dimension = 'vendedor' AND vendedor_id IS NOT NULL)),
    CONSTRAINT account_statements_entity_day_key UNIQUE (dimension, entity_id, date)
);
CREATE INDEX account_statements_banca_date_idx ON account_statements (banca_id, date);
CREATE INDEX account_statements_unsettled_idx ON account_statements (date) WHERE NOT is_settled;

CREATE TABLE account_payments (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_statement_id    uuid REFERENCES account_statements (id) ON DELETE SET NULL,
    date                    date NOT NULL,
    month                   char(7) NOT NULL,
    -- "HH:MM" in the business time zone.
    time                    char(5) NOT NULL DEFAULT '00:00',
    banca_id                uuid NOT NULL REFERENCES bancas (id) ON DELETE RESTRICT,
    ventana_id              uuid,
    vendedor_id             uuid,
    amount                  numeric(14, 2) NOT NULL CHECK (amount > 0),
    type                    text NOT NULL CHECK (type IN ('payment', 'collection')),
    method                  text NOT NULL CHECK (method IN ('cash', 'transfer', 'check', 'other')),
    notes                   text,
    is_final                boolean NOT NULL DEFAULT false,
    is_reversed             boolean NOT NULL DEFAULT false,
    reversed_at             timestamptz,
    reversed_by             uuid REFERENCES users (id) ON DELETE SET NULL,
    reversed_reason         text,
    paid_by_id              uuid REFERENCES users (id) ON DELETE SET NULL,
    paid_by_name            text,
    idempotency_key         varchar(100) UNIQUE,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_payments_banca_date_idx ON account_payments (banca_id, date);
CREATE INDEX account_payments_vendedor_date_idx ON account_payments (vendedor_id, date)
    WHERE vendedor_id IS NOT NULL;
CREATE INDEX account_payments_ventana_date_idx ON account_payments (ventana_id, date)
    WHERE ventana_id IS NOT NULL;

CREATE TABLE statement_refreshes (
    id              bigserial PRIMARY KEY,
    banca_id        uuid NOT NULL,
    -- Rebuild this business day and every later day of the banca's statements.
    from_date       date NOT NULL,
    reason          text NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text
);
CREATE INDEX statement_refreshes_banca_idx ON statement_refreshes (banca_id, from_date);
