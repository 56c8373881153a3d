/* SPDX-License-Identifier: MIT */
/*
 * remote-enforce.c: one enforcement cycle over many hosts
 * (remote-enforce.h): snapshots in, core's judgement, reports out.
 */
#include "compat.h"
#include "remote/remote-enforce.h"
#include "core/enforce.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* What one cycle holds: a survey and a report per answering host. */
struct remote_cycle {
	const struct hostlist *hosts;
	const struct remote_enforce_options *o;
	const struct enforce_sink *sink;
	struct survey *surveys;
	struct report *reports;
	size_t *host_of;    /* surveys[s] is of hosts->v[host_of[s]] */
	size_t nr;
};

/*
 * Reports a failed host and counts it in *failed; returns -1 (and sets
 * *failed to -1) when exit_on_error says to stop.
 */
static int
host_failed(const struct remote_cycle *c, const struct fanout_result *r, int *failed)
{
	if (!c->o->quiet || c->o->exit_on_error)
		c->sink->line(c->sink->data, ENFORCE_ERR, r->error.buf);
	if (c->o->exit_on_error) {
		*failed = -1;
		return -1;
	}
	++*failed;
	return 0;
}

static void
emit_host_lines(const struct remote_cycle *c, const char *host,
		enum enforce_stream stream, const struct strvec *lines)
{
	struct strbuf prefix = STRBUF_INIT;

	strbuf_addf(&prefix, "[%s] ", host);
	enforce_emit(c->sink, stream, lines, prefix.buf);
	strbuf_release(&prefix);
}

/*
 * Takes the snapshots (`genv usage snapshot`) into surveys, one per
 * answering host. Returns the number of failed hosts, or -1 when
 * exit_on_error stopped at one.
 */
static int
take_snapshots(struct remote_cycle *c, const struct fanout_opts *fan)
{
	const struct hostlist *hl = c->hosts;
	struct fanout_result *res;
	size_t nfailed;
	int failed = 0;

	res = fanout_snapshot(hl, FANOUT_SNAPSHOT, fan, &nfailed);
	for (size_t i = 0; i < hl->nr; i++) {
		if (!res[i].ok) {
			if (host_failed(c, &res[i], &failed) < 0)
				break;
			continue;
		}
		emit_host_lines(c, hl->v[i].name, ENFORCE_ERR, &res[i].warnings);
		c->host_of[c->nr] = i;
		survey_init(&c->surveys[c->nr++], hl->v[i].name, &res[i].snapshot);
	}
	fanout_results_free(res, hl->nr);
	return failed;
}

/* What each host's `genv usage execute` reads: its report, or NULL (skip). */
static const struct strbuf **
report_payloads(const struct remote_cycle *c, struct strbuf *json)
{
	const struct strbuf **payloads = xcalloc(c->hosts->nr + 1, sizeof(*payloads));

	for (size_t s = 0; s < c->nr; s++) {
		if (report_is_empty(&c->reports[s]))
			continue;
		report_serialize(&c->reports[s], &json[c->host_of[s]]);
		payloads[c->host_of[s]] = &json[c->host_of[s]];
	}
	return payloads;
}

/*
 * Sends each non-empty report to its host (`genv usage execute`, the
 * report on stdin); returns the number of failed hosts or -1.
 */
static int
execute_reports(const struct remote_cycle *c, const struct fanout_opts *fan)
{
	const struct hostlist *hl = c->hosts;
	struct strbuf *json = xcalloc(hl->nr + 1, sizeof(*json));
	const struct strbuf **payloads;
	struct fanout_result *res;
	struct strbuf grace = STRBUF_INIT;
	size_t nfailed;
	int failed = 0;

	for (size_t i = 0; i < hl->nr; i++)
		strbuf_init(&json[i], 0);
	payloads = report_payloads(c, json);
	/*
	 * Only when asked: hosts running genv 1.4.3 reject --grace (and then
	 * execute nothing), and without it every host sends SIGTERM only.
	 */
	if (c->o->grace >= 0)
		strbuf_addf(&grace, "%ld", c->o->grace);
	res = fanout_execute(hl, payloads,
			     c->o->grace >= 0 ? (const char *const[]){ "--grace", grace.buf, NULL }
					      : NULL,
			     fan, &nfailed);
	for (size_t i = 0; i < hl->nr; i++) {
		if (res[i].ok && res[i].skipped)
			continue;
		emit_host_lines(c, hl->v[i].name, ENFORCE_OUT, &res[i].output);
		if (!res[i].ok) {
			if (host_failed(c, &res[i], &failed) < 0)
				break;
			continue;
		}
		emit_host_lines(c, hl->v[i].name, ENFORCE_ERR, &res[i].warnings);
	}
	fanout_results_free(res, hl->nr);
	for (size_t i = 0; i < hl->nr; i++)
		strbuf_release(&json[i]);
	free(json);
	free(payloads);
	strbuf_release(&grace);
	return failed;
}

/* --dry-run: what each host would do, "[host] [dry-run] ...". */
static void
show_reports(const struct remote_cycle *c)
{
	struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, errout = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	xo.dry_run = 1;
	for (size_t s = 0; s < c->nr; s++) {
		strvec_clear(&out);
		/* a dry run touches nothing, so it has no errors to say */
		enforce_execute(NULL, &c->reports[s], &xo, &out, &errout, NULL, &err);
		emit_host_lines(c, c->surveys[s].hostname, ENFORCE_OUT, &out);
	}
	strvec_clear(&out);
	strvec_clear(&errout);
	strbuf_release(&err);
}

int
remote_enforce_cycle(const struct hostlist *hosts, const struct fanout_opts *fan,
		     const struct remote_enforce_options *o,
		     const struct enforce_sink *sink)
{
	size_t n = hosts->nr;
	struct remote_cycle c = { hosts, o, sink, NULL, NULL, NULL, 0 };
	int failed, more;

	c.surveys = xcalloc(n + 1, sizeof(*c.surveys));
	c.reports = xcalloc(n + 1, sizeof(*c.reports));
	c.host_of = xcalloc(n + 1, sizeof(*c.host_of));
	failed = take_snapshots(&c, fan);
	if (failed < 0)
		goto out;
	enforce_judge(c.surveys, c.nr, o->rules, o->dry_run, c.reports, sink);
	if (o->dry_run) {
		show_reports(&c);
		goto out;
	}
	more = execute_reports(&c, fan);
	failed = more < 0 ? -1 : failed + more;
out:
	enforce_flush(sink);
	for (size_t s = 0; s < c.nr; s++) {
		survey_release(&c.surveys[s]);
		report_release(&c.reports[s]);
	}
	free(c.surveys);
	free(c.reports);
	free(c.host_of);
	return failed;
}
