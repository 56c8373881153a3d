/* SPDX-License-Identifier: MIT */
/*
 * shell.c: quoting and the eval-able lines genv prints for the shell
 * function (activate, deactivate, reattach, reconfigure). Values are
 * always quoted for the target shell; see shell.h.
 */
#include "compat.h"
#include "shell/shell.h"
#include "util/proc.h"
#include "util/quote.h"
#include "util/strbuf.h"

int
shell_syntax_parse(const char *name, enum shell_syntax *syntax, struct strbuf *err)
{
	const char *base = name ? strrchr(name, '/') : NULL;

	base = base ? base + 1 : name;
	if (!base || !*base || !strcmp(base, "bash") || !strcmp(base, "zsh") ||
	    !strcmp(base, "sh")) {
		*syntax = SHELL_SYNTAX_POSIX;
		return 0;
	}
	if (!strcmp(base, "fish")) {
		*syntax = SHELL_SYNTAX_FISH;
		return 0;
	}
	strbuf_addf(err, "unsupported shell '%s' (choose from bash, zsh, fish)", name);
	return -1;
}

int
shell_valid_var_name(const char *name)
{
	const char *p = name;

	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return 0;
	for (; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

void
fish_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

/* fish treats a leading '%' (old process expansion) and '~' specially. */
static int
fish_is_simple(const char *s)
{
	const char *p = s;

	if (!*s || *s == '%' || *s == '=')
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_@%+=:,./-", *p)))
			return 0;
	return 1;
}

void
shell_quote(struct strbuf *out, enum shell_syntax syntax, const char *s)
{
	if (syntax == SHELL_SYNTAX_FISH) {
		if (fish_is_simple(s))
			strbuf_addstr(out, s);
		else
			fish_quote(out, s);
		return;
	}
	sq_quote_if_needed(out, s);
}

static void
emit_call(struct strbuf *out, enum shell_syntax syntax, const char *fn,
	  const char *name, const char *value)
{
	strbuf_addf(out, "%s %s", fn, name);
	if (value) {
		strbuf_addch(out, ' ');
		shell_quote(out, syntax, value);
	}
	strbuf_addch(out, '\n');
}

void
shell_emit_set_env(struct strbuf *out, enum shell_syntax syntax,
		   const char *name, const char *value)
{
	emit_call(out, syntax, "_genv_set_env", name, value);
}

void
shell_emit_replace_env(struct strbuf *out, enum shell_syntax syntax,
		       const char *name, const char *value)
{
	emit_call(out, syntax, "_genv_replace_env", name, value);
}

void
shell_emit_unset_env(struct strbuf *out, enum shell_syntax syntax, const char *name)
{
	emit_call(out, syntax, "_genv_unset_env", name, NULL);
}

size_t
shell_env_vars(const struct shell_env *env, unsigned parts,
	       struct shell_var *vars, struct strbuf *scratch)
{
	size_t n = 0;

	if (parts & SHELL_ENV_ID)
		vars[n++] = (struct shell_var){ "GENV_ENVIRONMENT_ID", env->eid, 0 };
	if (parts & SHELL_ENV_CONFIG) {
		strbuf_reset(scratch);
		if (env->has_gpus)
			strbuf_addf(scratch, "%ld", env->gpus);
		vars[n++] = (struct shell_var){ "GENV_ENVIRONMENT_NAME", env->name, 0 };
		vars[n++] = (struct shell_var){ "GENV_GPU_MEMORY", env->gpu_memory, 0 };
		vars[n++] = (struct shell_var){ "GENV_GPUS",
						env->has_gpus ? scratch->buf : NULL, 0 };
	}
	if (parts & SHELL_ENV_DEVICES) {
		vars[n++] = (struct shell_var){ "CUDA_VISIBLE_DEVICES",
						env->indices && *env->indices ?
						env->indices : "-1", 1 };
		vars[n++] = (struct shell_var){ "CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1 };
	}
	return n;
}

void
shell_env_apply(const struct shell_env *env, unsigned parts)
{
	struct shell_var vars[SHELL_ENV_MAX_VARS];
	struct strbuf scratch = STRBUF_INIT;
	size_t n = shell_env_vars(env, parts, vars, &scratch);

	for (size_t i = 0; i < n; i++) {
		if (vars[i].value)
			setenv(vars[i].name, vars[i].value, 1);
		else
			unsetenv(vars[i].name);
	}
	strbuf_release(&scratch);
}

/* One line per variable, as the init script's helpers take them. */
static void
emit_env(struct strbuf *out, enum shell_syntax syntax, const struct shell_env *env,
	 unsigned parts)
{
	struct shell_var vars[SHELL_ENV_MAX_VARS];
	struct strbuf scratch = STRBUF_INIT;
	size_t n = shell_env_vars(env, parts, vars, &scratch);

	for (size_t i = 0; i < n; i++) {
		if (vars[i].replace)
			shell_emit_replace_env(out, syntax, vars[i].name, vars[i].value);
		else if (vars[i].value)
			shell_emit_set_env(out, syntax, vars[i].name, vars[i].value);
		else
			shell_emit_unset_env(out, syntax, vars[i].name);
	}
	strbuf_release(&scratch);
}

/*
 * 1.4.3 prints `"<dir>:$PATH"`; we keep that for simple directories and
 * single-quote the directory otherwise (it then never expands).
 */
static void
emit_path_prepend(struct strbuf *out, enum shell_syntax syntax, const char *dir)
{
	struct strbuf q = STRBUF_INIT;

	if (syntax == SHELL_SYNTAX_FISH) {
		strbuf_addstr(out, "_genv_replace_env PATH ");
		shell_quote(out, syntax, dir);
		strbuf_addstr(out, " $PATH\n");
		return;
	}
	sq_quote_if_needed(&q, dir);
	if (!strcmp(q.buf, dir))
		strbuf_addf(out, "_genv_replace_env PATH \"%s:$PATH\"\n", dir);
	else
		strbuf_addf(out, "_genv_replace_env PATH %s\":$PATH\"\n", q.buf);
	strbuf_release(&q);
}

void
shell_emit_activate(struct strbuf *out, enum shell_syntax syntax,
		    const char *eid, const char *shims_dir, int prompt,
		    const char *state_code)
{
	struct shell_env env = SHELL_ENV_INIT;

	env.eid = eid;
	strbuf_addch(out, '\n');
	shell_emit_set_env(out, syntax, "GENV_SHELL", "1");
	emit_env(out, syntax, &env, SHELL_ENV_ID);
	if (shims_dir)
		emit_path_prepend(out, syntax, shims_dir);
	strbuf_addch(out, '\n');
	if (state_code)
		strbuf_addstr(out, state_code);
	if (syntax == SHELL_SYNTAX_FISH) {
		if (!state_code)
			strbuf_addstr(out, "command genv shell --reconfigure fish | source\n"
					   "command genv shell --reattach fish | source\n");
		strbuf_addch(out, '\n');
		if (prompt)
			strbuf_addstr(out, "_genv_prompt_on\n");
		return;
	}
	if (!state_code)
		strbuf_addstr(out, "eval \"$(command genv shell --reconfigure)\"\n"
				   "eval \"$(command genv shell --reattach)\"\n");
	strbuf_addch(out, '\n');
	if (prompt)
		strbuf_addstr(out, "_genv_replace_env PS1 \"(genv) ${PS1-}\"\n");
}

void
shell_emit_deactivate(struct strbuf *out, enum shell_syntax syntax)
{
	(void)syntax;  /* both init scripts define these two functions */
	strbuf_addstr(out, "\n_genv_unset_envs\n_genv_restore_envs\n\n");
}

void
shell_emit_reattach(struct strbuf *out, enum shell_syntax syntax,
		    const struct shell_env *env)
{
	emit_env(out, syntax, env, SHELL_ENV_DEVICES);
	strbuf_addch(out, '\n');
}

void
shell_emit_reconfigure(struct strbuf *out, enum shell_syntax syntax,
		       const struct shell_env *env)
{
	emit_env(out, syntax, env, SHELL_ENV_CONFIG);
	strbuf_addch(out, '\n');
}

int
shell_shims_dir(struct strbuf *out)
{
	return proc_self_relative("/../libexec/genv/shims", out);
}
