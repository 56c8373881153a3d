/* SPDX-License-Identifier: MIT */
/*
 * project-config.h: the `.genv` project directory (`genv home`, `genv
 * config --save/--load`), in 1.4.3's format: one file per configuration
 * field (name, gpu-memory, gpus), each holding the value as text; a
 * missing file is an unset field.
 */
#ifndef GENV_CORE_PROJECT_CONFIG_H
#define GENV_CORE_PROJECT_CONFIG_H

#include "core/state.h"

struct strbuf;

/* Appends the first existing of $PWD/.genv and $HOME/.genv; -1 if none. */
int project_config_dir(struct strbuf *out);

/*
 * Reads the configuration in dir into *c (which must be empty; the
 * caller releases it). Values are stripped of surrounding white space;
 * a value the state could not hold (state-check.h: a name that is too
 * long or not text, a gpu-memory that is not a memory string, gpus that
 * is not a device count) is an error naming the file.
 */
int project_config_load(const char *dir, struct env_config *c, struct strbuf *err);

/*
 * Writes c to dir, one file per set field (mode 0666 less the umask, as
 * the files the user would create), removing the files of unset fields.
 */
int project_config_save(const char *dir, const struct env_config *c, struct strbuf *err);

#endif
