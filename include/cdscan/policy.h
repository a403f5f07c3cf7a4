/* Decisions: from what every nameserver served (scan.h) to a verdict
 * (verdict.h) under the policy of the configuration.  Pure functions of
 * their inputs (the clock is a parameter), so tests replay them. */
#pragma once

#include <time.h>

#include "cdscan/conf.h"
#include "cdscan/scan.h"
#include "cdscan/verdict.h"

/*
 * Decide the DS and NS sides for one scanned delegation at time now and fill
 * v (zeroed first; release with cds_verdict_clear).  Returns 0 or
 * CDS_ENOMEM.
 */
int cds_policy_decide(const struct cds_scan_result *res, const struct cds_conf *conf,
		      time_t now, struct cds_verdict *v);
