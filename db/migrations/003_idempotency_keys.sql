-- POSTs carry an Idempotency-Key: the first response is kept and replayed
-- for a repeat of the same request; a different request under the same key
-- is refused. A row with no status is a request still in progress.

CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method       text NOT NULL,
    path         text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

---- create above / drop below ----

DROP TABLE idempotency_keys;
