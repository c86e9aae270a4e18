-- When a sorteo got its result (issue 10: `/reports/tickets/winners-payments?expiredOnly=true`
-- means "prize still owed and the sorteo was evaluated more than 24 h ago"; the last update
-- of the sorteo, used until now, moves with every later edit, e.g. closing it).
-- Set by the evaluation, cleared by a revert. Sorteos evaluated before this migration take
-- their last update, the best time known for them.
ALTER TABLE sorteos ADD COLUMN evaluated_at timestamptz;
UPDATE sorteos SET evaluated_at = updated_at
WHERE winning_number IS NOT NULL AND status IN ('EVALUATED', 'CLOSED');
