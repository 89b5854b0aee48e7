-- The read model keeps each deal's whole state, up to date with every
-- projection, so reads need not ask the deal's workflow: deals.state is
-- the state without its timeline and tracking events (rows of their own),
-- and a timeline entry keeps whom it concerns (about), which decides who
-- may see it.
--
-- state_format tells the rows kept that way (2) from those of deals
-- projected before (1): their state was sent whole only at the deal's
-- start and end, so mid-deal it is not current, and reads of those deals
-- still ask the workflow while it runs.

ALTER TABLE deal_events ADD COLUMN about text NOT NULL DEFAULT '';

UPDATE deal_events e SET about = x.ev->>'about'
FROM deals d CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(d.state->'timeline') = 'array' THEN d.state->'timeline' ELSE '[]'::jsonb END
) WITH ORDINALITY AS x(ev, seq)
WHERE e.deal_id = d.id AND e.seq = x.seq AND COALESCE(x.ev->>'about', '') <> '';

ALTER TABLE deals ADD COLUMN state_format smallint NOT NULL DEFAULT 1;
ALTER TABLE deals ALTER COLUMN state_format SET DEFAULT 2;

-- Projections are numbered (round) in the order the deal made them: one
-- attempt that lingered never writes over a later projection that has the
-- same last timeline entry.
ALTER TABLE deals ADD COLUMN projection_round integer NOT NULL DEFAULT 0;

---- create above / drop below ----

ALTER TABLE deals DROP COLUMN projection_round;
ALTER TABLE deals DROP COLUMN state_format;
ALTER TABLE deal_events DROP COLUMN about;
