-- Sessions (one per login; survives refresh-token rotation), their refresh tokens, and the
-- activity log. An access token names its session (`sid`); revoking the session refuses every
-- token of it at once, on every instance.

CREATE TABLE auth_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banca_id        uuid REFERENCES bancas (id) ON DELETE CASCADE,
    device_id       varchar(255),
    device_name     varchar(255),
    user_agent      text,
    ip_address      varchar(45),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    -- Expiry of the session's current refresh token.
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  varchar(50)
);
CREATE INDEX auth_sessions_user_active_idx ON auth_sessions (user_id, last_used_at)
    WHERE revoked_at IS NULL;
CREATE INDEX auth_sessions_banca_active_idx ON auth_sessions (banca_id)
    WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    -- The `tid` claim of the refresh JWT.
    id              uuid PRIMARY KEY,
    session_id      uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    -- Set when this token was exchanged for a new one.
    rotated_at      timestamptz,
    replaced_by     uuid
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id, created_at DESC);

CREATE TABLE activity_logs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    banca_id        uuid REFERENCES bancas (id) ON DELETE SET NULL,
    action          text NOT NULL,
    target_type     text,
    target_id       text,
    details         jsonb,
    request_id      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_logs_created_idx ON activity_logs (created_at DESC);
CREATE INDEX activity_logs_banca_created_idx ON activity_logs (banca_id, created_at DESC);
CREATE INDEX activity_logs_user_idx ON activity_logs (user_id, created_at DESC);
CREATE INDEX activity_logs_target_idx ON activity_logs (target_type, target_id);
