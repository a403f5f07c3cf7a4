/* The json adapter: one change set per line (cds_change_set_to_json), for
 * registries that feed their own pipeline; the lines are flushed and
 * fsync'd before the change sets are marked sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdscan/error.h"
#include "outbox_internal.h"

struct json_out {
	FILE *f;
	const char *name; /* borrowed: output.json-file */
};

static int json_open(const struct cds_conf *conf, const char *spool_dir, void **state,
		     char *err, size_t errlen)
{
	struct json_out *j = calloc(1, sizeof(*j));
	if (!j)
		return CDS_ENOMEM;
	j->name = conf->output.json_file;
	j->f = strcmp(j->name, "-") == 0 ? stdout : fopen(j->name, "a");
	if (!j->f) {
		snprintf(err, errlen, "output.json-file %s: %s", j->name, strerror(errno));
		free(j);
		return CDS_ECONFIG;
	}
	*state = j;
	return 0;
}

static int json_send(void *state, const struct outgoing *o, enum send_status *st, char *svtrid,
		     size_t svlen, char *why, size_t whylen)
{
	struct json_out *j = state;
	char *line = cds_change_set_to_json(o->cs);
	if (!line)
		return CDS_ENOMEM;
	fprintf(j->f, "%s\n", line);
	free(line);
	if (ferror(j->f)) {
		snprintf(why, whylen, "output.json-file: %s", strerror(EIO));
		return -EIO;
	}
	*st = SEND_OK;
	return 0;
}

/* The lines are durable before the change sets are marked. */
static int json_flush(void *state, char *err, size_t errlen)
{
	struct json_out *j = state;
	int e = 0;
	if (fflush(j->f) != 0 || (j->f != stdout && fsync(fileno(j->f)) != 0))
		e = -errno;
	if (e)
		snprintf(err, errlen, "output.json-file: %s", cds_strerror(e));
	return e;
}

static const char *json_destination(void *state)
{
	return ((struct json_out *)state)->name;
}

static void json_close(void *state)
{
	struct json_out *j = state;
	if (j->f && j->f != stdout)
		fclose(j->f);
	free(j);
}

const struct adapter cds_json_adapter = {
	.name = "json", .durable = true, .epp = false, .routed = false,
	.open = json_open, .send = json_send, .flush = json_flush,
	.destination = json_destination, .close = json_close,
};
