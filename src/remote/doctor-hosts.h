/* SPDX-License-Identifier: MIT */
/*
 * doctor-hosts.h: `genv doctor -H HOSTS`: every host's genv version and
 * its own `genv doctor`, over ssh in parallel, in hostfile order.
 */
#ifndef GENV_REMOTE_DOCTOR_HOSTS_H
#define GENV_REMOTE_DOCTOR_HOSTS_H

struct fanout_opts;
struct hostlist;
struct strvec;

/*
 * Appends, per host, "[host] version <the remote `genv version -v`>" and
 * its doctor's lines as "[host] <line>"; an unreachable host, or one whose
 * genv has no doctor (1.4.3), gets one FAIL line with the fix. Returns the
 * number of hosts that failed or whose doctor found a FAIL.
 */
int doctor_hosts(const struct hostlist *hl, const struct fanout_opts *o,
		 struct strvec *lines);

#endif
