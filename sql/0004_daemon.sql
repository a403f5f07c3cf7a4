-- cdscan schema, version 4: the daemon's leases made explicit.
--
-- A claim has always leased a delegation by moving next_scan_at a lease
-- ahead.  The daemon also scans a delegation out of turn when its operator
-- sends a NOTIFY (RFC 9859): that claim takes it due or not, and must not
-- take one that another scanner holds right now.  next_scan_at alone
-- cannot tell "leased" from "scheduled", so the lease gets its own column:
-- set by the claim, cleared when the result is written (or the lease is
-- given back on shutdown).  A lease that ends without a write simply
-- expires: leased_until is then in the past.
ALTER TABLE delegations ADD COLUMN leased_until timestamptz;

-- The daemon claims the due delegations that have waited longest first
-- (not in id order behind a cursor, which left a retry that fell due below
-- the cursor waiting for the next pass: measured up to 34 minutes late
-- with scan.retry-after at 5).  delegations_due cannot serve it: it leaves
-- out opted-out delegations, which are scanned all the same.
CREATE INDEX delegations_next_scan ON delegations (next_scan_at) WHERE removed_at IS NULL;
