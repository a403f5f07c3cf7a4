/* What the HTML pages of the report layer share: escaping, and reason
 * codes read back from JSON in words. */
#include <string.h>

#include "cdscan/model.h"
#include "report_internal.h"

void cds_report_html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

const char *cds_report_reason_text(const char *code)
{
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (strcmp(cds_reason_code((enum cds_reason)k), code) == 0)
			return cds_reason_text((enum cds_reason)k);
	return "";
}
