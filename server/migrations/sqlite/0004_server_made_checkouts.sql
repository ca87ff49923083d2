-- What the server itself created in Stripe (POST /api/v1/billing/checkout): only a checkout whose
-- session or customer is listed here links a customer to an org (the core's rule 3).
CREATE TABLE stripe_customers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stripe_customers_org ON stripe_customers (org_id);

CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    price_id TEXT NOT NULL,
    license_type TEXT NOT NULL,
    deployment_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX checkout_sessions_org ON checkout_sessions (org_id, created_at);
