-- Supplier product media (internal/media): the files a supplier shows with
-- a product — images, spec sheets, certificates, factory photos and
-- videos. The bytes are in the media bucket (MEDIA_BUCKET_URL) under the
-- medium's id, its thumbnail beside it; this table says what they are.
-- A row is written only once its blobs are stored, so a row always has
-- them; a blob without a row is the leftover of an upload that failed.

CREATE TYPE media_kind AS ENUM ('image', 'spec_sheet', 'certificate', 'factory_photo', 'factory_video');

CREATE TABLE media (
    id              uuid PRIMARY KEY,
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    product_id      uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind            media_kind NOT NULL,
    -- The file name shown, as the supplier sent it (checked by
    -- internal/media: no path, no control characters).
    name            text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 200),
    -- Sniffed from the bytes, never the client's word.
    content_type    text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'video/mp4')),
    size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
    -- Hex SHA-256 of the bytes: the ETag.
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    has_thumbnail   boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_product_idx ON media (product_id, created_at, id);

---- create above / drop below ----

DROP TABLE media;
DROP TYPE media_kind;
