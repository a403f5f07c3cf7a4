/* What the domain holder or its DNS operator can do about each verdict
 * reason, in plain words (the daemon's status page, /status/DOMAIN).  The
 * reason's own text (cds_reason_text) says what was found; this says what
 * to do.  A unit test checks that every reason code has an entry. */
#include <string.h>

#include "cdscan/model.h"
#include "cdscan/report.h"

static const struct {
	const char *code;
	const char *advice;
} advice[] = {
	{"no-signal", "Nothing to do. To change the DS records, have the DNS operator publish CDS "
		      "and CDNSKEY records (RFC 7344) at every nameserver."},
	{"signal-unchanged", "Nothing to do: the parent already holds the DS records the zone "
			     "asks for. The CDS/CDNSKEY records may stay or be removed."},
	{"ds-updated", "Nothing to do: the parent's DS records are being changed as the zone asks. "
		       "Keep the signal published until the change shows at the parent."},
	{"delete", "Nothing to do: the DS records are being removed as the zone asks (it becomes "
		   "insecure). Keep the zone signed until the DS records are gone and their TTL "
		   "has passed."},
	{"delete-not-allowed", "The parent does not remove DS records on request. Ask the registry "
			       "or registrar, or publish a signal for the keys the zone keeps."},
	{"ns-unreachable", "Make every nameserver of the delegation answer for the zone (over UDP "
			   "and TCP), or have the unused ones removed from the delegation."},
	{"ns-inconsistent", "Publish the same CDS and CDNSKEY records at every nameserver (with "
			    "several providers: at each of them), then wait for the next scan."},
	{"not-signed", "Sign the CDS and CDNSKEY records (they need RRSIGs by a key the DS "
		       "records name)."},
	{"bogus", "Fix the zone's signatures: the DNSKEY records or the signal's signatures do not "
		  "validate with the DS records the parent holds (expired or missing RRSIGs, or a "
		  "key that no DS names)."},
	{"cds-cdnskey-mismatch", "Make the CDS and CDNSKEY records describe the same keys, or "
				 "publish only one of the two."},
	{"breaks-chain", "Keep a DS record for every provider that still serves the zone: each "
			 "nameserver's DNSKEY records must be signed by a key the new DS set "
			 "names. Remove a provider's nameservers first, then its DS."},
	{"algorithm-not-allowed", "Use a DNSSEC algorithm the parent accepts (for example 13, "
				  "ECDSA P-256 with SHA-256) for the keys the signal names."},
	{"digest-not-allowed", "Publish CDS records with a digest type the parent accepts (2, "
			       "SHA-256), or CDNSKEY records instead."},
	{"mixed-delete", "A delete request must stand alone: publish only the delete records "
			 "(CDS 0 0 0 00, CDNSKEY 0 3 0 AA==), or only real keys."},
	{"stale-signal", "Re-sign the CDS/CDNSKEY records: their signatures predate the parent's "
			 "last DS change, so they could be a replay."},
	{"opted-out", "Automation is off for this domain at the parent's request; ask the registry "
		      "or registrar to turn it on."},
	{"insecure-no-bootstrap", "The zone is not yet secure. Publish the RFC 9615 signal records "
				  "(listed on this page) in each nameserver's zone, or ask the "
				  "registry or registrar to add the first DS."},
	{"bootstrap-authenticated", "Nothing to do: the first DS records are being added from the "
				    "authenticated signals."},
	{"bootstrap-signal-missing", "Publish the RFC 9615 signal (CDS and CDNSKEY at "
				     "_dsboot.DOMAIN._signal.NAMESERVER) for every nameserver."},
	{"bootstrap-signal-mismatch", "Make every RFC 9615 signal equal to the CDS/CDNSKEY records "
				      "at the zone's apex."},
	{"bootstrap-ns-insecure", "The nameservers' own zone must be signed and securely "
				  "delegated for RFC 9615; use nameserver names in such a zone or "
				  "ask for the first DS by other means."},
	{"bootstrap-pending", "Nothing to do but wait: the signal must stay the same for a while "
			      "before it is accepted."},
	{"bootstrap-after-delay", "Nothing to do: the first DS records are being added after the "
				  "waiting period."},
	{"too-many-ds", "Publish fewer CDS/CDNSKEY records (one or two keys is usual)."},
	{"no-csync", "Nothing to do. To change the nameservers at the parent, publish a CSYNC "
		     "record (RFC 7477) for the NS records."},
	{"csync-unchanged", "Nothing to do: the parent's NS records and glue already equal the "
			    "zone's. The CSYNC record may be removed."},
	{"ns-updated", "Nothing to do: the parent's NS records are being changed as the zone asks. "
		       "Keep the old nameservers serving until the change has shown and its TTL "
		       "has passed."},
	{"csync-not-signed", "Sign the zone's CSYNC record and the NS and address records it "
			     "covers."},
	{"csync-bogus", "Fix the signatures of the CSYNC record or of the NS and address records: "
			"they do not validate with the parent's DS records."},
	{"csync-inconsistent", "Publish the same CSYNC record, NS records and glue at every "
			       "nameserver."},
	{"csync-soa-serial", "Raise the SOA serial to the CSYNC serial or above (or clear the "
			     "soaminimum flag)."},
	{"csync-serial-changed", "Nothing to fix: the zone changed during the scan; the next scan "
				 "tries again."},
	{"csync-unknown-flags", "Use only the immediate and soaminimum flags in the CSYNC record."},
	{"csync-unknown-type", "List only NS, A and AAAA in the CSYNC type bitmap."},
	{"csync-multiple", "Publish one CSYNC record at the zone's apex, not several."},
	{"csync-not-immediate", "Set the CSYNC immediate flag, or ask the registry or registrar to "
				"approve this change."},
	{"csync-no-glue", "Publish A or AAAA records for every nameserver name inside the zone."},
	{"csync-empty-ns", "The zone must keep at least one nameserver: publish its NS records."},
	{"csync-ns-not-serving", "Make the new nameservers serve the zone, with the same SOA serial "
				 "as the others, before signalling the change."},
	{"csync-bad-host-name", "Use valid host names (letters, digits, hyphens) for the "
				"nameservers."},
	{"bootstrap-signal-bogus", "Fix the signatures of the RFC 9615 signal records in the "
				   "nameservers' zone."},
	{"signer-not-in-ds", "Sign the CDS/CDNSKEY records with a key the parent's DS records name "
			     "(during a key rollover: with the old key too)."},
	{"suspended", "Automation is suspended for this domain (see why above); the registry or "
		      "registrar resumes it once the cause is gone."},
	{"csync-breaks-chain", "Have the parent add the new provider's DS record first (CDS/"
			       "CDNSKEY naming its key), wait the DS TTL, then signal the new "
			       "nameservers."},
	{"csync-approved", "Nothing to do: an operator approved this change."},
	{"csync-not-processed", "The parent does not process CSYNC; ask the registry or registrar "
				"to change the nameservers."},
	{"vantage-disagreement", "Make every nameserver answer the same, from everywhere: the "
				 "parent saw different answers from different places."},
};

const char *cds_report_reason_advice(const char *code)
{
	for (size_t i = 0; code && i < sizeof(advice) / sizeof(advice[0]); i++)
		if (strcmp(advice[i].code, code) == 0)
			return advice[i].advice;
	return "";
}
