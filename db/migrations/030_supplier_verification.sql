-- Supplier verification (internal/verification, workflows/verification.go).
-- A supplier uploads documents (a business licence, certificates with
-- their expiry, factory photos or a video) and submits them; platform staff
-- approve, ask for a revision or reject, under the SupplierVerification
-- workflow's deadlines. The workflow writes every step here, in order: the
-- audit trail. An approval gives the supplier its badge (verified_until on
-- its profile) until the first of its documents expires.

-- The documents a supplier uploaded: its draft (verification_id NULL)
-- until it submits them, then part of one round of a verification. The
-- bytes are in the media bucket under the document's id.
CREATE TABLE verification_documents (
    id              uuid PRIMARY KEY,
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    verification_id uuid,
    round           integer CHECK (round BETWEEN 1 AND 20),
    kind            text NOT NULL CHECK (kind IN ('business_licence', 'certificate', 'factory_photo', 'factory_video')),
    -- What a certificate is ("ISO 9001", "CE"); '' for other kinds.
    title           text NOT NULL DEFAULT '' CHECK (length(title) <= 100),
    name            text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 200),
    content_type    text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'video/mp4')),
    size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    has_thumbnail   boolean NOT NULL DEFAULT false,
    -- When the document stops being valid; a certificate always has one.
    expires_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'certificate' OR (expires_at IS NOT NULL AND title <> '')),
    CHECK ((verification_id IS NULL) = (round IS NULL))
);
CREATE INDEX verification_documents_org_idx ON verification_documents (supplier_org_id, created_at, id) WHERE verification_id IS NULL;

CREATE TABLE verifications (
    id              uuid PRIMARY KEY,
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    status          text NOT NULL CHECK (status IN ('in_review', 'revision_requested', 'approved', 'rejected', 'lapsed', 'expired', 'superseded')),
    round           integer NOT NULL DEFAULT 1 CHECK (round BETWEEN 1 AND 20),
    submitted_by    uuid NOT NULL REFERENCES users (id),
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    -- While in review: when staff must have answered (3 working days).
    review_due_at   timestamptz,
    -- While a revision is asked for: when the request lapses.
    revise_by       timestamptz,
    decided_at      timestamptz,
    -- Once approved: when the badge ends.
    verified_until  timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One verification in progress per supplier.
CREATE UNIQUE INDEX verifications_open_idx ON verifications (supplier_org_id) WHERE status IN ('in_review', 'revision_requested');
CREATE INDEX verifications_org_idx ON verifications (supplier_org_id, submitted_at DESC, id);
CREATE INDEX verifications_status_idx ON verifications (status, review_due_at, id);

ALTER TABLE verification_documents
    ADD CONSTRAINT verification_documents_verification_fk FOREIGN KEY (verification_id) REFERENCES verifications (id) ON DELETE SET NULL;
CREATE INDEX verification_documents_verification_idx ON verification_documents (verification_id, round, created_at, id);

-- The audit trail: each step of a verification, numbered by its workflow
-- (a retried step is written once).
CREATE TABLE verification_events (
    verification_id uuid NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
    seq             integer NOT NULL CHECK (seq BETWEEN 1 AND 200),
    action          text NOT NULL CHECK (action IN ('submitted', 'review_reminder', 'revision_requested', 'resubmitted',
        'revision_reminder', 'approved', 'rejected', 'lapsed', 'expiry_reminder', 'expired', 'superseded')),
    -- Who did it: the supplier's or staff's user; NULL for the workflow's
    -- own deadlines.
    actor_user_id   uuid REFERENCES users (id),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    at              timestamptz NOT NULL,
    PRIMARY KEY (verification_id, seq)
);

-- The badge: verified while verified_until is ahead, from the approved
-- verification named.
ALTER TABLE supplier_profiles
    ADD COLUMN verified_until  timestamptz,
    ADD COLUMN verification_id uuid REFERENCES verifications (id);

---- create above / drop below ----

ALTER TABLE supplier_profiles DROP COLUMN verification_id, DROP COLUMN verified_until;
DROP TABLE verification_events;
ALTER TABLE verification_documents DROP CONSTRAINT verification_documents_verification_fk;
DROP TABLE verifications;
DROP TABLE verification_documents;
