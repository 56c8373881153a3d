/* SPDX-License-Identifier: MIT */
/*
 * host-names.h: the host names a user has told ssh about, for completing
 * `genv remote -H`: the Host patterns of ~/.ssh/config without wildcards
 * or negations, in file order, each once.
 */
#ifndef GENV_REMOTE_HOST_NAMES_H
#define GENV_REMOTE_HOST_NAMES_H

struct strvec;

/* Appends the names of the ssh config file at path; a missing file adds none. */
void host_names_from_ssh_config(const char *path, struct strvec *out);

#endif
