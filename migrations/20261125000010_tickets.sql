-- The sale path: tickets, their jugadas (bet lines), per-number sales counters and ticket
-- idempotency keys. Money is NUMERIC(14,2); instants timestamptz (UTC); business dates DATE in
-- the business time zone (the calendar date of the sorteo's draw).

CREATE TYPE ticket_status AS ENUM (
    'ACTIVE', 'EVALUATED', 'PAID', 'PAGADO', 'CANCELLED', 'RESTORED', 'EXCLUDED'
);

-- Ticket numbers: T<YYMMDD>-<sequence>-<check>. The sequence is never reused (nextval is not
-- rolled back) and takes no lock, so concurrent sales never queue on a counter row.
CREATE SEQUENCE ticket_number_seq AS bigint START 1;

-- Foreign keys on the sale path's tables are kept where they guard something a sale does not
-- already check in its own transaction: a ticket references its sorteo (locked by the sale)
-- and its vendedor. Its banca, lotería, ventana and creator are copies taken from those rows
-- in the same transaction, and bancas, ventanas, loterías, users and multipliers are never
-- hard-deleted (soft delete only); each extra key would cost a lookup and a shared row lock
-- on a row every sale of the banca touches.
CREATE TABLE tickets (
    id                          uuid PRIMARY KEY,
    ticket_number               varchar(24) NOT NULL,
    business_date               date NOT NULL,
    banca_id                    uuid NOT NULL,
    loteria_id                  uuid NOT NULL,
    sorteo_id                   uuid NOT NULL REFERENCES sorteos (id) ON DELETE RESTRICT,
    ventana_id                  uuid NOT NULL,
    vendedor_id                 uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    total_amount                numeric(14, 2) NOT NULL CHECK (total_amount > 0),
    total_commission            numeric(14, 2) NOT NULL DEFAULT 0,
    total_listero_commission    numeric(14, 2) NOT NULL DEFAULT 0,
    status                      ticket_status NOT NULL DEFAULT 'ACTIVE',
    is_active                   boolean NOT NULL DEFAULT true,
    is_winner                   boolean NOT NULL DEFAULT false,
    total_payout                numeric(14, 2) NOT NULL DEFAULT 0,
    total_paid                  numeric(14, 2) NOT NULL DEFAULT 0,
    remaining_amount            numeric(14, 2) NOT NULL DEFAULT 0,
    last_payment_at             timestamptz,
    paid_by_id                  uuid REFERENCES users (id) ON DELETE SET NULL,
    payment_method              text,
    payment_notes               text,
    payment_history             jsonb,
    cliente_nombre              varchar(100) NOT NULL DEFAULT 'CLIENTE CONTADO',
    created_by                  uuid,
    created_by_role             user_role,
    is_sorteo_closed            boolean NOT NULL DEFAULT false,
    idempotency_key             varchar(100),
    print_count                 integer NOT NULL DEFAULT 0,
    cancelled_at                timestamptz,
    cancelled_by                uuid REFERENCES users (id) ON DELETE SET NULL,
    deleted_at                  timestamptz,
    deleted_by                  text,
    deleted_reason              text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tickets_ticket_number_key UNIQUE (ticket_number)
);
-- Every ticket of a sorteo (cancelled and deleted ones too: exclusions, cascades, lists).
CREATE INDEX tickets_sorteo_created_idx ON tickets (sorteo_id, created_at DESC, id DESC);
-- The live sales of a sorteo per scope (percentage limits), read from the index alone.
-- (`status` is deliberately not in any index, and tickets leave room in each page: evaluation,
-- payment and close change every ticket of a sorteo, and those updates stay HOT.)
CREATE INDEX tickets_sorteo_sales_idx ON tickets (sorteo_id, banca_id)
    INCLUDE (ventana_id, vendedor_id, total_amount) WHERE deleted_at IS NULL;
ALTER TABLE tickets SET (fillfactor = 85);
CREATE INDEX tickets_banca_date_idx ON tickets (banca_id, business_date, created_at DESC, id DESC);
CREATE INDEX tickets_ventana_date_idx ON tickets (ventana_id, business_date, created_at DESC);
CREATE INDEX tickets_vendedor_date_idx ON tickets (vendedor_id, business_date, created_at DESC);
CREATE INDEX tickets_date_created_idx ON tickets (business_date, created_at DESC, id DESC);

CREATE TABLE jugadas (
    id                          uuid PRIMARY KEY,
    ticket_id                   uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- Copied from the ticket: per-sorteo summaries read jugadas without joining tickets.
    sorteo_id                   uuid NOT NULL,
    banca_id                    uuid NOT NULL,
    -- Line order within the ticket (0-based), as sent.
    position                    smallint NOT NULL,
    type                        bet_type NOT NULL,
    number                      text NOT NULL CHECK (number ~ '^[0-9]{2,3}$'),
    reventado_number            text CHECK (reventado_number IS NULL OR reventado_number ~ '^[0-9]{2,3}$'),
    amount                      numeric(14, 2) NOT NULL CHECK (amount > 0),
    final_multiplier_x          numeric(12, 4) NOT NULL DEFAULT 0,
    -- The multiplier the line was sold with (multipliers are deactivated, never deleted).
    multiplier_id               uuid,
    payout                      numeric(14, 2),
    is_winner                   boolean NOT NULL DEFAULT false,
    is_active                   boolean NOT NULL DEFAULT true,
    commission_percent          numeric(7, 4) NOT NULL DEFAULT 0,
    commission_amount           numeric(14, 2) NOT NULL DEFAULT 0,
    commission_origin           text,
    commission_rule_id          text,
    listero_commission_amount   numeric(14, 2) NOT NULL DEFAULT 0,
    is_excluded                 boolean NOT NULL DEFAULT false,
    excluded_at                 timestamptz,
    excluded_by                 uuid REFERENCES users (id) ON DELETE SET NULL,
    excluded_reason             text,
    deleted_at                  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jugadas_ticket_position_key UNIQUE (ticket_id, position)
);
CREATE INDEX jugadas_sorteo_number_idx ON jugadas (sorteo_id, number) WHERE is_active;

-- Per-number running totals of active jugadas, per sorteo and counting scope (the seller, its
-- ventana, its banca) and per multiplier key: the nil uuid counts every jugada of the number,
-- a multiplier id its NUMERO jugadas, the max uuid (ffffffff-…) the REVENTADO jugadas. The sale
-- transaction adds to them (row locks taken in key order) and checks every cumulative limit
-- against the values it wrote; cancelling subtracts. They never go negative.
CREATE TABLE sale_counters (
    sorteo_id   uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    scope_kind  text NOT NULL CHECK (scope_kind IN ('VENDEDOR', 'VENTANA', 'BANCA')),
    scope_id    uuid NOT NULL,
    mkey        uuid NOT NULL,
    number      text NOT NULL,
    amount      numeric(18, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    PRIMARY KEY (sorteo_id, scope_id, mkey, number)
);

-- Ticket idempotency: one row per (user, key). The first request claims the key inside its sale
-- transaction; a concurrent twin waits on the row and then replays the stored response.
CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key             varchar(100) NOT NULL,
    request_hash    text NOT NULL,
    ticket_id       uuid,
    status_code     smallint,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
-- A stored answer (a few KiB of JSON) stays in the row: no TOAST round trip or compression on
-- the sale path.
ALTER TABLE idempotency_keys SET (toast_tuple_target = 8160);
ALTER TABLE idempotency_keys ALTER COLUMN response_body SET STORAGE MAIN;
