/* SPDX-License-Identifier: MIT */
/*
 * state-check.h: the rules the values in genv's state obey, in one place.
 * The JSON codec applies them when it loads a file (state-json.c), and
 * every procedure that writes a value a user or another program gave
 * (store-ops.c, project-config.c, the CLI's early checks) applies them
 * before writing, so that no command can write a state that a later load
 * refuses (one out-of-range pid used to break genv for every user).
 *
 * Each rule has a store side (what a command may write) and a load side
 * (what a file may hold). The store side is never wider than the load
 * side (t/unit/test-state-check.c checks it value by value); it is
 * narrower only where genv 1.4.3 writes anything, so that a file written
 * by a Python genv on the same machine keeps loading:
 *   - pids: 1 to INT_MAX both ways (they go to kill()).
 *   - device indices: 0 to LONG_MAX both ways (only NVML writes them).
 *   - uids: 0 to 4294967294 on store; any integer on load (1.4.3's
 *     `envs activate --uid` takes any; a uid is only ever compared).
 *   - device counts (config.gpus): 0 to INT_MAX on store; any integer on
 *     load (1.4.3 keeps `activate --gpus -1` in the file).
 *   - text (eids, names, user names, kernel ids): on store at most
 *     STATE_TEXT_MAX bytes of valid UTF-8 without NUL, and for the ids
 *     (not names: a name is free text, newlines included, as in 1.4.3)
 *     no control characters; on load any JSON string (jansson already
 *     refuses invalid UTF-8 and NUL), with no length cap besides the
 *     file's: 1.4.3 writes names of any length.
 *   - memory sizes: a memory string (memory.h) on store; any string on
 *     load (1.4.3 stores "4GB" and only fails when it attaches).
 *   - a whole state file: at most STATE_FILE_MAX bytes both ways.
 * Timestamps are written only from the clock (timefmt.h), never taken
 * from a user, and any string is read.
 */
#ifndef GENV_CORE_STATE_CHECK_H
#define GENV_CORE_STATE_CHECK_H

#include <stddef.h>
#include "core/state.h"

struct strbuf;

#define STATE_FILE_MAX ((size_t)64 << 20)  /* bytes of envs.json or devices.json */
#define STATE_TEXT_MAX 1024                /* bytes of a name or id, on store */

/* An integer field: the store range, and the (equal or wider) load range. */
struct state_range {
	const char *noun;   /* "process id": "Invalid process id 0 (...)" */
	long long min, max;
	long long load_min, load_max;
};

extern const struct state_range state_pid_range;
extern const struct state_range state_uid_range;
extern const struct state_range state_index_range;
extern const struct state_range state_gpus_range;

/*
 * The store rule: 0 if n is in r's store range, else -1 and (when err is
 * not NULL) "Invalid <noun> <n> (expected <min> to <max>)".
 */
int state_check_range(const struct state_range *r, long long n, struct strbuf *err);

/*
 * The store rule for text: at most STATE_TEXT_MAX bytes of valid UTF-8,
 * no NUL (len counts the bytes, so a NUL read from a file is seen). On
 * failure: -1 and "Invalid <noun>: <why>"; the value itself is never
 * echoed (it may be huge or hold escape sequences).
 */
int state_check_text(const char *noun, const char *s, size_t len, struct strbuf *err);

/*
 * Ids: the text rule, no C0/C1 control character or DEL, and for an eid
 * not empty (an empty one means "none"). A kernel id is also a file name
 * (no '/'). Empty user names are fine.
 */
int state_check_eid(const char *eid, struct strbuf *err);
int state_check_kernel_id(const char *kernel_id, struct strbuf *err);
int state_check_username(const char *username, struct strbuf *err);
/* Environment names: the text rule; free text otherwise (empty is fine). */
int state_check_name(const char *name, struct strbuf *err);
/* A memory size (memory_to_bytes()'s message on failure). */
int state_check_memory(const char *memory, struct strbuf *err);

/*
 * One configuration field, as env_config_set_field() takes it: value for
 * name and gpu-memory (NULL unsets), gpus for gpus (< 0 unsets). Unsetting
 * is always valid.
 */
int state_check_config_field(enum env_config_field field, const char *value,
			     long gpus, struct strbuf *err);
/* Every set field of c. */
int state_check_config(const struct env_config *c, struct strbuf *err);

/*
 * The file size rule, for loads (len bytes read from or found at path):
 * -1 and "<path>: <len> bytes, over the 64 MiB limit of a genv state file"
 * when it is over.
 */
int state_check_file_size(const char *path, unsigned long long len, struct strbuf *err);

/* The files a repair hint can be about. */
enum state_file {
	STATE_FILE_ENVS,
	STATE_FILE_DEVICES,
};

/*
 * Appends to err (which holds why path could not be loaded) a second line
 * saying how to repair it: "\nhint: ...", naming the file and the genv
 * command that starts it afresh.
 */
void state_add_repair_hint(enum state_file which, const char *path, struct strbuf *err);

#endif
