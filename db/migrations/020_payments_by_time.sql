-- Finance lists payments across deals, newest first, in keyset pages
-- (GET /v1/payments, the console's payments page): by the time a payment
-- was made, then by deal and payment, so a page reads the index in order.
CREATE INDEX payments_by_time ON payments (created_at DESC, deal_id DESC, payment_id DESC);
