-- Dev Health license server schema (SPEC §5), SQLite. Times are Unix seconds; booleans 0/1.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    tier TEXT NOT NULL DEFAULT 'community',
    managed_by TEXT NOT NULL DEFAULT 'stripe',
    stripe_customer_id TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    subscription_id TEXT,
    license_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX organizations_customer ON organizations (stripe_customer_id);

CREATE TABLE feature_flags (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    min_tier TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    explicit_purchase BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    updated_at BIGINT
);

CREATE TABLE org_feature_overrides (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    feature_key TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    expires_at BIGINT,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX org_feature_overrides_org ON org_feature_overrides (org_id);

CREATE TABLE licenses (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    token TEXT NOT NULL,
    tier TEXT NOT NULL,
    license_type TEXT NOT NULL,
    kid TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX licenses_org ON licenses (org_id, issued_at);
CREATE INDEX licenses_revoked ON licenses (revoked_at);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    customer_id TEXT,
    status TEXT NOT NULL,
    price_id TEXT,
    current_period_end BIGINT,
    last_event_created BIGINT NOT NULL
);
CREATE INDEX subscriptions_org ON subscriptions (org_id);

CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    org_id TEXT,
    outcome TEXT,
    detail TEXT,
    received_at BIGINT NOT NULL,
    processed_at BIGINT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    org_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, at);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    first_used_at BIGINT NOT NULL
);
