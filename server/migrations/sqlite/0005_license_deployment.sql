-- The deployment (`aud`) a self-hosted license is for: a renewal paid through Stripe replaces the
-- deployment's previous license (the core's rule 6a).
ALTER TABLE licenses ADD COLUMN deployment_id TEXT;
CREATE INDEX licenses_deployment ON licenses (org_id, deployment_id);
