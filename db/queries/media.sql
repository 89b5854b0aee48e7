-- name: LockSupplierProduct :one
-- The supplier's own product, locked until the transaction ends, so that
-- the count of its media checked against the cap stays true.
SELECT id FROM products WHERE id = $1 AND supplier_org_id = $2 FOR UPDATE;

-- name: SupplierOwnsProduct :one
SELECT EXISTS (SELECT 1 FROM products WHERE id = $1 AND supplier_org_id = $2);

-- name: CountProductMedia :one
SELECT count(*) FROM media WHERE product_id = $1;

-- name: InsertMedia :one
INSERT INTO media (id, supplier_org_id, product_id, kind, name, content_type, size_bytes, sha256, has_thumbnail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *;

-- name: GetMedia :one
SELECT * FROM media WHERE id = $1;

-- name: ListProductMedia :many
SELECT * FROM media WHERE product_id = $1 ORDER BY created_at, id;

-- name: DeleteMedia :one
-- One medium of the supplier's product, deleted; its row returned for its
-- blobs.
DELETE FROM media WHERE id = $1 AND product_id = $2 AND supplier_org_id = $3
RETURNING *;
