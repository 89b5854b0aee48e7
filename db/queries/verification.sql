-- name: LockSupplierVerification :exec
-- Serialises a supplier's uploads and submissions for the rest of the
-- transaction, so that the cap on its draft documents and the one
-- verification in progress hold.
SELECT pg_advisory_xact_lock(hashtextextended('verification:' || sqlc.arg(org_id)::text, 0));

-- name: CountDraftDocuments :one
SELECT count(*) FROM verification_documents WHERE supplier_org_id = $1 AND verification_id IS NULL;

-- name: InsertVerificationDocument :one
INSERT INTO verification_documents (id, supplier_org_id, kind, title, name, content_type, size_bytes, sha256, has_thumbnail, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING *;

-- name: DraftDocuments :many
SELECT * FROM verification_documents WHERE supplier_org_id = $1 AND verification_id IS NULL
ORDER BY created_at, id;

-- name: DeleteDraftDocument :one
DELETE FROM verification_documents WHERE id = $1 AND supplier_org_id = $2 AND verification_id IS NULL
RETURNING *;

-- name: GetVerificationDocument :one
SELECT * FROM verification_documents WHERE id = $1;

-- name: VerificationDocuments :many
SELECT * FROM verification_documents WHERE verification_id = $1 ORDER BY round, created_at, id;

-- name: InsertVerification :exec
INSERT INTO verifications (id, supplier_org_id, status, submitted_by) VALUES ($1, $2, 'in_review', $3);

-- name: DetachDocuments :exec
-- A verification's documents, back in the supplier's draft.
UPDATE verification_documents SET verification_id = NULL, round = NULL
WHERE verification_id = @verification_id AND supplier_org_id = @supplier_org_id;

-- name: DeleteVerification :exec
DELETE FROM verifications WHERE id = $1 AND supplier_org_id = $2;

-- name: AttachDocuments :execrows
-- The supplier's draft documents named, taken into a round of its
-- verification.
UPDATE verification_documents SET verification_id = @verification_id, round = @round
WHERE supplier_org_id = @org_id AND verification_id IS NULL AND id = ANY (@ids::uuid[]);

-- name: OpenVerification :one
SELECT * FROM verifications WHERE supplier_org_id = $1 AND status IN ('in_review', 'revision_requested');

-- name: GetVerification :one
SELECT * FROM verifications WHERE id = $1;

-- name: LockVerification :one
SELECT * FROM verifications WHERE id = $1 FOR UPDATE;

-- name: SupplierVerifications :many
-- A supplier's verifications, newest first.
SELECT * FROM verifications WHERE supplier_org_id = $1 ORDER BY submitted_at DESC, id DESC LIMIT 50;

-- name: VerificationsToReview :many
-- What staff have to answer, the most urgent first, with the supplier's
-- name.
SELECT v.*, o.name AS supplier_name FROM verifications v JOIN organizations o ON o.id = v.supplier_org_id
WHERE v.status = 'in_review' ORDER BY v.review_due_at NULLS LAST, v.id LIMIT 200;

-- name: InsertVerificationEvent :execrows
INSERT INTO verification_events (verification_id, seq, action, actor_user_id, note, at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (verification_id, seq) DO NOTHING;

-- name: VerificationEvents :many
SELECT e.*, coalesce(u.email, '')::text AS actor_email FROM verification_events e LEFT JOIN users u ON u.id = e.actor_user_id
WHERE e.verification_id = $1 ORDER BY e.seq;

-- name: UpdateVerification :exec
UPDATE verifications SET status = @status, round = @round, review_due_at = @review_due_at, revise_by = @revise_by,
    decided_at = coalesce(@decided_at, decided_at), verified_until = @verified_until, updated_at = @at
WHERE id = @id;

-- name: GrantBadge :exec
-- The supplier's badge, from the verification just approved; the
-- approved verifications before it are superseded.
WITH profile AS (
    INSERT INTO supplier_profiles (org_id, verified_until, verification_id) VALUES (@org_id, @verified_until, @verification_id)
    ON CONFLICT (org_id) DO UPDATE SET verified_until = excluded.verified_until, verification_id = excluded.verification_id
)
UPDATE verifications SET status = 'superseded', updated_at = @at
WHERE supplier_org_id = @org_id AND status = 'approved' AND id <> @verification_id;

-- name: BadgeVerification :one
-- The verification the supplier's badge comes from, if any.
SELECT verification_id FROM supplier_profiles WHERE org_id = $1;

-- name: RevokeBadge :exec
-- The badge the verification gave, taken away (not a later one's).
UPDATE supplier_profiles SET verified_until = NULL, verification_id = NULL
WHERE org_id = @org_id AND verification_id = @verification_id;
