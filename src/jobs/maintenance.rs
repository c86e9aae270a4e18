//! Housekeeping jobs: activity-log cleanup, idempotency-key expiry, auto-date restriction roll-over.
