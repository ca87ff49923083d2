-- Migration 2 recorded `exp` + 3650 days as the grace end of a license without a `grace_days`
-- claim. A verifier then grants the catalog's grace days for the license's tier, which the server
-- knows (it verifies with the same catalog), so those rows are cleared here and the start-up
-- backfill records them again from their tokens with the catalog's default. A row whose claim
-- says 3650 days, or whose token cannot be read, gets the same value back.
UPDATE licenses SET grace_ends_at = NULL WHERE grace_ends_at = expires_at + 315360000;
