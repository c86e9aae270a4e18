-- Scheduled jobs (issue 8, decision 8): the job engine's run rows and the configurations whose
-- cron strings drive it.
--
-- * job_runs: one row per run. A scheduled run is claimed by inserting (job, due_at): the
--   unique key makes each due time run once across every instance; the partial unique index
--   lets one run per job be `running` at a time (a manual run and a scheduled one cannot
--   overlap). The instance holding a run renews `lease_until`; when it dies another instance
--   takes the run over after the lease.
-- * sorteos_auto_config: the singleton of `/sorteos/auto-config` (domain-money §2.5); its cron
--   strings (UTC) schedule the three sorteo jobs, the flags gate them.
-- * account_statement_settlement_config: the singleton of `/account-statements/auto-config`
--   (§2.7); its cron string schedules the settlement job.

CREATE TABLE job_runs (
    id              bigserial PRIMARY KEY,
    job             text NOT NULL,
    -- The schedule's due time (UTC), or the request time of a manual run.
    due_at          timestamptz NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'cli')),
    status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    -- The instance that holds (or last held) the run.
    instance        text NOT NULL,
    lease_until     timestamptz NOT NULL,
    -- 1 + how many times the run was taken over after its instance stopped renewing the lease.
    attempts        integer NOT NULL DEFAULT 1,
    requested_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    params          jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    -- What the run did (counts), as the job reported it.
    outcome         jsonb,
    error           text,
    CONSTRAINT job_runs_due_key UNIQUE (job, due_at)
);
CREATE UNIQUE INDEX job_runs_one_running_idx ON job_runs (job) WHERE status = 'running';
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_lease_idx ON job_runs (lease_until) WHERE status = 'running';

CREATE TABLE sorteos_auto_config (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    singleton               boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
    auto_open_enabled       boolean NOT NULL DEFAULT false,
    auto_create_enabled     boolean NOT NULL DEFAULT false,
    auto_close_enabled      boolean NOT NULL DEFAULT false,
    -- 5-field cron strings in UTC; NULL = the default (open 07:30, create 07:00, close 04:00).
    open_cron_schedule      varchar(100),
    create_cron_schedule    varchar(100),
    close_cron_schedule     varchar(100),
    updated_by              uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sorteos_auto_config DEFAULT VALUES;

CREATE TABLE account_statement_settlement_config (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    singleton               boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
    enabled                 boolean NOT NULL DEFAULT false,
    settlement_age_days     integer NOT NULL DEFAULT 7 CHECK (settlement_age_days BETWEEN 1 AND 365),
    -- 5-field cron string in UTC; NULL = the default (03:00).
    cron_schedule           varchar(100),
    batch_size              integer NOT NULL DEFAULT 1000 CHECK (batch_size BETWEEN 100 AND 10000),
    updated_by              uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO account_statement_settlement_config DEFAULT VALUES;
