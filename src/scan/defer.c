/* One deferral helper for the scan layer: a callback on the next loop turn
 * (a 0 ms timer), so that no callback runs from inside the call that was
 * asked for it (libuv's contract, kept by every asynchronous call here). */
#include <stdlib.h>

#include "cdscan/error.h"
#include "scan_internal.h"

struct deferred {
	uv_timer_t timer; /* embedded; freed from its close callback */
	void (*cb)(void *arg);
	void *arg;
};

static void deferred_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void deferred_cb(uv_timer_t *t)
{
	struct deferred *d = t->data;
	uv_close((uv_handle_t *)t, deferred_close_cb);
	d->cb(d->arg);
}

int scan_defer(uv_loop_t *loop, void (*cb)(void *arg), void *arg)
{
	struct deferred *d = malloc(sizeof(*d));
	if (!d)
		return CDS_ENOMEM;
	d->cb = cb;
	d->arg = arg;
	int r = uv_timer_init(loop, &d->timer);
	if (r != 0) {
		free(d);
		return CDS_ENOMEM; /* uv_timer_init fails only without memory */
	}
	d->timer.data = d;
	uv_timer_start(&d->timer, deferred_cb, 0, 0);
	return 0;
}
