-- A deal's row counts the projections written to it: every write of the
-- deal (its state, timeline and tracking events, all in one transaction
-- with the row) raises version, so a reader that kept a view of the
-- deal at a version knows from the row alone whether it is still the
-- deal's (the API's views of deals it served, api/dealcache.go).
ALTER TABLE deals ADD COLUMN version bigint NOT NULL DEFAULT 1;

---- create above / drop below ----

ALTER TABLE deals DROP COLUMN version;
