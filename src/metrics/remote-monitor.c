/* SPDX-License-Identifier: MIT */
/*
 * remote-monitor.c: `genv remote ... monitor` (remote-monitor.h). Two
 * threads: the streamer services the hosts' ssh sessions and renders the
 * exposition text whenever a snapshot arrives; the HTTP thread answers
 * scrapes with a copy of the latest text, so a scrape never waits for a
 * host and a slow client never delays a snapshot.
 */
#include "compat.h"
#include "metrics/remote-monitor.h"
#include "gpu/gpu.h"
#include "metrics/prom.h"
#include "remote/hosts.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

struct rmon {
	const struct remote_monitor_opts *o;
	struct stream stream;        /* the streamer thread's while it runs */
	pthread_mutex_t lock;
	struct strbuf text;          /* the latest exposition, under lock */
	int stop[2];                 /* written when the streamer must end */
};

void
remote_monitor_render(const struct stream *s, struct strbuf *out)
{
	struct prom_host *hosts = xcalloc(s->nr ? s->nr : 1, sizeof(*hosts));
	struct gpu_devices *gpus = xcalloc(s->nr ? s->nr : 1, sizeof(*gpus));
	size_t n = 0;

	for (size_t i = 0; i < s->nr; i++) {
		const struct stream_host *h = &s->v[i];

		if (h->state == STREAM_UP && !h->live.error) {
			live_gpu_devices(&gpus[n], &h->live);
			hosts[n] = (struct prom_host){ h->host->name, 1, &gpus[n], NULL,
						       &h->live.snap };
			n++;
		} else if (h->no_genv) {
			/* 1.4.3: genv_is_installed 0, no genv series */
			hosts[n++] = (struct prom_host){ h->host->name, 0, NULL, NULL, NULL };
		}
	}
	prom_render(out, hosts, n);
	for (size_t i = 0; i < n; i++)
		gpu_devices_release(&gpus[i]);
	free(gpus);
	free(hosts);
}

static void
publish(struct rmon *m)
{
	struct strbuf text = STRBUF_INIT, old;

	remote_monitor_render(&m->stream, &text);
	pthread_mutex_lock(&m->lock);
	old = m->text;
	m->text = text;
	pthread_mutex_unlock(&m->lock);
	strbuf_release(&old);
}

static void *
streamer(void *data)
{
	struct rmon *m = data;
	struct pollfd *pfd = xcalloc(1 + STREAM_POLLFDS(&m->stream), sizeof(*pfd));

	for (;;) {
		size_t n = 1;
		int timeout;

		pfd[0] = (struct pollfd){ .fd = m->stop[0], .events = POLLIN };
		n += stream_poll(&m->stream, pfd + 1, &timeout);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (stream_service(&m->stream))
			publish(m);
	}
	free(pfd);
	return NULL;
}

static void
handle(const char *path, struct http_reply *r, void *data)
{
	struct rmon *m = data;

	if (!strcmp(path, "/metrics")) {
		double start = clock_monotonic_seconds();

		pthread_mutex_lock(&m->lock);
		strbuf_addbuf(&r->body, &m->text);
		pthread_mutex_unlock(&m->lock);
		prom_render_scrape_duration(&r->body, clock_monotonic_seconds() - start);
		r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		r->status = 404;
		strbuf_addstr(&r->body, "not found: genv remote monitor serves /metrics "
			      "(Prometheus)\n");
	}
	strvec_push(&r->headers, "Cache-Control");
	strvec_push(&r->headers, "no-store");
}

static int
serve(struct rmon *m, struct monitor_server *srv, struct strbuf *err)
{
	struct stream_opts sopts = m->o->stream;
	pthread_t thread;
	int rc;

	/* full snapshots need root, as `sudo genv usage snapshot` for 1.4.3 */
	sopts.interval = m->o->serve.interval;
	sopts.root = STREAM_AS_ROOT;
	stream_init(&m->stream, m->o->hosts, &sopts);
	publish(m);   /* every metric's HELP and TYPE before the first snapshot */
	if ((errno = pthread_create(&thread, NULL, streamer, m))) {
		strbuf_addstr(err, "cannot start the streamer thread");
		strbuf_add_errno(err, errno);
		stream_release(&m->stream);
		return -1;
	}
	rc = monitor_serve(srv, m->o->serve.timeout, handle, m, err);
	if (write(m->stop[1], "x", 1) < 0) {
		/* cannot fail on a fresh pipe with room */
	}
	pthread_join(thread, NULL);
	stream_release(&m->stream);
	return rc;
}

int
remote_monitor_run(const struct remote_monitor_opts *o, struct strbuf *err)
{
	struct rmon m = { o, { 0 }, PTHREAD_MUTEX_INITIALIZER, STRBUF_INIT, { -1, -1 } };
	struct monitor_server srv;
	int rc = -1;

	if (pipe2(m.stop, O_CLOEXEC) < 0) {
		strbuf_addstr(err, "cannot create a pipe");
		strbuf_add_errno(err, errno);
		return -1;
	}
	/* Prometheus scrapes us as it would genv monitor, with the same config files */
	if (!monitor_start(&srv, &o->serve, err)) {
		monitor_announce(&srv, &o->serve);
		rc = serve(&m, &srv, err);
	}
	monitor_stop(&srv);
	for (int i = 0; i < 2; i++)
		close(m.stop[i]);
	strbuf_release(&m.text);
	return rc;
}
