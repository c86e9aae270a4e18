-- Catalog: loterías (games), their multipliers, sorteos (draws), base-multiplier settings and
-- overrides, restriction rules (limits and cutoffs), and exclusion lists.
-- Money and multipliers are NUMERIC; instants timestamptz (UTC). Uniqueness that the existing
-- system lost to NULL-distinctness uses NULLS NOT DISTINCT (PostgreSQL 15+).

CREATE TYPE sorteo_status AS ENUM ('SCHEDULED', 'OPEN', 'EVALUATED', 'CLOSED');
CREATE TYPE bet_type AS ENUM ('NUMERO', 'REVENTADO');
CREATE TYPE override_scope AS ENUM ('USER', 'VENTANA');

CREATE TABLE loterias (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL: a global template that bancas copy.
    banca_id        uuid REFERENCES bancas (id) ON DELETE RESTRICT,
    name            text NOT NULL,
    rules_json      jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active       boolean NOT NULL DEFAULT true,
    deleted_at      timestamptz,
    deleted_by      text,
    deleted_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT loterias_name_banca_key UNIQUE NULLS NOT DISTINCT (name, banca_id)
);
CREATE INDEX loterias_banca_idx ON loterias (banca_id);

CREATE TABLE loteria_multipliers (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    loteria_id              uuid NOT NULL REFERENCES loterias (id) ON DELETE RESTRICT,
    banca_id                uuid REFERENCES bancas (id) ON DELETE RESTRICT,
    name                    varchar(32) NOT NULL,
    value_x                 numeric(12, 4) NOT NULL CHECK (value_x > 0),
    kind                    bet_type NOT NULL DEFAULT 'NUMERO',
    is_active               boolean NOT NULL DEFAULT true,
    applies_to_date         date,
    applies_to_sorteo_id    uuid,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loteria_multipliers_loteria_kind_idx ON loteria_multipliers (loteria_id, kind, is_active);
-- One active multiplier per name within a lotería.
CREATE UNIQUE INDEX loteria_multipliers_active_name_key
    ON loteria_multipliers (loteria_id, lower(name)) WHERE is_active;

CREATE TABLE sorteos (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    loteria_id          uuid NOT NULL REFERENCES loterias (id) ON DELETE RESTRICT,
    banca_id            uuid REFERENCES bancas (id) ON DELETE RESTRICT,
    name                text NOT NULL,
    scheduled_at        timestamptz NOT NULL,
    status              sorteo_status NOT NULL DEFAULT 'SCHEDULED',
    is_active           boolean NOT NULL DEFAULT true,
    digits              smallint NOT NULL DEFAULT 2 CHECK (digits IN (2, 3)),
    winning_number      text,
    extra_multiplier_id uuid REFERENCES loteria_multipliers (id) ON DELETE SET NULL,
    extra_multiplier_x  numeric(12, 4),
    extra_outcome_code  text,
    has_winner          boolean NOT NULL DEFAULT false,
    deleted_at          timestamptz,
    deleted_by          text,
    deleted_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sorteos_winning_number_digits CHECK (
        winning_number IS NULL OR (winning_number ~ '^[0-9]+$' AND length(winning_number) = digits)
    )
);
-- One live draw per lotería and instant: schedule generation is idempotent and race-free.
CREATE UNIQUE INDEX sorteos_loteria_instant_key ON sorteos (loteria_id, scheduled_at)
    WHERE deleted_at IS NULL;
CREATE INDEX sorteos_banca_scheduled_idx ON sorteos (banca_id, scheduled_at DESC);
CREATE INDEX sorteos_status_scheduled_idx ON sorteos (status, scheduled_at) WHERE deleted_at IS NULL;

CREATE TABLE banca_loteria_settings (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    banca_id                uuid NOT NULL REFERENCES bancas (id) ON DELETE CASCADE,
    loteria_id              uuid NOT NULL REFERENCES loterias (id) ON DELETE RESTRICT,
    base_multiplier_x       numeric(12, 4) NOT NULL CHECK (base_multiplier_x > 0),
    is_active               boolean NOT NULL DEFAULT true,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT banca_loteria_settings_key UNIQUE (banca_id, loteria_id)
);

CREATE TABLE multiplier_overrides (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope               override_scope NOT NULL,
    user_id             uuid REFERENCES users (id) ON DELETE CASCADE,
    ventana_id          uuid REFERENCES ventanas (id) ON DELETE CASCADE,
    loteria_id          uuid NOT NULL REFERENCES loterias (id) ON DELETE RESTRICT,
    banca_id            uuid REFERENCES bancas (id) ON DELETE CASCADE,
    multiplier_type     text NOT NULL DEFAULT 'NUMERO',
    base_multiplier_x   numeric(12, 4) NOT NULL CHECK (base_multiplier_x > 0 AND base_multiplier_x <= 9999),
    is_active           boolean NOT NULL DEFAULT true,
    deleted_at          timestamptz,
    deleted_by          text,
    deleted_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT multiplier_overrides_scope_target CHECK (
        (scope = 'USER' AND user_id IS NOT NULL AND ventana_id IS NULL)
        OR (scope = 'VENTANA' AND ventana_id IS NOT NULL AND user_id IS NULL)
    )
);
-- One live override per target, lotería and type (the existing index never fired on NULLs).
CREATE UNIQUE INDEX multiplier_overrides_target_key
    ON multiplier_overrides (scope, user_id, ventana_id, loteria_id, multiplier_type) NULLS NOT DISTINCT
    WHERE deleted_at IS NULL;

CREATE TABLE restriction_rules (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Scope: at most one of banca / ventana / user; none is a global rule.
    banca_id                uuid REFERENCES bancas (id) ON DELETE CASCADE,
    ventana_id              uuid REFERENCES ventanas (id) ON DELETE CASCADE,
    user_id                 uuid REFERENCES users (id) ON DELETE CASCADE,
    -- The tenant the rule belongs to (for listing and isolation), whatever its scope.
    owner_banca_id          uuid REFERENCES bancas (id) ON DELETE CASCADE,
    number                  text CHECK (number IS NULL OR number ~ '^[0-9]{2,3}$'),
    is_auto_date            boolean NOT NULL DEFAULT false,
    max_amount              numeric(14, 2) CHECK (max_amount IS NULL OR max_amount > 0),
    max_total               numeric(14, 2) CHECK (max_total IS NULL OR max_total > 0),
    base_amount             numeric(14, 2) CHECK (base_amount IS NULL OR base_amount >= 0),
    sales_percentage        numeric(5, 2) CHECK (sales_percentage IS NULL OR (sales_percentage > 0 AND sales_percentage <= 100)),
    applies_to_vendedor     boolean NOT NULL DEFAULT false,
    applies_to_date         date,
    applies_to_hour         smallint CHECK (applies_to_hour IS NULL OR applies_to_hour BETWEEN 0 AND 23),
    sales_cutoff_minutes    smallint CHECK (sales_cutoff_minutes IS NULL OR sales_cutoff_minutes BETWEEN 0 AND 1440),
    loteria_id              uuid REFERENCES loterias (id) ON DELETE CASCADE,
    multiplier_id           uuid REFERENCES loteria_multipliers (id) ON DELETE CASCADE,
    sorteo_id               uuid REFERENCES sorteos (id) ON DELETE CASCADE,
    message                 varchar(255),
    is_active               boolean NOT NULL DEFAULT true,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT restriction_rules_one_scope CHECK (
        (banca_id IS NOT NULL)::int + (ventana_id IS NOT NULL)::int + (user_id IS NOT NULL)::int <= 1
    )
);
CREATE INDEX restriction_rules_owner_idx ON restriction_rules (owner_banca_id, is_active);
CREATE INDEX restriction_rules_number_idx ON restriction_rules (number, is_active, loteria_id) WHERE is_active;
CREATE INDEX restriction_rules_ventana_idx ON restriction_rules (ventana_id) WHERE ventana_id IS NOT NULL;
CREATE INDEX restriction_rules_user_idx ON restriction_rules (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE sorteo_lista_exclusions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sorteo_id       uuid NOT NULL REFERENCES sorteos (id) ON DELETE CASCADE,
    banca_id        uuid REFERENCES bancas (id) ON DELETE CASCADE,
    ventana_id      uuid REFERENCES ventanas (id) ON DELETE RESTRICT,
    vendedor_id     uuid REFERENCES users (id) ON DELETE RESTRICT,
    multiplier_id   uuid REFERENCES loteria_multipliers (id) ON DELETE RESTRICT,
    -- A single number excluded from sale in this sorteo.
    number          text CHECK (number IS NULL OR number ~ '^[0-9]{2,3}$'),
    excluded_at     timestamptz NOT NULL DEFAULT now(),
    excluded_by     uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    reason          text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sorteo_lista_exclusions_target CHECK (
        ventana_id IS NOT NULL OR vendedor_id IS NOT NULL OR number IS NOT NULL
    ),
    CONSTRAINT sorteo_lista_exclusions_key
        UNIQUE NULLS NOT DISTINCT (sorteo_id, ventana_id, vendedor_id, multiplier_id, number)
);
CREATE INDEX sorteo_lista_exclusions_sorteo_idx ON sorteo_lista_exclusions (sorteo_id);
