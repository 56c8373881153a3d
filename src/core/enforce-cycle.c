/* SPDX-License-Identifier: MIT */
/*
 * enforce-cycle.c: the enforcement procedures commands call (enforce.h):
 * one cycle on this machine (lock, snapshot, rules, start times, execute,
 * escalate, audit), the execution of a report read from elsewhere, and
 * the judging step that the multi-host cycle (remote/remote-enforce.c)
 * shares with the local one. Everything they say goes to a sink.
 */
#include "compat.h"
#include "core/enforce.h"
#include "core/snapshot.h"
#include "core/store.h"
#include "util/strbuf.h"

void
enforce_emit(const struct enforce_sink *sink, enum enforce_stream stream,
	     const struct strvec *lines, const char *prefix)
{
	struct strbuf line = STRBUF_INIT;

	for (size_t i = 0; i < lines->nr; i++) {
		if (!prefix) {
			sink->line(sink->data, stream, lines->v[i]);
			continue;
		}
		strbuf_reset(&line);
		strbuf_addstr(&line, prefix);
		strbuf_addstr(&line, lines->v[i]);
		sink->line(sink->data, stream, line.buf);
	}
	strbuf_release(&line);
}

void
enforce_flush(const struct enforce_sink *sink)
{
	if (sink->flush)
		sink->flush(sink->data);
}

void
enforce_judge(struct survey *surveys, size_t nr, const struct enforce_options *o,
	      int dry_run, struct report *reports, const struct enforce_sink *sink)
{
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;

	enforce_run_rules(surveys, nr, o, &out, &warnings);
	for (size_t s = 0; s < nr; s++) {
		/* start times now, while the pids surely name the processes NVML saw */
		if (!dry_run && !surveys[s].hostname)
			survey_read_start_times(&surveys[s]);
		survey_report(&surveys[s], &reports[s]);
	}
	enforce_emit(sink, ENFORCE_OUT, &out, NULL);
	enforce_emit(sink, ENFORCE_ERR, &warnings, NULL);
	strvec_clear(&out);
	strvec_clear(&warnings);
}

/* Appends audit to the chosen log; a refusal is a warning, not a failure. */
static void
write_audit(struct store *st, const struct enforce_cycle_options *o,
	    const struct strbuf *audit, const struct enforce_sink *sink)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, line = STRBUF_INIT;

	if (o->no_audit_log || !audit->len)
		return;
	if (o->audit_log)
		strbuf_addstr(&path, o->audit_log);
	else
		store_path(st, "enforce.log", &path);
	if (enforce_audit_write(path.buf, audit, &err) < 0) {
		strbuf_addf(&line, "[WARNING] %s", err.buf);
		sink->line(sink->data, ENFORCE_ERR, line.buf);
	}
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&line);
}

/*
 * Detaches what r says (under the lock unless dry_run). Without the lock
 * (anyone may hold it) nothing is detached: 1, with the reason in why and
 * in the audit log.
 */
static int
detach(struct store *st, const struct report *r, const struct enforce_exec_options *xo,
       struct strvec *out, struct strvec *errout, struct strbuf *why)
{
	struct report detach_only = *r;   /* shallow: r keeps ownership */
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	detach_only.terminate.nr = 0;
	if (!xo->dry_run && store_lock(st, &err) < 0) {
		strbuf_addf(why, "[ERROR] Not detaching environments: %s", err.buf);
		enforce_audit_undone_detaches(r, xo, "skipped", err.buf);
		rc = 1;
	} else {
		if (enforce_execute(xo->dry_run ? NULL : st, &detach_only, xo, out, errout,
				    NULL, why) < 0)
			rc = 1;
		store_unlock(st);
	}
	strbuf_release(&err);
	return rc;
}

/*
 * The acting half of every cycle: terminates the processes r names (that
 * needs no lock, so a held lock never saves a violator), detaches under
 * the lock unless dry_run, escalates after o->grace_ms, writes the audit
 * log. Returns 0, or 1 when the detaching could not be done (said on the
 * sink, in its place: the escalation still runs).
 */
static int
act(struct store *st, const struct report *r, const struct enforce_cycle_options *o,
    int dry_run, const struct enforce_sink *sink)
{
	struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
	struct enforce_pendings pending = ENFORCE_PENDINGS_INIT;
	struct strvec out = STRVEC_INIT, errout = STRVEC_INIT;
	struct strbuf audit = STRBUF_INIT, why = STRBUF_INIT;
	struct report kill_only = *r;     /* shallow: r keeps ownership */
	int rc = 0;

	xo.send_signals = enforce_signals_enabled();
	xo.dry_run = dry_run;
	xo.audit = o->no_audit_log ? NULL : &audit;
	kill_only.detach_nr = 0;
	enforce_execute(NULL, &kill_only, &xo, &out, &errout,
			dry_run || o->grace_ms < 0 ? NULL : &pending, &why);
	if (r->detach_nr)
		rc = detach(st, r, &xo, &out, &errout, &why);
	enforce_emit(sink, ENFORCE_OUT, &out, NULL);
	enforce_emit(sink, ENFORCE_ERR, &errout, NULL);
	if (rc)
		sink->line(sink->data, ENFORCE_ERR, why.buf);
	if (pending.nr) {
		strvec_clear(&out);
		strvec_clear(&errout);
		enforce_flush(sink);
		enforce_escalate(&pending, o->grace_ms, &xo, &out, &errout);
		enforce_emit(sink, ENFORCE_OUT, &out, NULL);
		enforce_emit(sink, ENFORCE_ERR, &errout, NULL);
	}
	write_audit(st, o, &audit, sink);
	enforce_pendings_release(&pending);
	strvec_clear(&out);
	strvec_clear(&errout);
	strbuf_release(&audit);
	strbuf_release(&why);
	return rc;
}

/*
 * A snapshot of this machine, surveyed into sv. No lock: the survey only
 * reads, and a user holding the lock must not stop enforcement.
 */
static int
take_survey(struct store *st, struct survey *sv, const struct enforce_sink *sink,
	    struct strbuf *err)
{
	struct snapshot snap = SNAPSHOT_INIT;
	struct strvec warnings = STRVEC_INIT;
	int taken;

	taken = !snapshot_take(st, &snap, SNAPSHOT_ALL, &warnings, err);
	survey_init(sv, NULL, &snap);
	enforce_emit(sink, ENFORCE_ERR, &warnings, NULL);
	strvec_clear(&warnings);
	return taken ? 0 : -1;
}

int
enforce_cycle(struct store *st, const struct enforce_cycle_options *o,
	      const struct enforce_sink *sink, struct strbuf *err)
{
	struct survey sv;
	struct report r = REPORT_INIT;
	int rc = -1;

	/* ask NVML afresh every cycle: GPUs can come and go under a daemon */
	store_forget_gpus();
	if (take_survey(st, &sv, sink, err) < 0)
		goto out;
	enforce_judge(&sv, 1, o->rules, o->dry_run, &r, sink);
	rc = report_is_empty(&r) ? 0 : act(st, &r, o, o->dry_run, sink);
out:
	enforce_flush(sink);
	report_release(&r);
	survey_release(&sv);
	return rc;
}

int
enforce_report_execute(const char *text, size_t len, const char *what,
		       const struct enforce_cycle_options *o,
		       const struct enforce_sink *sink, struct strbuf *err)
{
	struct report r = REPORT_INIT;
	struct store st = STORE_INIT;
	int rc = -1;

	if (report_parse(&r, text, len, what, err) < 0 || store_init(&st, err) < 0)
		goto out;
	rc = act(&st, &r, o, 0, sink);
out:
	enforce_flush(sink);
	store_release(&st);
	report_release(&r);
	return rc;
}
