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
#include "core/protect.h"
#include "core/store.h"
#include "metrics/config.h"
#include "metrics/prom.h"
#include "metrics/sample.h"
#include "metrics/server.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/parse-options.h"
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
	struct store *st;            /* used by the collector thread only */
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
	metrics_sample_take(&it->s, prev ? &prev->s : NULL, m->st);
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

/* ---- what both monitors share ---- */

void
monitor_options(struct option *opts, struct monitor_args *a, const char *interval_help,
		const char *bind_help)
{
	const struct option table[MONITOR_OPTIONS_NR] = {
		OPT_STRING("--config-dir", &a->config_dir, NULL,
			   "Where to write the Prometheus and Grafana\n"
			   "configuration files (default: metrics in the\n"
			   "state directory, /var/tmp/genv/metrics)"),
		OPT_INTEGER("-p|--port", &a->port, NULL,
			    "Port to listen on (default: 8000; 0: any free port)"),
		OPT_INTEGER("-i|--interval", &a->interval, NULL, interval_help),
		OPT_STRING("--bind", &a->bind, "ADDR", bind_help),
		OPT_INTEGER("--timeout", &a->timeout, "SECONDS",
			    "Close connections that take longer than this\n"
			    "for a request, or stay idle that long (default: 10)",
			    .flags = PARSE_OPT_USAGE_BREAK),
		OPT_END(),
	};

	memcpy(opts, table, sizeof(table));
}

static int
check_range(const char *opt, long v, long min, long max, struct strbuf *err)
{
	if (v >= min && v <= max)
		return 0;
	strbuf_addf(err, "argument %s: must be between %ld and %ld: '%ld'", opt, min, max, v);
	return -1;
}

int
monitor_opts_from_args(struct monitor_opts *o, const struct monitor_args *a,
		       struct strbuf *err)
{
	if (check_range("-p/--port", a->port, 0, 65535, err) < 0 ||
	    check_range("-i/--interval", a->interval, 1, 86400, err) < 0 ||
	    check_range("--timeout", a->timeout, 1, 3600, err) < 0)
		return -1;
	o->bind = a->bind;
	o->port = (unsigned)a->port;
	o->interval = (unsigned)a->interval;
	o->timeout = (unsigned)a->timeout;
	o->config_dir = a->config_dir;
	return 0;
}

/*
 * o->config_dir, else "metrics" in the state directory (genv 1.4.3's
 * default). Only root may create it in the protected state directory, so
 * another user's default is $XDG_RUNTIME_DIR/genv/metrics, or
 * ~/.cache/genv/metrics without one.
 */
static int
config_dir(const struct monitor_opts *o, const struct store *st, struct strbuf *out,
	   struct strbuf *err)
{
	const char *run = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");

	if (o->config_dir)
		strbuf_addstr(out, o->config_dir);
	else if (!protect_active() || !getuid())
		store_path(st, "metrics", out);
	else if (run && *run == '/')
		strbuf_addf(out, "%s/genv/metrics", run);
	else if (home && *home == '/')
		strbuf_addf(out, "%s/.cache/genv/metrics", home);
	else {
		strbuf_addstr(err, "the protected state directory is root's: "
			      "give the configuration files a place with --config-dir");
		return -1;
	}
	return 0;
}

int
monitor_start(struct monitor_server *srv, const struct monitor_opts *o, struct strbuf *err)
{
	sigset_t stop;

	*srv = (struct monitor_server){ .st = STORE_INIT, .config_dir = STRBUF_INIT,
					.listen_fd = -1, .stop_fd = -1 };
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &srv->saved);
	srv->stop_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	if (srv->stop_fd < 0) {
		strbuf_addstr(err, "cannot watch for SIGINT and SIGTERM");
		strbuf_add_errno(err, errno);
		return -1;
	}
	if (http_server_load(err) < 0 || store_init(&srv->st, err) < 0 ||
	    http_listen(o->bind, o->port, &srv->listen_fd, &srv->port, err) < 0)
		return -1;
	if (config_dir(o, &srv->st, &srv->config_dir, err) < 0)
		return -1;
	return metrics_publish_config(srv->config_dir.buf, srv->port, err);
}

void
monitor_announce(const struct monitor_server *srv, const struct monitor_opts *o)
{
	struct monitor_ready ready = { o->bind && *o->bind ? o->bind : "0.0.0.0", srv->port,
				       srv->config_dir.buf };

	if (o->ready)
		o->ready(&ready, o->data);
}

int
monitor_serve(struct monitor_server *srv, unsigned timeout, http_handler_fn handler,
	      void *data, struct strbuf *err)
{
	struct http_server_opts so = { srv->listen_fd, srv->stop_fd, timeout, handler, data };

	srv->listen_fd = -1;   /* http_serve() closes it */
	return http_serve(&so, err);
}

void
monitor_stop(struct monitor_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->stop_fd >= 0) {
		/* consume the signal: unblocking it must not kill us now */
		struct signalfd_siginfo si;

		while (read(srv->stop_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(srv->stop_fd);
	}
	pthread_sigmask(SIG_SETMASK, &srv->saved, NULL);
	store_release(&srv->st);
	strbuf_release(&srv->config_dir);
	http_server_unload();
}

/* ---- running ---- */

int
monitor_run(const struct monitor_opts *o, struct strbuf *err)
{
	struct monitor m = { o, NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			     NULL, 0 };
	struct monitor_server srv;
	pthread_condattr_t ca;
	pthread_t thread;
	int rc = -1;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m.wake, &ca);
	pthread_condattr_destroy(&ca);
	/* before the collector starts, so that it inherits the signal mask */
	if (monitor_start(&srv, o, err) < 0)
		goto out;
	m.st = &srv.st;
	/* the first sample before the first request */
	m.current = collect(&m, NULL);
	monitor_announce(&srv, o);
	if ((errno = pthread_create(&thread, NULL, collector, &m))) {
		strbuf_addstr(err, "cannot start the collector thread");
		strbuf_add_errno(err, errno);
		goto out;
	}
	rc = monitor_serve(&srv, o->timeout, handle, &m, err);
	pthread_mutex_lock(&m.lock);
	m.stopping = 1;
	pthread_cond_signal(&m.wake);
	pthread_mutex_unlock(&m.lock);
	pthread_join(thread, NULL);
out:
	if (m.current)
		feed_put(&m, m.current);
	monitor_stop(&srv);
	pthread_cond_destroy(&m.wake);
	return rc;
}
