-- Identity and tenancy: bancas (tenants), ventanas (sales points), users and user-banca links.
-- Money is NUMERIC, times are timestamptz (UTC). Soft delete keeps the reference's trio.

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TYPE user_role AS ENUM ('ADMIN', 'BANCA', 'VENTANA', 'VENDEDOR');

CREATE TABLE bancas (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                        text NOT NULL,
    code                        text NOT NULL,
    default_min_bet             numeric(14, 2) NOT NULL DEFAULT 100.00 CHECK (default_min_bet >= 0),
    global_max_per_number       numeric(14, 2) NOT NULL DEFAULT 5000.00 CHECK (global_max_per_number >= 0),
    sales_cutoff_minutes        integer NOT NULL DEFAULT 1 CHECK (sales_cutoff_minutes >= 0),
    commission_policy_json      jsonb,
    max_sessions_per_vendedor   integer NOT NULL DEFAULT 1 CHECK (max_sessions_per_vendedor >= 1),
    vendor_limit                integer CHECK (vendor_limit IS NULL OR vendor_limit >= 0),
    is_active                   boolean NOT NULL DEFAULT true,
    address                     text,
    email                       text,
    phone                       text,
    deleted_at                  timestamptz,
    deleted_by                  text,
    deleted_reason              text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bancas_name_key UNIQUE (name),
    CONSTRAINT bancas_code_key UNIQUE (code)
);

CREATE TABLE ventanas (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    banca_id                uuid NOT NULL REFERENCES bancas (id) ON DELETE RESTRICT,
    name                    text NOT NULL,
    code                    text NOT NULL,
    commission_margin_x     numeric(10, 4) NOT NULL DEFAULT 0,
    commission_policy_json  jsonb,
    settings                jsonb,
    is_active               boolean NOT NULL DEFAULT true,
    address                 text,
    email                   text,
    phone                   text,
    deleted_at              timestamptz,
    deleted_by              text,
    deleted_reason          text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ventanas_code_key UNIQUE (code)
);
CREATE INDEX ventanas_banca_id_idx ON ventanas (banca_id);
CREATE INDEX ventanas_name_idx ON ventanas (name);

CREATE TABLE users (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ventana_id                  uuid REFERENCES ventanas (id) ON DELETE SET NULL,
    banca_id                    uuid REFERENCES bancas (id) ON DELETE SET NULL,
    name                        text NOT NULL,
    email                       citext,
    phone                       text,
    password_hash               text NOT NULL,
    role                        user_role NOT NULL DEFAULT 'VENTANA',
    username                    citext NOT NULL,
    code                        text,
    commission_policy_json      jsonb,
    settings                    jsonb,
    platform                    text,
    app_version                 varchar(50),
    max_sessions_per_vendedor   integer CHECK (max_sessions_per_vendedor IS NULL OR max_sessions_per_vendedor >= 1),
    is_active                   boolean NOT NULL DEFAULT true,
    deleted_at                  timestamptz,
    deleted_by                  text,
    deleted_reason              text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_code_key UNIQUE (code),
    -- A VENTANA or VENDEDOR belongs to a sales point; ADMIN and BANCA do not.
    CONSTRAINT users_role_ventana_check CHECK (
        (role IN ('ADMIN', 'BANCA') AND ventana_id IS NULL) OR role IN ('VENTANA', 'VENDEDOR')
    )
);
CREATE INDEX users_banca_id_role_idx ON users (banca_id, role);
CREATE INDEX users_ventana_role_active_idx ON users (ventana_id, role, is_active)
    WHERE deleted_at IS NULL AND is_active;

CREATE TABLE user_bancas (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banca_id    uuid NOT NULL REFERENCES bancas (id) ON DELETE CASCADE,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, banca_id)
);
CREATE INDEX user_bancas_banca_id_idx ON user_bancas (banca_id);
-- At most one default banca per user.
CREATE UNIQUE INDEX user_bancas_one_default_idx ON user_bancas (user_id) WHERE is_default;
