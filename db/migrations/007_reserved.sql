-- Placeholder: this migration number belongs to another branch in flight.
-- The migrator refuses gaps, so this branch carries a no-op file in its
-- place until that branch's real migration replaces it at merge. It must
-- never reach a database that will later run the real one.

SELECT 1;

---- create above / drop below ----
