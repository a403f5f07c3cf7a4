-- cdscan schema, version 6: delegations a registrar's portfolio brought in
-- (cdscan import --domains), told apart from a parent zone's.
--
-- A zone import marks removed the delegations of its zone that the file
-- no longer has: the zone file is the whole zone.  A portfolio is not: it
-- is what one registrar holds at the registries it covers, and its
-- delegations live in many parent zones, beside others the registrar does
-- not hold.  A portfolio import therefore marks removed only delegations
-- that a portfolio brought in, of the registries the file names (a domain
-- that left the registrar), never a zone import's; and a zone import that
-- takes over a delegation makes it a zone's again.
ALTER TABLE delegations
    ADD COLUMN source text NOT NULL DEFAULT 'zone'
        CHECK (source IN ('zone', 'portfolio')),
    -- The domain's statuses at its registry (RFC 5731 §2.3, such as
    -- clientUpdateProhibited) as the last portfolio import read them with
    -- <domain:info> (import --from epp); NULL: that import did not ask.
    ADD COLUMN registry_status text[];
