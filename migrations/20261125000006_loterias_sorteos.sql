-- Loterías and sorteos: remember which sorteos a lotería's soft delete took with it, so that
-- restoring the lotería brings back exactly those (and no sorteo deleted on its own).

ALTER TABLE sorteos
    ADD COLUMN deleted_by_cascade       boolean NOT NULL DEFAULT false,
    ADD COLUMN deleted_by_cascade_from  text,
    ADD COLUMN deleted_by_cascade_id    uuid;

-- Cascades and listings by lotería, deleted rows included.
CREATE INDEX sorteos_loteria_idx ON sorteos (loteria_id, scheduled_at);
