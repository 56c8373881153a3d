/* SPDX-License-Identifier: MIT */
/*
 * slurm.h: job mode. Inside a Slurm job (SLURM_JOB_ID set) genv manages
 * only the job's GPUs and keeps its state in a directory of the job's own,
 * <state dir>/slurm/job-<id>, so that jobs sharing a node never see each
 * other's environments (README, "genv in a Slurm cluster").
 *
 * The job's GPUs are what Slurm says, as global indices (N of the node's
 * /dev/nvidiaN, NVML's minor number; slurm_keep_job_gpus()): SLURM_JOB_GPUS (batch shell, interactive step,
 * steps of a batch job), else, where a context does not have it (the
 * command salloc runs, the steps of salloc, whose SLURM_STEP_GPUS are only
 * the step's), `scontrol show job -d`, once per job: the answer is kept in
 * the job's state directory (job.gpus) for its later commands. When
 * scontrol cannot answer, a step's own GPUs stand for the job's.
 *
 * The state is the job's, shared by its steps, so its devices are always
 * all the job's GPUs; a step with fewer GPUs than its job (srun --gres=gpu:1
 * in a 2-GPU job: SLURM_STEP_GPUS) attaches only its own, the only ones it
 * can open under ConstrainDevices.
 * CUDA_VISIBLE_DEVICES is not used to find them: with ConstrainDevices
 * Slurm renumbers it from 0, and inside a genv environment it is genv's.
 * Environments get the GPUs' UUIDs in CUDA_VISIBLE_DEVICES, which are
 * right inside the job whether Slurm renumbered or not.
 */
#ifndef GENV_CORE_SLURM_H
#define GENV_CORE_SLURM_H

#include "gpu/gpu.h"
#include "util/strbuf.h"

#include <limits.h>
#include <stddef.h>

struct slurm_job {
	const char *id;      /* SLURM_JOB_ID, NULL outside a job */
	long *gpus;          /* the job's GPUs, global indices, ascending */
	size_t gpus_nr;
	const char *source;  /* where they came from: "SLURM_JOB_GPUS", ... */
	long *step_gpus;     /* the GPUs this step may use (SLURM_STEP_GPUS), */
	size_t step_gpus_nr; /*   ascending; the job's outside a step */
	long *step_pos;      /* their positions among the job's (its state's indices) */
};

/*
 * The job this process runs in, decided once per process: NULL outside a
 * job. A job whose GPUs cannot be known is an error (NULL with err set,
 * *failed = 1), never "all the node's GPUs".
 */
const struct slurm_job *slurm_job(int *failed, struct strbuf *err);

/*
 * Keeps of the GPUs NVML shows (gpus, NVML order) only the job's, in the
 * job's order, so that positions 0.. are the job's devices. When NVML
 * gives every device's minor number, the job's node GPU N is the one at
 * /dev/nvidiaN (Slurm's gres.conf names them so), whatever NVML's index:
 * inside a devices cgroup (ConstrainDevices) the driver shows only the
 * job's GPUs, numbered from 0. Without minor numbers, by NVML index,
 * unless NVML shows exactly as many GPUs as the job has. A job's GPU that
 * this step may not use (a step with fewer GPUs than its job, under
 * ConstrainDevices) need not be shown: it is kept as a placeholder, index
 * SLURM_GPU_HIDDEN, its minor number, no UUID nor name (the job's state
 * knows it from commands that saw it). Returns 0, or -1 (err) when
 * another GPU of the job is not among NVML's.
 */
#define SLURM_GPU_HIDDEN UINT_MAX
int slurm_keep_job_gpus(const struct slurm_job *job, struct gpu_devices *gpus,
			struct strbuf *err);

/* Whether SLURM_JOB_ID is set (no GPU lookup). */
int slurm_in_job(void);

/* SLURM_JOB_ID when it is a job id, else NULL with err. */
const char *slurm_job_id(struct strbuf *err);

/*
 * Where the job's state directory is, to keep the job's GPU list learnt
 * from scontrol (file_mode: the state's); set before slurm_job() decides.
 * Without it, scontrol answers every process that needs it.
 */
void slurm_set_job_dir(const char *dir, unsigned file_mode);

/*
 * When this step has fewer GPUs than its job, appends "; this step: node
 * GPU 1 only (SLURM_STEP_GPUS)" to out; else nothing.
 */
void slurm_describe_step(const struct slurm_job *job, struct strbuf *out);

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
