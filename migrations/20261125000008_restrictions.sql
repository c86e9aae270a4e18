-- Restriction rules: at most one live rule per identical target — tenant, scope, number (or
-- auto-date), lotería, multiplier, sorteo, date/hour window, and kind (cutoff or limit). A
-- repeated create, a racing twin or a restore over a live copy answers 409 instead of leaving
-- duplicates (the existing system checked before inserting, without a constraint, and counted
-- NULLs as distinct). Deleted rules (is_active = false) do not count.
CREATE UNIQUE INDEX restriction_rules_live_key ON restriction_rules (
    owner_banca_id, banca_id, ventana_id, user_id, number, is_auto_date, loteria_id,
    multiplier_id, sorteo_id, applies_to_date, applies_to_hour, (sales_cutoff_minutes IS NOT NULL)
) NULLS NOT DISTINCT WHERE is_active;
