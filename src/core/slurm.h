/* SPDX-License-Identifier: MIT */
/*
 * slurm.h: job mode. Inside a Slurm job (SLURM_JOB_ID set) genv manages
 * only the job's GPUs and keeps its state in a directory of the job's own,
 * <state dir>/slurm/job-<id>, so that jobs sharing a node never see each
 * other's environments (README, "genv in a Slurm cluster").
 *
 * The job's GPUs are what Slurm says, as global indices (the node's GPU
 * order, which is NVML's): SLURM_JOB_GPUS (batch shell, interactive step,
 * steps of a batch job), else SLURM_STEP_GPUS (srun), else, where a
 * context has neither (the command salloc runs), `scontrol show job -d`.
 * CUDA_VISIBLE_DEVICES is not used to find them: with ConstrainDevices
 * Slurm renumbers it from 0, and inside a genv environment it is genv's.
 * Environments get the GPUs' UUIDs in CUDA_VISIBLE_DEVICES, which are
 * right inside the job whether Slurm renumbered or not.
 */
#ifndef GENV_CORE_SLURM_H
#define GENV_CORE_SLURM_H

#include "util/strbuf.h"

#include <stddef.h>

struct slurm_job {
	const char *id;      /* SLURM_JOB_ID, NULL outside a job */
	long *gpus;          /* the job's GPUs, global indices, ascending */
	size_t gpus_nr;
	const char *source;  /* where they came from: "SLURM_JOB_GPUS", ... */
};

/*
 * The job this process runs in, decided once per process: NULL outside a
 * job. A job whose GPUs cannot be known is an error (NULL with err set,
 * *failed = 1), never "all the node's GPUs".
 */
const struct slurm_job *slurm_job(int *failed, struct strbuf *err);

/* Whether SLURM_JOB_ID is set (no GPU lookup). */
int slurm_in_job(void);

/*
 * Parses Slurm's index lists: "0,1", "0-2,5" (SLURM_*_GPUS) or the IDX
 * part of scontrol's "gpu:2(IDX:0-1)". Returns 0 or -1 (err).
 */
int slurm_parse_indices(const char *s, size_t len, long **v, size_t *nr,
			struct strbuf *err);

/*
 * Where the job's state lives under the state directory base:
 * "<base>/slurm/job-<id>", appended to out.
 */
void slurm_job_dir(const char *base, const char *id, struct strbuf *out);

/*
 * The cold path, when the job's directory is first made: removes the
 * directories of jobs Slurm no longer knows (`squeue`), the ones a
 * crashed node or a missing epilog left behind. Best effort. squeue runs
 * without the group privilege; the removal has it (protect.h).
 */
void slurm_sweep_jobs(const char *base);

#endif
