-- Buyers follow products (told when the price at their usual quantity
-- drops by their threshold) and categories (told when a new supplier lists
-- in one). Alerts go through the notifications outbox, in the same
-- transaction as the catalog change that caused them.
CREATE TABLE watches (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id),
    org_id              uuid NOT NULL REFERENCES organizations (id),
    product_id          uuid REFERENCES products (id) ON DELETE CASCADE,
    category            text CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    -- A product watch: the quantity its price is read at, the drop that
    -- is news (basis points), and the price the next drop is measured
    -- from (the price when followed or last alerted, raised when the
    -- price rises).
    quantity            bigint CHECK (quantity > 0),
    drop_bp             integer CHECK (drop_bp BETWEEN 1 AND 9000),
    baseline_unit_minor bigint CHECK (baseline_unit_minor > 0),
    alerts              integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((product_id IS NULL) <> (category IS NULL)),
    CHECK (product_id IS NULL OR (quantity IS NOT NULL AND drop_bp IS NOT NULL AND baseline_unit_minor IS NOT NULL))
);
CREATE UNIQUE INDEX watches_user_product_idx ON watches (user_id, product_id) WHERE product_id IS NOT NULL;
CREATE UNIQUE INDEX watches_user_category_idx ON watches (user_id, category) WHERE category IS NOT NULL;
CREATE INDEX watches_product_idx ON watches (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX watches_category_idx ON watches (category) WHERE category IS NOT NULL;

-- The suppliers listing in each category, since their first product in
-- it: a supplier's first product in a category is news to its watchers.
CREATE TABLE category_suppliers (
    category        text NOT NULL,
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    first_listed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (category, supplier_org_id)
);
INSERT INTO category_suppliers (category, supplier_org_id, first_listed_at)
SELECT category, supplier_org_id, min(created_at) FROM products GROUP BY 1, 2;

---- create above / drop below ----

DROP TABLE category_suppliers;
DROP TABLE watches;
