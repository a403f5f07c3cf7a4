-- cdscan schema, version 5: when each parent zone was last imported.
--
-- A change set that the registry applied (state done) is in the parent
-- zone only from the registry's next zone generation on, and in the
-- delegation table only from the import after that.  Until then a scan
-- sees the same signal against the old DS or NS set and would propose the
-- same change again, and the registry would get it twice (seen in the
-- multi-signer lab, #18: a NOTIFY resent, or any scan, between the EPP
-- answer and the import).  A scan does not create a change set that
-- equals the newest done one of its kind while no import of the
-- delegation's zone has finished since that one was done; once an import
-- has (and the parent still lacks the change), it proposes it again.
CREATE TABLE zone_imports (
    zone        text PRIMARY KEY,               -- the parent zone, as delegations.zone
    imported_at timestamptz NOT NULL            -- the last import's transaction time
);
