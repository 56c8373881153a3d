/* SPDX-License-Identifier: MIT */
/*
 * remote-enforce.h: enforcement over many hosts (`genv remote enforce`),
 * in the 1.4.3 protocol: each cycle takes `genv usage snapshot` from
 * every host in parallel, judges all of them at once with core's rules
 * (the per-user device limit counts devices across hosts), and sends
 * each host with something to do its report through `genv usage execute`.
 *
 * Layering: this builds on core's enforcement model (core/enforce.h:
 * surveys, rules, reports, the sink) and adds only what hosts need;
 * core never knows about hosts.
 */
#ifndef GENV_REMOTE_REMOTE_ENFORCE_H
#define GENV_REMOTE_REMOTE_ENFORCE_H

struct enforce_options;
struct enforce_sink;
struct fanout_opts;
struct hostlist;

struct remote_enforce_options {
	const struct enforce_options *rules;
	int dry_run;        /* print findings and "[host] [dry-run] ..." only */
	long grace;         /* seconds, as the hosts' `usage execute --grace`; < 0: not given */
	int exit_on_error;  /* stop at the first host that fails */
	int quiet;          /* do not report failed hosts (unless exit_on_error) */
};

/*
 * One multi-host cycle. Findings, the hosts' output ("[host] line") and
 * failed hosts ("Failed running SSH command on ...") go to the sink; a
 * host that is down or answers nonsense is reported and skipped. Returns
 * the number of hosts that failed, or -1 when exit_on_error stopped at
 * one.
 */
int remote_enforce_cycle(const struct hostlist *hosts, const struct fanout_opts *fan,
			 const struct remote_enforce_options *o,
			 const struct enforce_sink *sink);

#endif
