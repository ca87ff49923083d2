-- The end of each license's grace period, Unix seconds: `exp` plus its `grace_days` claim in
-- days, or plus 3650 days (the most a claim may carry) when the claim is absent and a verifier
-- takes its catalog's default. The revocation list leaves out licenses past it, which no verifier
-- accepts anyway. NULL, not known yet, keeps a license on the list: the rows of before this
-- migration until the start-up backfill reads them from their token, and rows an instance of an
-- earlier version inserts.
ALTER TABLE licenses ADD COLUMN grace_ends_at BIGINT;
