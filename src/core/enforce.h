/* SPDX-License-Identifier: MIT */
/*
 * enforce.h: genv's enforcement, one header for the five files that do it:
 *
 *  enforce-rules.c    surveys (which environment every GPU process really
 *                     belongs to) and genv 1.4.3's four rules, in its order
 *                     and with its exact messages, over all surveys at once
 *                     (the per-user device limit counts devices across hosts)
 *  enforce-report.c   the Report: what to do on one machine, and its JSON
 *                     (what `genv usage execute` reads)
 *  enforce-execute.c  SIGTERM, detach and, unlike 1.4.3, SIGKILL after a
 *                     grace period for processes that ignore SIGTERM
 *  enforce-audit.c    the audit log: one JSON line per action
 *  enforce-cycle.c    the procedures commands call: one local cycle
 *                     (`genv enforce`), the execution of a report
 *                     (`genv usage execute`), and the judging step they
 *                     share with the multi-host cycle
 *
 * Layering: src/remote (remote-enforce.c, `genv remote enforce`) builds on
 * this model (surveys from its hosts' snapshots, the rules, reports, the
 * sink); nothing here knows about hosts or ssh, and core never includes
 * src/remote.
 *
 * Nothing here prints: the cycle procedures hand every line to a
 * caller-given sink, in order; the lower-level steps append lines to
 * strvecs.
 *
 * Differences from 1.4.3, on purpose:
 *  - A process belongs to an environment only if its GENV_ENVIRONMENT_ID
 *    names an environment that exists AND (when its real uid is known) the
 *    process runs as the environment's owner or as root (container
 *    runtimes start a user's environment as root; only root can). Otherwise
 *    it is treated as outside any environment: an orphaned env id or an id
 *    spoofed by another user no longer escapes enforcement. The owner is
 *    trustworthy only in the protected mode (doc/security.md).
 *  - Users are judged in sorted order (1.4.3 used hash order).
 *  - A process is identified by pid AND its start time in /proc/PID/stat,
 *    so a pid reused by a new process between snapshot and signal is left
 *    alone.
 */
#ifndef GENV_CORE_ENFORCE_H
#define GENV_CORE_ENFORCE_H

#include "core/state.h"
#include "util/json.h"
#include "util/strvec.h"

struct store;
struct strbuf;

/* ----- options (enforce-rules.c) ----- */

struct enforce_limit {
	char *username;
	long maximum;
};

struct enforce_options {
	int non_env_processes;      /* 1.4.3 default: off */
	int env_devices;            /* default: on */
	int env_memory;             /* default: on */
	int max_devices;            /* --max-devices-per-user given */
	long max_devices_per_user;
	struct enforce_limit *limits;  /* --max-devices-for-user, in given order */
	size_t limits_nr, limits_alloc;
};
#define ENFORCE_OPTIONS_INIT { 0, 1, 1, 0, 0, NULL, 0, 0 }

/*
 * Adds a "username=maximum" spec (a later spec for the same user wins).
 * On a malformed spec appends "not a valid spec: <spec>" to err.
 */
int enforce_options_add_limit(struct enforce_options *o, const char *spec,
			      struct strbuf *err);
void enforce_options_release(struct enforce_options *o);

/* Which rule asked for an action (recorded in the audit log). */
enum enforce_rule {
	ENFORCE_RULE_NONE = 0,
	ENFORCE_RULE_NON_ENV_PROCESSES,
	ENFORCE_RULE_ENV_DEVICES,
	ENFORCE_RULE_ENV_MEMORY,
	ENFORCE_RULE_MAX_DEVICES_PER_USER,
};
/* "non-env-processes", ..., or NULL for ENFORCE_RULE_NONE. */
const char *enforce_rule_name(enum enforce_rule rule);

/* ----- report: what to do on one machine (enforce-report.c) ----- */

struct report_process {
	struct process process;         /* as in the JSON */
	/*
	 * Local knowledge, never in the JSON (so unknown in a parsed report):
	 * the rule that asked, and the process start time (clock ticks since
	 * boot, 0 = unknown).
	 */
	enum enforce_rule rule;
	unsigned long long start_time;
};

struct report_processes {
	struct report_process *v;
	size_t nr, alloc;
};

struct report_detach {
	long index;
	struct envs envs;
};

struct report {
	/* Processes to terminate, in snapshot order, with all their usage. */
	struct report_processes terminate;
	/* Device index -> environments to detach, in insertion order. */
	struct report_detach *detach;
	size_t detach_nr, detach_alloc;
};
#define REPORT_INIT { { NULL, 0, 0 }, NULL, 0, 0 }

void report_release(struct report *r);
int report_is_empty(const struct report *r);
/*
 * Appends a process to terminate (eid copied, may be NULL; no usage, uid
 * unknown, rule NONE, start time unknown).
 */
struct report_process *report_add_process(struct report *r, long pid, const char *eid);

/*
 * The 1.4.3 Report object: {"terminate": {"processes": [...]},
 * "detach": {"<index>": {"envs": [...]}}}.
 */
json_t *report_to_json(const struct report *r);
/* Appends json.dumps(report) (one line, ", " and ": "), no newline. */
void report_serialize(const struct report *r, struct strbuf *out);
/*
 * Parses a Report (strictly: exactly the two keys, decimal detach keys).
 * what names the input in messages ("standard input").
 */
int report_parse(struct report *r, const char *text, size_t len,
		 const char *what, struct strbuf *err);

/* ----- surveys and rules (enforce-rules.c) ----- */

/* What the rules know and decide about one GPU process of a survey. */
struct survey_process {
	const struct process *process;  /* in the survey's snapshot */
	const char *owner;              /* eid it belongs to (borrowed), or NULL */
	unsigned long long start_time;  /* 0 = unknown */
	enum enforce_rule marked;       /* the rule that marked it, or NONE */
};

struct survey_detach {
	long index;
	struct strvec eids;
};

struct survey {
	char *hostname;             /* NULL for the local machine */
	struct snapshot snapshot;
	struct survey_process *procs;  /* one per snapshot process, same order */
	size_t procs_nr;
	struct survey_detach *detach;
	size_t detach_nr, detach_alloc;
};

/*
 * Takes over the contents of *snap (left empty) and decides the owner of
 * every process. hostname may be NULL (local survey).
 */
void survey_init(struct survey *sv, const char *hostname, struct snapshot *snap);
/*
 * Reads from /proc the start time of every process the rules marked (call
 * it right after enforce_run_rules, on local surveys; a process that is
 * gone by then gets 0 and is reported as terminated at execution).
 */
void survey_read_start_times(struct survey *sv);
void survey_release(struct survey *sv);

/*
 * Runs the enabled rules over surveys[0..nr-1] in 1.4.3's order. Findings
 * are appended to out (one line each, no newline, "[host] " first for a
 * remote survey); problems that do not stop enforcement (an unparsable
 * gpu_memory in the state) to warnings.
 */
void enforce_run_rules(struct survey *surveys, size_t nr,
		       const struct enforce_options *o, struct strvec *out,
		       struct strvec *warnings);

/* Builds the report of what the rules marked in sv (enforce-report.c). */
void survey_report(const struct survey *sv, struct report *r);

/* ----- execution (enforce-execute.c) ----- */

struct enforce_exec_options {
	int send_signals;          /* 0 with GENV_TERMINATE_PROCESSES=0 */
	int dry_run;               /* print "[dry-run] ..." lines, touch nothing */
	const char *hostname;      /* for the audit log; NULL = this host's name */
	struct strbuf *audit;      /* JSON lines are appended here, or NULL */
};
#define ENFORCE_EXEC_OPTIONS_INIT { 1, 0, NULL, NULL }

/* 0 when GENV_TERMINATE_PROCESSES is an integer equal to 0 (1.4.3), else 1. */
int enforce_signals_enabled(void);

/* A process that was sent SIGTERM, to check on after the grace period. */
struct enforce_pending {
	long pid;
	unsigned long long start_time;
	long long uid;
	char *eid;
	enum enforce_rule rule;
};

struct enforce_pendings {
	struct enforce_pending *v;
	size_t nr, alloc;
};
#define ENFORCE_PENDINGS_INIT { NULL, 0, 0 }
void enforce_pendings_release(struct enforce_pendings *p);

/*
 * 1.4.3's execute(report): for every process, "Terminating process ..."
 * on out and SIGTERM (unless it is gone or was replaced by another process
 * with the same pid: "[DEBUG] Process <pid> already terminated" on errout;
 * EPERM: "[ERROR] Not enough permissions to terminate process <pid>");
 * then for every detach, "Detaching environment ..." on out and the
 * detach in devices.json (st must be locked by the caller; st may be NULL
 * when the report has no detach). Signalled processes are added to
 * pending (may be NULL). Returns -1 only when devices.json cannot be
 * loaded or saved (err says why); the lines so far are in out.
 */
int enforce_execute(struct store *st, const struct report *r,
		    const struct enforce_exec_options *o, struct strvec *out,
		    struct strvec *errout, struct enforce_pendings *pending,
		    struct strbuf *err);

/*
 * Audits every detach of r as not done, with result ("skipped": the
 * caller could not take the lock) and reason (the error, which names the
 * lock's holder).
 */
void enforce_audit_undone_detaches(const struct report *r,
				   const struct enforce_exec_options *o,
				   const char *result, const char *reason);

/*
 * Waits up to grace_ms for the pending processes to exit, then SIGKILLs
 * those still running (same pid and start time): "Killing process <pid>
 * that is still running <N> seconds after SIGTERM" on out
 * ("<N> ms" when grace_ms is not whole seconds). Returns early
 * when all are gone. Call it without holding the store lock.
 */
void enforce_escalate(const struct enforce_pendings *pending, long grace_ms,
		      const struct enforce_exec_options *o, struct strvec *out,
		      struct strvec *errout);

/* ----- audit log (enforce-audit.c) ----- */

/*
 * Appends one JSON line (time, host, rule, pid, uid, eid, [device,]
 * action, result, [reason]) to o->audit, if set. pid <= 0 and uid < 0 are
 * null; device < 0 and reason NULL leave the key out (a reason says why
 * an action was not done).
 */
void enforce_audit_add(const struct enforce_exec_options *o, enum enforce_rule rule,
		       long pid, long long uid, const char *eid, long device,
		       const char *action, const char *result, const char *reason);

/*
 * Appends the audit lines to path in one write. The log is a record the
 * administrator trusts, and its default place is the world-writable state
 * directory: it is created 0644 (missing directories 0755), and an
 * existing one is refused (err says why, nothing is written) unless it is
 * a regular file with a single link, owned by the effective uid and
 * writable by nobody else. A symlink is never followed.
 */
int enforce_audit_write(const char *path, const struct strbuf *lines,
			struct strbuf *err);

/* ----- the procedures (enforce-cycle.c) ----- */

enum enforce_stream {
	ENFORCE_OUT,   /* findings and actions (stdout) */
	ENFORCE_ERR,   /* warnings, per-process problems, errors (stderr) */
};

/* Where the procedures say what they find and do, one line at a time. */
struct enforce_sink {
	/* line has no newline */
	void (*line)(void *data, enum enforce_stream stream, const char *line);
	/*
	 * May be NULL. Called before the procedure waits (the grace period)
	 * and when it ends, so that buffered lines are seen meanwhile.
	 */
	void (*flush)(void *data);
	void *data;
};

/* Hands every line to the sink, after prefix (may be NULL). */
void enforce_emit(const struct enforce_sink *sink, enum enforce_stream stream,
		  const struct strvec *lines, const char *prefix);
void enforce_flush(const struct enforce_sink *sink);

/*
 * The judging step of every cycle, local or over hosts: runs the rules
 * over surveys[0..nr-1], reads the start times of the processes marked in
 * local surveys (unless dry_run), fills reports[s] for each survey, and
 * emits the findings, then the warnings.
 */
void enforce_judge(struct survey *surveys, size_t nr, const struct enforce_options *o,
		   int dry_run, struct report *reports, const struct enforce_sink *sink);

struct enforce_cycle_options {
	const struct enforce_options *rules;  /* enforce_cycle() only */
	int dry_run;                          /* enforce_cycle() only */
	long grace_ms;          /* SIGKILL this long after SIGTERM; < 0: never */
	const char *audit_log;  /* NULL: enforce.log in the state directory */
	int no_audit_log;
};

/*
 * One enforcement cycle on this machine: a snapshot (without the lock:
 * anyone may hold it); the rules; the start times of the processes to
 * signal; then the terminations (no lock needed either), the detaching
 * (under the lock, unless dry_run), escalation after grace_ms, and the
 * audit log. Each cycle asks NVML afresh. GENV_TERMINATE_PROCESSES=0
 * keeps the lines and sends no signal. st is initialised (store_init) by
 * the caller, who may keep it over many cycles.
 *
 * Returns 0; 1 when the cycle ran but an action failed (the lock stayed
 * held past $GENV_LOCK_TIMEOUT, or devices.json could not be saved: the
 * processes were signalled all the same), already said on the sink in its
 * place; -1 when it could not run (no snapshot): err says why.
 */
int enforce_cycle(struct store *st, const struct enforce_cycle_options *o,
		  const struct enforce_sink *sink, struct strbuf *err);

/*
 * `genv usage execute`: parses the Report in text (what names it in
 * messages), then opens the state directory, and executes the report as a
 * cycle does (rules and dry_run unused). Returns like enforce_cycle().
 */
int enforce_report_execute(const char *text, size_t len, const char *what,
			   const struct enforce_cycle_options *o,
			   const struct enforce_sink *sink, struct strbuf *err);

#endif
