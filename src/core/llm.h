/* SPDX-License-Identifier: MIT */
/*
 * llm.h: LLMs served by ollama in environments of their own (reference
 * §12.3): `genv llm serve` runs `ollama serve` in an environment named
 * llm/MODEL/PORT, `genv llm ps` lists them (here and on remote hosts),
 * `genv llm attach` finds the port of a model.
 *
 * No port race: unless a port is given, ollama is started on port 0, so
 * that the kernel gives it a free port as it binds; genv then reads the
 * port ollama listens on from /proc and names the environment after it.
 * (1.4.3 bound a port, closed it and handed the number over, which
 * another process could take in between.)
 */
#ifndef GENV_CORE_LLM_H
#define GENV_CORE_LLM_H

#include "core/state.h"
#include "util/run.h"
#include "util/strbuf.h"

/* One served model: an environment whose name starts with "llm/". */
struct llm_entry {
	const struct env *env;   /* borrowed from the envs it was found in */
	char *model;
	long port;               /* -1 when unknown */
};

struct llm_list {
	struct llm_entry *v;
	size_t nr, alloc;
	struct envs envs;        /* owned when loaded by llm_list_local() */
};
#define LLM_LIST_INIT { NULL, 0, 0, ENVS_INIT }
void llm_list_release(struct llm_list *l);

/*
 * "llm/MODEL/PORT" gives MODEL and PORT; "llm/MODEL" (genv < 1.4.1) gives
 * MODEL and port -1. Returns 0 for names of anything else.
 */
int llm_parse_name(const char *name, struct strbuf *model, long *port);

/*
 * Appends the LLM environments of envs (kept borrowed). With local, a
 * port missing from the name is looked up among the TCP ports the
 * environment's processes listen on.
 */
void llm_list_add(struct llm_list *l, const struct envs *envs, int local);
/* The LLM environments of this machine (envs.json after cleanup, not saved). */
int llm_list_local(struct llm_list *l, struct strbuf *err);
/* The first entry of model that has a port, or NULL. */
const struct llm_entry *llm_find(const struct llm_list *l, const char *model);

struct llm_serve {
	/* Set by the caller: */
	const char *ollama;      /* the program (PATH lookup) */
	const char *model;
	const char *host;        /* OLLAMA_HOST's host part */
	long port;               /* -1: a free one, chosen as ollama binds */
	long gpus;               /* -1: not configured */
	const char *gpu_memory;  /* NULL: not configured */
	long listen_wait_ms;     /* how long to wait for ollama's port */
	/*
	 * Puts the environment's variables (GENV_ENVIRONMENT_ID, the
	 * configuration, CUDA_VISIBLE_DEVICES) into ours for ollama; the
	 * caller knows how (the same way as for `genv exec`).
	 */
	void (*export_env)(const char *eid, const struct env_config *config,
			   const char *indices);

	/* Results: */
	struct strbuf eid;
	struct strbuf name;      /* the environment's name, llm/MODEL/PORT */
	long bound_port;         /* the port ollama listens on; -1 when it did
				    not in time, or ended */
	struct run_fg fg;
};
#define LLM_SERVE_INIT { NULL, NULL, "127.0.0.1", -1, -1, NULL, 30000, NULL, \
			 STRBUF_INIT, STRBUF_INIT, -1, { 0 } }

/*
 * Registers an environment (id: genv's pid) configured with gpus and
 * gpu_memory, attaches its devices, and starts `ollama serve` in it with
 * the environment's variables and OLLAMA_HOST=host:port (genv's value
 * wins over an inherited one); ollama's pid joins the environment. Then
 * waits for ollama to listen and names the environment after the port.
 * On failure nothing stays registered; *exit_code is what to exit with.
 */
int llm_serve_start(struct llm_serve *s, int *exit_code, struct strbuf *err);
/*
 * Waits for ollama (signals to genv are passed on) and releases the
 * environment and its devices. Returns ollama's exit status.
 */
int llm_serve_wait(struct llm_serve *s, struct strbuf *err);
void llm_serve_release(struct llm_serve *s);

#endif
