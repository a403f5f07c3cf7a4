/* What the files of src/report share; not part of the interface. */
#pragma once

#include <stdio.h>

/* s as HTML text or attribute value: & < > " ' escaped. */
void cds_report_html_escape(FILE *f, const char *s);

/* The sentence for a reason code in its JSON form ("bogus"), or "" for a
 * code this binary does not know. */
const char *cds_report_reason_text(const char *code);
