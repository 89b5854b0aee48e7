-- name: InsertPosting :one
-- Returns no row when the idempotency key was posted before.
INSERT INTO ledger_postings (idempotency_key, deal_id, kind, memo)
VALUES ($1, $2, $3, $4)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id;

-- name: InsertLine :exec
INSERT INTO ledger_lines (posting_id, line_no, account, currency, amount)
VALUES ($1, $2, $3, $4, $5);

-- name: PostingLinesByKey :many
SELECT l.account, l.currency, l.amount
FROM ledger_postings p JOIN ledger_lines l ON l.posting_id = p.id
WHERE p.idempotency_key = $1
ORDER BY l.line_no;

-- name: AccountBalances :many
-- An account's balance in each currency, derived from its lines.
SELECT currency, sum(amount)::bigint AS balance, count(*) AS lines
FROM ledger_lines
WHERE account = $1
GROUP BY currency
ORDER BY currency;

-- name: ExportPostings :many
-- Every line posted in [from, to), oldest first, for finance's export.
SELECT p.id AS posting_id, p.idempotency_key, p.deal_id, p.kind, p.memo, p.posted_at,
       l.line_no, l.account, l.currency, l.amount
FROM ledger_postings p
JOIN ledger_lines l ON l.posting_id = p.id
WHERE p.posted_at >= sqlc.arg(from_time) AND p.posted_at < sqlc.arg(to_time)
ORDER BY p.posted_at, p.id, l.line_no;
