/* SPDX-License-Identifier: MIT */
/*
 * enforce.h: genv's enforcement rules engine, in three steps.
 *
 *  1. Surveys: one snapshot per machine (hostname NULL for the local one),
 *     wrapped in a struct survey that decides which environment every GPU
 *     process really belongs to.
 *  2. Rules (enforce_run_rules): genv 1.4.3's four rules, in its order and
 *     with its exact messages, over all surveys at once (the per-user
 *     device limit counts devices across hosts). They only print findings
 *     (into a strvec, prefixed "[host] " for remote surveys) and mark
 *     processes to terminate and environments to detach; each survey then
 *     yields a struct report (the JSON `genv usage execute` reads).
 *  3. Execution (enforce_execute, enforce_escalate): SIGTERM, detach, and,
 *     unlike 1.4.3, SIGKILL after a grace period for processes that ignore
 *     SIGTERM. They return the lines to print rather than printing.
 *
 * Differences from 1.4.3, on purpose:
 *  - A process belongs to an environment only if its GENV_ENVIRONMENT_ID
 *    names an environment that exists AND (when its real uid is known) the
 *    process runs as the environment's owner. Otherwise it is treated as
 *    outside any environment: an orphaned env id (1.4.3 gap 22) or an id
 *    spoofed by another user no longer escapes enforcement.
 *  - Users are judged in sorted order (1.4.3 used hash order).
 *  - A process is identified by pid AND its start time in /proc/PID/stat,
 *    so a pid reused by a new process between snapshot and signal is left
 *    alone.
 */
#ifndef GENV_CORE_ENFORCE_H
#define GENV_CORE_ENFORCE_H

#include "core/state.h"
#include "util/strvec.h"

struct store;
struct strbuf;

/* ----- options ----- */

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

/* ----- report: what to do on one machine ----- */

struct report_detach {
	long index;
	struct envs envs;
};

struct report {
	/* Processes to terminate, in snapshot order, with all their usage. */
	struct processes terminate;
	/* Device index -> environments to detach, in insertion order. */
	struct report_detach *detach;
	size_t detach_nr, detach_alloc;
	/*
	 * Local knowledge, never in JSON, parallel to terminate.v (NULL when
	 * the report was parsed): the rule that asked, and the process start
	 * time (clock ticks since boot, 0 = unknown).
	 */
	enum enforce_rule *rule;
	unsigned long long *start_time;
};
#define REPORT_INIT { PROCESSES_INIT, NULL, 0, 0, NULL, NULL }

void report_release(struct report *r);
int report_is_empty(const struct report *r);

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

/* ----- surveys and rules ----- */

struct survey_detach {
	long index;
	struct strvec eids;
};

struct survey {
	char *hostname;             /* NULL for the local machine */
	struct snapshot snapshot;
	/*
	 * Per process (parallel to snapshot.processes.v): the eid of the
	 * environment it belongs to (borrowed from snapshot.envs) or NULL;
	 * its start time (0 = unknown); the rule that marked it (NONE = not
	 * marked).
	 */
	const char **owner;
	unsigned long long *start_time;
	enum enforce_rule *marked;
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
 * are appended to out (one line each, no newline); problems that do not
 * stop enforcement (an unparsable gpu_memory in the state) to warnings.
 */
void enforce_run_rules(struct survey *surveys, size_t nr,
		       const struct enforce_options *o, struct strvec *out,
		       struct strvec *warnings);

/* Builds the report of what the rules marked in sv. */
void survey_report(const struct survey *sv, struct report *r);

/* ----- execution ----- */

struct enforce_exec_options {
	int send_signals;          /* 0 with GENV_TERMINATE_PROCESSES=0 */
	int dry_run;               /* print "[dry-run] ..." lines, touch nothing */
	const char *hostname;      /* for the audit log; NULL = this host's name */
	struct strbuf *audit;      /* JSON lines are appended here, or NULL */
};
#define ENFORCE_EXEC_OPTIONS_INIT { 1, 0, NULL, NULL }

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
 * Waits up to grace_ms for the pending processes to exit, then SIGKILLs
 * those still running (same pid and start time): "Killing process <pid>
 * that is still running <N> seconds after SIGTERM" on out
 * ("<N> ms" when grace_ms is not whole seconds). Returns early
 * when all are gone. Call it without holding the store lock.
 */
void enforce_escalate(const struct enforce_pendings *pending, long grace_ms,
		      const struct enforce_exec_options *o, struct strvec *out,
		      struct strvec *errout);

/*
 * Reads the state and start time of pid from /proc/PID/stat. Returns 0,
 * or -1 when the process does not exist or is a zombie.
 */
int enforce_proc_start_time(long pid, unsigned long long *start_time);

/*
 * Appends the audit lines to path (created 0644; never followed if it is
 * a symlink, since the default lives in the world-writable state dir).
 */
int enforce_audit_write(const char *path, const struct strbuf *lines,
			struct strbuf *err);

#endif
