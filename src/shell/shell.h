/* SPDX-License-Identifier: MIT */
/*
 * shell.h: genv's shell integration. A shell evaluates what genv prints
 * (`eval "$(genv activate --shell $$)"` in bash and zsh, `... | source`
 * in fish), so everything here produces shell code, and every value that
 * came from a user, a state file or the environment is quoted so that the
 * shell reads it back as exactly those bytes and never runs any of it.
 *
 * The emitted lines call the helper functions that `genv shell --init`
 * defines (_genv_set_env, _genv_replace_env, _genv_unset_env, ...), with
 * the names and shapes genv 1.4.3 uses, so that simple values produce
 * byte-identical output. Nothing here prints, exits or touches state;
 * everything appends to a caller-owned strbuf.
 */
#ifndef GENV_SHELL_SHELL_H
#define GENV_SHELL_SHELL_H

#include <stddef.h>

struct strbuf;

/* The language of the code we print: bash and zsh share one. */
enum shell_syntax {
	SHELL_SYNTAX_POSIX,  /* bash, zsh (and sh for the helpers) */
	SHELL_SYNTAX_FISH,
};

/*
 * Maps a shell name ("bash", "zsh", "sh", "fish"; also a path such as
 * "/usr/bin/fish") to its syntax. Unknown names fail with a message that
 * names them and the accepted ones.
 */
int shell_syntax_parse(const char *name, enum shell_syntax *syntax,
		       struct strbuf *err);

/* 1 if name is a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*). */
int shell_valid_var_name(const char *name);

/*
 * Appends s as one word of the given syntax. Simple values (only
 * [A-Za-z0-9_@%+=:,./-], not empty) are left bare, as 1.4.3 printed them;
 * anything else is single-quoted (fish: backslash and quote escaped).
 */
void shell_quote(struct strbuf *out, enum shell_syntax syntax, const char *s);
/* fish single quotes: 'it\'s', backslashes doubled. Always quotes. */
void fish_quote(struct strbuf *out, const char *s);

/*
 * Line emitters. name must be a valid variable name (callers pass
 * constants); value is quoted. Each appends one line ending in '\n'.
 */
void shell_emit_set_env(struct strbuf *out, enum shell_syntax syntax,
			const char *name, const char *value);
void shell_emit_replace_env(struct strbuf *out, enum shell_syntax syntax,
			    const char *name, const char *value);
void shell_emit_unset_env(struct strbuf *out, enum shell_syntax syntax,
			  const char *name);

/*
 * An active environment as its variables describe it. This one
 * description is what every renderer below starts from: the shell code of
 * activation and of `genv shell --reconfigure/--reattach`, and the
 * environment `genv exec` gives its command.
 */
struct shell_env {
	const char *eid;
	const char *name;        /* NULL = unset */
	const char *gpu_memory;  /* NULL = unset */
	int has_gpus;
	long gpus;
	const char *indices;     /* attached devices, "0,2"; "" or NULL = none */
};
#define SHELL_ENV_INIT { NULL, NULL, NULL, 0, 0, NULL }

enum shell_env_part {
	SHELL_ENV_ID      = 1 << 0,  /* GENV_ENVIRONMENT_ID */
	SHELL_ENV_CONFIG  = 1 << 1,  /* GENV_ENVIRONMENT_NAME, GENV_GPU_MEMORY, GENV_GPUS */
	SHELL_ENV_DEVICES = 1 << 2,  /* CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER */
};

struct shell_var {
	const char *name;
	const char *value;  /* NULL = unset */
	int replace;        /* the user's own variable: restored on deactivation */
};
#define SHELL_ENV_MAX_VARS 6

/*
 * Fills vars (room for SHELL_ENV_MAX_VARS) with the variables of the
 * given parts of env, in a fixed order, and returns how many. Values
 * point into env, to constants, or into scratch (which must outlive
 * vars and not change meanwhile). No devices is CUDA_VISIBLE_DEVICES=-1,
 * as 1.4.3 writes it.
 */
size_t shell_env_vars(const struct shell_env *env, unsigned parts,
		      struct shell_var *vars, struct strbuf *scratch);

/*
 * Sets (or unsets) the variables of the given parts in this process's
 * environment, for a command genv runs (`genv exec`).
 */
void shell_env_apply(const struct shell_env *env, unsigned parts);

/*
 * What `genv activate` prints on success: exports GENV_SHELL and
 * GENV_ENVIRONMENT_ID, prepends shims_dir to PATH (skipped when NULL),
 * re-runs `genv shell --reconfigure` and `--reattach`, and prefixes the
 * prompt with "(genv) " when prompt is set. For POSIX syntax and simple
 * values this is byte-identical to 1.4.3. When state_code is not NULL it
 * replaces the two re-runs (it is what they would print): our shell
 * function asks for that, saving two process starts per activation.
 */
void shell_emit_activate(struct strbuf *out, enum shell_syntax syntax,
			 const char *eid, const char *shims_dir, int prompt,
			 const char *state_code);
/* What `genv deactivate` prints: "\n_genv_unset_envs\n_genv_restore_envs\n\n". */
void shell_emit_deactivate(struct strbuf *out, enum shell_syntax syntax);
/*
 * `genv shell --reattach`: the SHELL_ENV_DEVICES variables of env
 * (CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers GPUs as NVML does),
 * then a blank line.
 */
void shell_emit_reattach(struct strbuf *out, enum shell_syntax syntax,
			 const struct shell_env *env);
/*
 * `genv shell --reconfigure`: the SHELL_ENV_CONFIG variables of env, set
 * or unset, then a blank line.
 */
void shell_emit_reconfigure(struct strbuf *out, enum shell_syntax syntax,
			    const struct shell_env *env);

/*
 * The directory of genv's shims (nvidia-smi), which activation puts first
 * on PATH: <dir of this executable>/../libexec/genv/shims, resolved.
 * Returns -1 (out untouched) when it does not exist.
 */
int shell_shims_dir(struct strbuf *out);

/*
 * The code `genv shell --init` prints: the helper functions, the `genv`
 * shell function, and pre-activation (GENV_PREACTIVATE*, set by
 * `genv remote activate`). Evaluating it twice is harmless.
 */
void shell_init_script(struct strbuf *out, enum shell_syntax syntax);
/* Undoes shell_init_script's definitions (`genv shell --deinit`). */
void shell_deinit_script(struct strbuf *out, enum shell_syntax syntax);

#endif
