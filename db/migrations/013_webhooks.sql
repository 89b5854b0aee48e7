-- Signed outbound webhooks. An organization registers endpoints; the
-- notification dispatcher, in the transaction that marks a notification
-- delivered, adds one delivery per enabled endpoint of the organization it
-- is addressed to (once, however often it is tried). The webhook
-- dispatcher posts each delivery, signed with its endpoint's secret,
-- until the endpoint answers 2xx or the delivery is too old, logging
-- every attempt; an endpoint that fails for days is disabled with a
-- notice to its organization.
CREATE TABLE webhook_endpoints (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES organizations (id),
    url            text NOT NULL CHECK (url <> ''),
    description    text NOT NULL DEFAULT '',
    -- secret signs every delivery (HMAC-SHA256); shown once, at creation.
    secret         text NOT NULL,
    enabled        boolean NOT NULL DEFAULT true,
    disabled_at    timestamptz,
    disabled_why   text NOT NULL DEFAULT '',
    -- failing_since: the first failed attempt since the last success
    -- (NULL while the endpoint answers).
    failing_since  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (org_id, created_at);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    key             text NOT NULL REFERENCES notification_outbox (key),
    -- status: pending (to be tried at next_attempt_at), succeeded, or
    -- failed (given up: too old).
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (endpoint_id, key)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- Every attempt of a delivery, for the endpoint's delivery log.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL,
    status       integer,
    error        text NOT NULL DEFAULT '',
    duration_ms  integer NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

---- create above / drop below ----

DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
