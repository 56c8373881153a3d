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
#include "core/store.h"
#include "gpu/gpu.h"
#include "metrics/config.h"
#include "metrics/prom.h"
#include "metrics/server.h"
#include "remote/hosts.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct rmon {
	const struct remote_monitor_opts *o;
	struct stream stream;        /* the streamer thread's while it runs */
	pthread_mutex_t lock;
	struct strbuf text;          /* the latest exposition, under lock */
	int stop[2];                 /* written when the streamer must end */
};

/* The GPUs of a watch line as the renderer takes them. */
static void
gpus_from_live(struct gpu_devices *out, const struct live *l)
{
	for (size_t i = 0; i < l->gpus_nr; i++) {
		const struct live_gpu *g = &l->gpus[i];
		struct gpu_device *d;

		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		d = &out->v[out->nr++];
		memset(d, 0, sizeof(*d));
		d->index = (unsigned)g->index;
		d->uuid = xstrdup_or_null(g->uuid);
		d->name = xstrdup_or_null(g->name);
		d->mem_total = g->mem_total;
		d->mem_used = g->mem_used;
		if (g->valid & LIVE_GPU_UTIL) {
			d->util_gpu = g->util;
			d->util_mem = g->util_mem;
			d->valid |= GPU_HAS_UTILIZATION;
		}
		if (g->valid & LIVE_GPU_TEMP) {
			d->temperature = g->temp;
			d->valid |= GPU_HAS_TEMPERATURE;
		}
		if (g->valid & LIVE_GPU_POWER) {
			d->power_mw = (unsigned)g->power_mw;
			d->valid |= GPU_HAS_POWER;
		}
		if (g->valid & LIVE_GPU_POWER_LIMIT) {
			d->power_limit_mw = (unsigned)g->power_limit_mw;
			d->valid |= GPU_HAS_POWER_LIMIT;
		}
	}
}

void
remote_monitor_render(const struct stream *s, struct strbuf *out)
{
	struct prom_host *hosts = xcalloc(s->nr ? s->nr : 1, sizeof(*hosts));
	struct gpu_devices *gpus = xcalloc(s->nr ? s->nr : 1, sizeof(*gpus));
	size_t n = 0;

	for (size_t i = 0; i < s->nr; i++) {
		const struct stream_host *h = &s->v[i];

		if (h->state == STREAM_UP && !h->live.error) {
			gpus_from_live(&gpus[n], &h->live);
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

/* Listens, publishes the config files, and says where. */
static int
start(const struct monitor_opts *o, int *listen_fd, struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct strbuf dir = STRBUF_INIT;
	struct monitor_ready ready;
	unsigned port;
	int rc = -1;

	/* as genv monitor: libmicrohttpd first, or nothing is published */
	if (http_server_load(err) < 0 || store_init(&st, err) < 0 ||
	    http_listen(o->bind, o->port, listen_fd, &port, err) < 0)
		goto out;
	if (o->config_dir)
		strbuf_addstr(&dir, o->config_dir);
	else
		store_path(&st, "metrics", &dir);
	/* Prometheus scrapes us as it would genv monitor */
	if (metrics_publish_config(dir.buf, port, err) < 0) {
		close(*listen_fd);
		goto out;
	}
	ready = (struct monitor_ready){ o->bind && *o->bind ? o->bind : "0.0.0.0", port, dir.buf };
	if (o->ready)
		o->ready(&ready, o->data);
	rc = 0;
out:
	store_release(&st);
	strbuf_release(&dir);
	return rc;
}

/* Blocks SIGINT and SIGTERM (threads and children inherit it) for a signalfd. */
static int
stop_signals(sigset_t *saved, struct strbuf *err)
{
	sigset_t stop;
	int fd;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, saved);
	fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		strbuf_addstr(err, "cannot watch for SIGINT and SIGTERM");
		strbuf_add_errno(err, errno);
	}
	return fd;
}

static int
serve(struct rmon *m, int stop_fd, struct strbuf *err)
{
	struct http_server_opts so = { -1, stop_fd, m->o->serve.timeout, handle, m };
	struct stream_opts sopts = m->o->stream;
	pthread_t thread;
	int rc;

	if (start(&m->o->serve, &so.listen_fd, err) < 0)
		return -1;
	/* full snapshots need root, as `sudo genv usage snapshot` for 1.4.3 */
	sopts.interval = m->o->serve.interval;
	sopts.root = STREAM_AS_ROOT;
	stream_init(&m->stream, m->o->hosts, &sopts);
	publish(m);   /* every metric's HELP and TYPE before the first snapshot */
	if ((errno = pthread_create(&thread, NULL, streamer, m))) {
		strbuf_addstr(err, "cannot start the streamer thread");
		strbuf_add_errno(err, errno);
		close(so.listen_fd);
		stream_release(&m->stream);
		return -1;
	}
	rc = http_serve(&so, err);
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
	sigset_t saved;
	int stop_fd = stop_signals(&saved, err), rc = -1;

	if (stop_fd < 0)
		goto out;
	if (pipe2(m.stop, O_CLOEXEC) < 0) {
		strbuf_addstr(err, "cannot create a pipe");
		strbuf_add_errno(err, errno);
		goto out;
	}
	rc = serve(&m, stop_fd, err);
	{
		/* consume the signal: unblocking it must not kill us now */
		struct signalfd_siginfo si;

		while (read(stop_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
	}
out:
	if (stop_fd >= 0)
		close(stop_fd);
	for (int i = 0; i < 2; i++)
		if (m.stop[i] >= 0)
			close(m.stop[i]);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	strbuf_release(&m.text);
	http_server_unload();
	return rc;
}
