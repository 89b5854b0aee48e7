-- What finance must look at, and what operators did about it.
--
-- finance_alerts: a failure retrying cannot cure (a projection or
-- notification that failed for good, an override that could not settle)
-- and the escrow watchdog's findings (money in escrow with no running deal,
-- a ledger that disagrees with its deal). An alert is named by (kind,
-- deal_id, subject): while it is open, reporting it again updates the one
-- row (last_seen_at, times_seen); once resolved, a new occurrence is a new
-- row, so the history stays.
--
-- escrow_overrides: the audit trail of operator overrides, one row per
-- override run, from its start to its settlement (or failure).

CREATE TABLE finance_alerts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
    deal_id       text NOT NULL DEFAULT '' CHECK (length(deal_id) <= 64),
    subject       text NOT NULL DEFAULT '' CHECK (length(subject) <= 200),
    detail        text NOT NULL CHECK (length(detail) <= 2000),
    -- Figures of an alert about money (an escrow finding): what the ledger
    -- holds and what the deal says it holds, in currency.
    currency      char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    ledger_amount bigint,
    deal_amount   bigint,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    times_seen    bigint NOT NULL DEFAULT 1 CHECK (times_seen > 0),
    resolved_at   timestamptz
);
CREATE UNIQUE INDEX finance_alerts_open_key ON finance_alerts (kind, deal_id, subject) WHERE resolved_at IS NULL;
CREATE INDEX finance_alerts_list_idx ON finance_alerts ((resolved_at IS NOT NULL), last_seen_at DESC, id DESC);

CREATE TABLE escrow_overrides (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deal_id           text NOT NULL REFERENCES deals (id),
    workflow_id       text NOT NULL,
    run_id            text NOT NULL,
    operator_user_id  text NOT NULL,
    operator_org_id   text NOT NULL,
    operator_role     text NOT NULL CHECK (operator_role IN ('finance', 'admin')),
    outcome           text NOT NULL CHECK (outcome IN ('refund', 'release', 'split')),
    release_requested bigint NOT NULL CHECK (release_requested >= 0),
    reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    status            text NOT NULL CHECK (status IN ('started', 'settled', 'failed')),
    currency          char(3),
    released          bigint NOT NULL DEFAULT 0,
    commission        bigint NOT NULL DEFAULT 0,
    refunded          bigint NOT NULL DEFAULT 0,
    error             text NOT NULL DEFAULT '',
    requested_at      timestamptz NOT NULL,
    finished_at       timestamptz,
    UNIQUE (workflow_id, run_id)
);
CREATE INDEX escrow_overrides_deal_idx ON escrow_overrides (deal_id, id);

---- create above / drop below ----

DROP TABLE escrow_overrides;
DROP TABLE finance_alerts;
