/* The model's names: reason codes and their sentences, actions, kinds,
 * signal statuses, query kinds and NS operations, as the contract, the
 * store and EPP write them. */
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/model.h"

static const struct {
	const char *code;
	const char *text;
} reasons[CDS_R_COUNT] = {
	[CDS_R_NO_SIGNAL] = {"no-signal", "no CDS and no CDNSKEY at any nameserver"},
	[CDS_R_SIGNAL_UNCHANGED] = {"signal-unchanged", "the signal equals the current DS set"},
	[CDS_R_DS_UPDATED] = {"ds-updated",
			      "a valid, authenticated, consistent signal changes the DS set"},
	[CDS_R_DELETE] = {"delete", "a valid delete signal: the DS set is to be removed"},
	[CDS_R_DELETE_NOT_ALLOWED] = {"delete-not-allowed",
				      "a delete signal, but policy forbids going insecure"},
	[CDS_R_NS_UNREACHABLE] = {"ns-unreachable", "a nameserver gave no usable answer"},
	[CDS_R_NS_INCONSISTENT] = {"ns-inconsistent",
				   "nameservers answered with different CDS or CDNSKEY RRsets"},
	[CDS_R_NOT_SIGNED] = {"not-signed", "CDS/CDNSKEY published without RRSIG"},
	[CDS_R_BOGUS] = {"bogus", "the DNSKEY RRset or a CDS/CDNSKEY signature does not "
				  "validate with the current DS set"},
	[CDS_R_CDS_CDNSKEY_MISMATCH] = {"cds-cdnskey-mismatch",
					"CDS and CDNSKEY do not describe the same keys"},
	[CDS_R_BREAKS_CHAIN] = {"breaks-chain", "the proposed DS set would not authenticate "
						"the DNSKEY RRset served by every nameserver"},
	[CDS_R_ALGORITHM_NOT_ALLOWED] = {"algorithm-not-allowed",
					 "a DNSKEY algorithm outside policy"},
	[CDS_R_DIGEST_NOT_ALLOWED] = {"digest-not-allowed", "a digest type outside policy"},
	[CDS_R_MIXED_DELETE] = {"mixed-delete",
				"a delete record mixed with other records in the RRset"},
	[CDS_R_STALE_SIGNAL] = {"stale-signal", "the signal was signed before the parent's "
						"last DS change (replay protection)"},
	[CDS_R_OPTED_OUT] = {"opted-out", "automation is disabled for this domain"},
	[CDS_R_INSECURE_NO_BOOTSTRAP] = {"insecure-no-bootstrap",
					 "insecure delegation with CDS/CDNSKEY, but no accepted "
					 "bootstrap path"},
	[CDS_R_BOOTSTRAP_AUTHENTICATED] = {"bootstrap-authenticated",
					   "RFC 9615 signals found, DNSSEC-valid and equal to "
					   "the apex signal"},
	[CDS_R_BOOTSTRAP_SIGNAL_MISSING] = {"bootstrap-signal-missing",
					    "an RFC 9615 signaling name is missing"},
	[CDS_R_BOOTSTRAP_SIGNAL_MISMATCH] = {"bootstrap-signal-mismatch",
					     "a signaling RRset differs from the apex signal"},
	[CDS_R_BOOTSTRAP_NS_INSECURE] = {"bootstrap-ns-insecure",
					 "a nameserver's hostname is not in a securely "
					 "delegated zone"},
	[CDS_R_BOOTSTRAP_PENDING] = {"bootstrap-pending",
				     "seen consistently, but not yet for long enough"},
	[CDS_R_BOOTSTRAP_AFTER_DELAY] = {"bootstrap-after-delay",
					 "accept-after-delay policy met"},
	[CDS_R_TOO_MANY_DS] = {"too-many-ds", "the signal asks for more DS records than "
					      "policy allows"},
	[CDS_R_NO_CSYNC] = {"no-csync", "no CSYNC record"},
	[CDS_R_CSYNC_UNCHANGED] = {"csync-unchanged", "child NS and glue equal the parent's"},
	[CDS_R_NS_UPDATED] = {"ns-updated", "CSYNC processed; NS and/or glue change"},
	[CDS_R_CSYNC_NOT_SIGNED] = {"csync-not-signed", "CSYNC or its data is not signed"},
	[CDS_R_CSYNC_BOGUS] = {"csync-bogus", "CSYNC or its data does not validate"},
	[CDS_R_CSYNC_INCONSISTENT] = {"csync-inconsistent",
				      "nameservers disagree on CSYNC, NS or glue"},
	[CDS_R_CSYNC_SOA_SERIAL] = {"csync-soa-serial",
				    "soaminimum set and the SOA serial is below the CSYNC serial"},
	[CDS_R_CSYNC_SERIAL_CHANGED] = {"csync-serial-changed",
					"the SOA serial changed while processing"},
	[CDS_R_CSYNC_UNKNOWN_FLAGS] = {"csync-unknown-flags", "unknown CSYNC flag bits"},
	[CDS_R_CSYNC_UNKNOWN_TYPE] = {"csync-unknown-type",
				      "the CSYNC type bitmap names a type other than NS, A, AAAA"},
	[CDS_R_CSYNC_MULTIPLE] = {"csync-multiple", "more than one CSYNC record at the apex"},
	[CDS_R_CSYNC_NOT_IMMEDIATE] = {"csync-not-immediate",
				       "immediate flag clear: needs the operator's approval"},
	[CDS_R_CSYNC_NO_GLUE] = {"csync-no-glue",
				 "an in-bailiwick nameserver without an address record"},
	[CDS_R_CSYNC_EMPTY_NS] = {"csync-empty-ns", "the update would leave no nameserver"},
	[CDS_R_CSYNC_NS_NOT_SERVING] = {"csync-ns-not-serving",
					"a nameserver or glue address the update adds does not "
					"serve the zone with the same SOA serial"},
	[CDS_R_CSYNC_BAD_HOST_NAME] = {"csync-bad-host-name",
				       "a child NS name is not a valid host name"},
	[CDS_R_BOOTSTRAP_SIGNAL_BOGUS] = {"bootstrap-signal-bogus",
					  "an RFC 9615 signal is present but does not validate "
					  "from the trust anchor"},
	[CDS_R_SIGNER_NOT_IN_DS] = {"signer-not-in-ds",
				    "the CDS/CDNSKEY RRset is not signed by a key that is in both "
				    "the DNSKEY RRset and the current DS set"},
	[CDS_R_SUSPENDED] = {"suspended", "automation is suspended for this domain"},
	[CDS_R_CSYNC_BREAKS_CHAIN] = {"csync-breaks-chain",
				      "a nameserver the update adds serves a DNSKEY RRset the "
				      "current DS set does not authenticate"},
	[CDS_R_CSYNC_APPROVED] = {"csync-approved",
				  "an operator approved a CSYNC without the immediate flag, and "
				  "it still validates"},
	[CDS_R_CSYNC_NOT_PROCESSED] = {"csync-not-processed",
				       "a CSYNC record is published, but CSYNC processing is "
				       "not enabled"},
	[CDS_R_VANTAGE_DISAGREEMENT] = {"vantage-disagreement",
					"the vantages scan.vantages requires did not all observe "
					"the same signal within scan.vantage-window"},
};

const char *cds_reason_code(enum cds_reason r)
{
	return (unsigned)r < CDS_R_COUNT ? reasons[r].code : "?";
}

const char *cds_reason_text(enum cds_reason r)
{
	return (unsigned)r < CDS_R_COUNT ? reasons[r].text : "?";
}

int cds_reason_parse(const char *code, enum cds_reason *out)
{
	for (int k = 0; k < CDS_R_COUNT; k++) {
		if (strcmp(reasons[k].code, code) == 0) {
			*out = (enum cds_reason)k;
			return 0;
		}
	}
	return CDS_EDATA;
}

static const char *const action_names[CDS_ACTION_COUNT] = {"none", "update", "delete",
							   "bootstrap", "reject"};

const char *cds_action_name(enum cds_action a)
{
	return (unsigned)a < CDS_ACTION_COUNT ? action_names[a] : "?";
}

/* The index of name in names[0..n), or -1. */
static int find_name(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int cds_action_parse(const char *name, enum cds_action *out)
{
	int i = find_name(action_names, CDS_ACTION_COUNT, name);
	if (i < 0)
		return CDS_EDATA;
	*out = (enum cds_action)i;
	return 0;
}

bool cds_action_changes(enum cds_action a)
{
	return a == CDS_ACTION_UPDATE || a == CDS_ACTION_DELETE || a == CDS_ACTION_BOOTSTRAP;
}

static const char *const event_names[CDS_EVENT_COUNT] = {
	"change-applied",     "signal-rejected",    "rejected-repeatedly",
	"bootstrap-pending", "bootstrap-accepted", "suspended"};

const char *cds_event_name(enum cds_event e)
{
	return (unsigned)e < CDS_EVENT_COUNT ? event_names[e] : "?";
}

int cds_event_parse(const char *name, enum cds_event *out)
{
	int i = find_name(event_names, CDS_EVENT_COUNT, name);
	if (i < 0)
		return CDS_EDATA;
	*out = (enum cds_event)i;
	return 0;
}

static const char *const kind_names[CDS_KIND_COUNT] = {"ds", "ns"};

const char *cds_kind_name(enum cds_kind k)
{
	return (unsigned)k < CDS_KIND_COUNT ? kind_names[k] : "?";
}

int cds_kind_parse(const char *name, enum cds_kind *out)
{
	int i = find_name(kind_names, CDS_KIND_COUNT, name);
	if (i < 0)
		return CDS_EDATA;
	*out = (enum cds_kind)i;
	return 0;
}

const char *cds_signal_status_name(enum cds_signal_status s)
{
	static const char *const names[] = {"secure", "missing", "insecure", "bogus", "error"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const struct {
	uint16_t type;
	const char *name;
} queries[CDS_Q_COUNT] = {
	[CDS_Q_SOA] = {CDS_T_SOA, "SOA"},       [CDS_Q_DNSKEY] = {CDS_T_DNSKEY, "DNSKEY"},
	[CDS_Q_CDS] = {CDS_T_CDS, "CDS"},       [CDS_Q_CDNSKEY] = {CDS_T_CDNSKEY, "CDNSKEY"},
	[CDS_Q_CSYNC] = {CDS_T_CSYNC, "CSYNC"}, [CDS_Q_NS] = {CDS_T_NS, "NS"},
};

uint16_t cds_query_type(enum cds_query_kind kind)
{
	return queries[kind].type;
}

const char *cds_query_name(enum cds_query_kind kind)
{
	return queries[kind].name;
}

const char *cds_ns_op_name(enum cds_ns_op_kind k)
{
	static const char *const names[CDS_NS_OP_COUNT] = {"host-create", "host-update",
							   "domain-update", "host-delete"};
	return (unsigned)k < CDS_NS_OP_COUNT ? names[k] : "?";
}
