/* SPDX-License-Identifier: MIT */
/*
 * monitor.c: genv monitor (monitor.h). Two threads: the collector takes a
 * sample every interval and publishes it; the HTTP thread renders each
 * reply from the latest published sample. Samples are immutable and
 * reference-counted, so a reply never waits for a collection (NVML and
 * /proc can be slow) and a collection never waits for a slow client.
 */
#include "compat.h"
#include "metrics/monitor.h"
#include "core/store.h"
#include "metrics/config.h"
#include "metrics/prom.h"
#include "metrics/sample.h"
#include "metrics/server.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct feed_item {
	struct metrics_sample s;
	unsigned refs;               /* under monitor.lock */
	/* the /api/snapshot reply, made at the first request (HTTP thread only) */
	struct strbuf json;
	int json_done;
};

struct monitor {
	const struct monitor_opts *o;
	struct store st;             /* used by the collector thread only */
	pthread_mutex_t lock;
	pthread_cond_t wake;         /* stopping was set */
	struct feed_item *current;
	int stopping;
};

/* ---- the latest sample ---- */

static struct feed_item *
feed_get(struct monitor *m)
{
	struct feed_item *it;

	pthread_mutex_lock(&m->lock);
	it = m->current;
	it->refs++;
	pthread_mutex_unlock(&m->lock);
	return it;
}

static void
feed_put(struct monitor *m, struct feed_item *it)
{
	unsigned left;

	pthread_mutex_lock(&m->lock);
	left = --it->refs;
	pthread_mutex_unlock(&m->lock);
	if (!left) {
		metrics_sample_release(&it->s);
		strbuf_release(&it->json);
		free(it);
	}
}

static struct feed_item *
collect(struct monitor *m, const struct feed_item *prev)
{
	struct feed_item *it = xcalloc(1, sizeof(*it));

	it->s = (struct metrics_sample)METRICS_SAMPLE_INIT;
	strbuf_init(&it->json, 0);
	it->refs = 1;
	metrics_sample_take(&it->s, prev ? &prev->s : NULL, &m->st);
	return it;
}

static void
feed_publish(struct monitor *m, struct feed_item *it)
{
	struct feed_item *old;

	pthread_mutex_lock(&m->lock);
	old = m->current;
	m->current = it;
	pthread_mutex_unlock(&m->lock);
	if (old)
		feed_put(m, old);
}

/* The wake condition waits on the monotonic clock (monitor_run sets it up). */
static struct timespec
deadline(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	return ts;
}

static void *
collector(void *data)
{
	struct monitor *m = data;
	int64_t next = clock_monotonic_ms();

	pthread_mutex_lock(&m->lock);
	for (;;) {
		struct timespec until;

		next += (int64_t)m->o->interval * 1000;
		until = deadline(next);
		while (!m->stopping && pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT)
			;
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->lock);
		{
			struct feed_item *prev = feed_get(m);

			feed_publish(m, collect(m, prev));
			feed_put(m, prev);
		}
		/* a collection slower than the interval: no burst to catch up */
		if (clock_monotonic_ms() > next)
			next = clock_monotonic_ms();
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* ---- replies ---- */

static void
reply_metrics(struct monitor *m, struct http_reply *r)
{
	double start = clock_monotonic_seconds();
	struct feed_item *it = feed_get(m);

	metrics_sample_render(&it->s, &r->body);
	feed_put(m, it);
	prom_render_scrape_duration(&r->body, clock_monotonic_seconds() - start);
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* The same sample gives the same JSON: made once, by the HTTP thread. */
static void
reply_snapshot(struct monitor *m, struct http_reply *r)
{
	struct feed_item *it = feed_get(m);

	if (!it->json_done) {
		json_t *j = metrics_sample_to_json(&it->s, m->o->interval);

		json_dump_py(&it->json, j, JSON_STYLE_LINE);
		strbuf_addch(&it->json, '\n');
		json_decref(j);
		it->json_done = 1;
	}
	strbuf_addbuf(&r->body, &it->json);
	feed_put(m, it);
	r->content_type = "application/json";
}

/* The page with a fresh nonce: only its own script and style may run. */
static void
reply_page(struct http_reply *r)
{
	unsigned char raw[16];
	char nonce[2 * sizeof(raw) + 1];
	struct strbuf csp = STRBUF_INIT;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* cannot happen after boot; a nonce the page's author cannot know still helps */
		unsigned long long x = (unsigned long long)(clock_monotonic_seconds() * 1e9) ^
				       ((unsigned long long)getpid() << 32);

		for (size_t i = 0; i < sizeof(raw); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			raw[i] = (unsigned char)(x >> 56);
		}
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	for (const char *p = metrics_page_html, *at; *p; p = at + 7) {
		at = strstr(p, "@NONCE@");
		if (!at) {
			strbuf_addstr(&r->body, p);
			break;
		}
		strbuf_add(&r->body, p, (size_t)(at - p));
		strbuf_addstr(&r->body, nonce);
	}
	strbuf_addf(&csp, "default-src 'none'; script-src 'nonce-%s'; style-src 'nonce-%s'; "
		    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
		    "frame-ancestors 'none'", nonce, nonce);
	strvec_push(&r->headers, "Content-Security-Policy");
	strvec_push(&r->headers, csp.buf);
	strvec_push(&r->headers, "Referrer-Policy");
	strvec_push(&r->headers, "no-referrer");
	r->content_type = "text/html; charset=utf-8";
	strbuf_release(&csp);
}

static void
handle(const char *path, struct http_reply *r, void *data)
{
	struct monitor *m = data;

	if (!strcmp(path, "/metrics")) {
		reply_metrics(m, r);
	} else if (!strcmp(path, "/api/snapshot")) {
		reply_snapshot(m, r);
	} else if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
		reply_page(r);
	} else if (!strcmp(path, "/favicon.ico")) {
		r->status = 204;
	} else {
		r->status = 404;
		strbuf_addstr(&r->body, "not found: genv monitor serves / (live page), "
			      "/metrics (Prometheus) and /api/snapshot (JSON)\n");
	}
	strvec_push(&r->headers, "Cache-Control");
	strvec_push(&r->headers, "no-store");
	strvec_push(&r->headers, "X-Content-Type-Options");
	strvec_push(&r->headers, "nosniff");
}

/* ---- running ---- */

static int
start(struct monitor *m, int *listen_fd, struct strbuf *config_dir, struct strbuf *err)
{
	const struct monitor_opts *o = m->o;
	struct monitor_ready ready;
	unsigned port;

	/* first: without it, nothing is published and no port is taken */
	if (http_server_load(err) < 0 || store_init(&m->st, err) < 0 ||
	    http_listen(o->bind, o->port, listen_fd, &port, err) < 0)
		return -1;
	if (o->config_dir)
		strbuf_addstr(config_dir, o->config_dir);
	else
		store_path(&m->st, "metrics", config_dir);
	if (metrics_publish_config(config_dir->buf, port, err) < 0) {
		close(*listen_fd);
		return -1;
	}
	/* the first sample before the first request */
	m->current = collect(m, NULL);
	ready = (struct monitor_ready){ o->bind && *o->bind ? o->bind : "0.0.0.0", port,
					config_dir->buf };
	if (o->ready)
		o->ready(&ready, o->data);
	return 0;
}

int
monitor_run(const struct monitor_opts *o, struct strbuf *err)
{
	struct monitor m = { o, STORE_INIT, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			     NULL, 0 };
	struct strbuf config_dir = STRBUF_INIT;
	pthread_condattr_t ca;
	sigset_t stop, saved;
	pthread_t thread;
	int listen_fd = -1, stop_fd = -1, rc = -1;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m.wake, &ca);
	pthread_condattr_destroy(&ca);
	/* blocked before the collector starts, so that it inherits the mask */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &saved);
	stop_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	if (stop_fd < 0) {
		strbuf_addstr(err, "cannot watch for SIGINT and SIGTERM");
		strbuf_add_errno(err, errno);
		goto out;
	}
	if (start(&m, &listen_fd, &config_dir, err) < 0)
		goto out;
	if ((errno = pthread_create(&thread, NULL, collector, &m))) {
		strbuf_addstr(err, "cannot start the collector thread");
		strbuf_add_errno(err, errno);
		close(listen_fd);
		goto out;
	}
	{
		struct http_server_opts so = { listen_fd, stop_fd, o->timeout, handle, &m };

		rc = http_serve(&so, err);
	}
	pthread_mutex_lock(&m.lock);
	m.stopping = 1;
	pthread_cond_signal(&m.wake);
	pthread_mutex_unlock(&m.lock);
	pthread_join(thread, NULL);
	{
		/* consume the signal: unblocking it must not kill us now */
		struct signalfd_siginfo si;

		while (read(stop_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
	}
out:
	if (m.current)
		feed_put(&m, m.current);
	if (stop_fd >= 0)
		close(stop_fd);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_cond_destroy(&m.wake);
	store_release(&m.st);
	strbuf_release(&config_dir);
	http_server_unload();
	return rc;
}
