/* SPDX-License-Identifier: MIT */
/*
 * doctor.c: the checks of `genv doctor` (doctor.h). Each one only looks:
 * nothing is created or changed (the state directory is located, not
 * made).
 */
#include "compat.h"
#include "core/doctor.h"
#include "core/slurm.h"
#include "core/store.h"
#include "gpu/gpu.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

static void
add(struct doctor *d, enum doctor_level level, const char *check,
    const char *detail, const char *fix)
{
	struct doctor_finding *f;

	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	f = &d->v[d->nr++];
	f->level = level;
	f->check = xstrdup(check);
	f->detail = xstrdup(detail);
	f->fix = xstrdup_or_null(fix);
}

static void
check_gpus(struct doctor *d)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;

	if (gpu_open(&err) < 0) {
		add(d, DOCTOR_FAIL, "nvml", err.buf,
		    "install the NVIDIA driver (libnvidia-ml.so.1), or set GENV_NVML_LIBRARY "
		    "to its absolute path");
		goto out;
	}
	strbuf_addstr(&sb, "NVML loaded, driver ");
	if (gpu_driver_version(&sb, &err) < 0)
		strbuf_addstr(&sb, "version unknown");
	add(d, DOCTOR_OK, "nvml", sb.buf, NULL);
	strbuf_reset(&err);
	strbuf_reset(&sb);
	if (gpu_list_devices(&devs, &err) < 0) {
		add(d, DOCTOR_FAIL, "devices", err.buf,
		    "check the GPUs with nvidia-smi; a lost GPU needs a reset or a reboot");
	} else if (!devs.nr) {
		add(d, DOCTOR_WARN, "devices", "no GPU seen",
		    "check nvidia-smi and, in a container, that the GPUs are passed in");
	} else {
		strbuf_addf(&sb, "%zu GPU%s:", devs.nr, devs.nr == 1 ? "" : "s");
		for (size_t i = 0; i < devs.nr; i++)
			strbuf_addf(&sb, "%s %u %s", i ? "," : "", devs.v[i].index, devs.v[i].name);
		add(d, DOCTOR_OK, "devices", sb.buf, NULL);
	}
out:
	gpu_devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

/* "mode 0777, owner root, shared (...)" or the protected mode's group. */
static void
describe_dir(struct strbuf *sb, const struct stat *st, int protected)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);

	strbuf_addf(sb, ": mode %04o, owner %s, ", (unsigned)(st->st_mode & 07777),
		    pw ? pw->pw_name : "?");
	if (protected)
		strbuf_addf(sb, "protected (group %s: only genv changes it)", gr ? gr->gr_name : "?");
	else if (st->st_mode & S_IWOTH)
		strbuf_addstr(sb, "shared (every user writes it)");
	else
		strbuf_addstr(sb, "not world-writable");
}

static void
check_state(struct doctor *d)
{
	struct store s = STORE_INIT;
	struct strbuf sb = STRBUF_INIT, fix = STRBUF_INIT;
	int protected = store_locate(&s, &sb);
	struct stat st;

	if (protected < 0) {
		add(d, DOCTOR_FAIL, "state", sb.buf,
		    "unset GENV_TMPDIR/GENV_NVML_LIBRARY to use the protected state, "
		    "or have root repair the install (doc/security.md)");
		goto out;
	}
	strbuf_addbuf(&sb, &s.dir);
	if (stat(s.dir.buf, &st) < 0) {
		strbuf_addstr(&sb, " does not exist yet (genv creates it at its first command)");
		add(d, DOCTOR_OK, "state", sb.buf, NULL);
		goto out;
	}
	describe_dir(&sb, &st, protected);
	if (!S_ISDIR(st.st_mode)) {
		add(d, DOCTOR_FAIL, "state", sb.buf, "it is not a directory: move it away");
	} else if (!protected && access(s.dir.buf, W_OK | X_OK) < 0) {
		strbuf_addf(&fix, "you cannot write it: ask root to 'chmod 1777 %s' "
			    "(or set GENV_TMPDIR for a private one)", s.dir.buf);
		add(d, DOCTOR_FAIL, "state", sb.buf, fix.buf);
	} else {
		add(d, DOCTOR_OK, "state", sb.buf, NULL);
	}
out:
	store_release(&s);
	strbuf_release(&sb);
	strbuf_release(&fix);
}

/* Job mode (slurm.h), only inside a Slurm job: the job, its GPUs, its state. */
static void
check_slurm(struct doctor *d)
{
	struct store s = STORE_INIT;
	struct strbuf sb = STRBUF_INIT, dir = STRBUF_INIT;
	const struct slurm_job *job;
	struct stat st;
	int failed;

	if (!slurm_in_job())
		return;
	/* where the job's GPUs may be kept, before asking for them */
	if (store_locate(&s, &dir) >= 0 && slurm_job_id(&dir)) {
		strbuf_reset(&dir);
		slurm_job_dir(s.dir.buf, slurm_job_id(&dir), &dir);
		slurm_set_job_dir(dir.buf, store_file_mode());
	}
	strbuf_reset(&dir);
	job = slurm_job(&failed, &sb);
	if (!job) {
		add(d, DOCTOR_FAIL, "slurm", sb.buf,
		    "run genv in a step of the job (srun), where Slurm names the job's GPUs");
		goto out;
	}
	strbuf_addf(&sb, "job mode, job %s: ", job->id);
	if (!job->gpus_nr)
		strbuf_addstr(&sb, "no GPUs");
	for (size_t i = 0; i < job->gpus_nr; i++)
		strbuf_addf(&sb, "%snode GPU %ld", i ? ", " : "", job->gpus[i]);
	strbuf_addf(&sb, " (from %s)", job->source);
	slurm_describe_step(job, &sb);
	strbuf_addstr(&sb, "; state ");
	if (store_locate(&s, &dir) >= 0) {
		strbuf_reset(&dir);
		slurm_job_dir(s.dir.buf, job->id, &dir);
		strbuf_addbuf(&sb, &dir);
		if (stat(dir.buf, &st) < 0)
			strbuf_addstr(&sb, " (not made yet: the job's first command or the prolog makes it)");
	}
	add(d, DOCTOR_OK, "slurm", sb.buf, NULL);
out:
	store_release(&s);
	strbuf_release(&sb);
	strbuf_release(&dir);
}

/* Whether path is a genv snippet, or a startup file that runs genv's. */
static int
has_integration(const char *path)
{
	struct strbuf text = STRBUF_INIT, ignored = STRBUF_INIT;
	const char *base = strrchr(path, '/');
	int found;

	if (access(path, R_OK) < 0)
		return 0;
	if (strstr(base ? base + 1 : path, "genv"))
		return 1;
	/* genv's own line, or the line `make install` adds to load its snippet */
	found = !read_file_sb(&text, path, &ignored) &&
		(strstr(text.buf, "genv shell --init") || strstr(text.buf, "/genv.sh"));
	strbuf_release(&text);
	strbuf_release(&ignored);
	return !!found;
}

/* Where each shell reads startup code ("~/" = the home directory). */
static const struct shell_files {
	const char *shell;
	const char *files[9];
} shell_files[] = {
	{ "bash", { "/etc/profile.d/genv.sh", "/etc/bash.bashrc", "/etc/bashrc",
		    "/etc/profile", "~/.bashrc", "~/.bash_profile", "~/.profile" } },
	{ "zsh", { "/etc/zsh/zshrc.d/genv.zsh", "/etc/zsh/zshrc", "/etc/zsh/zshenv",
		   "/etc/zshrc", "/etc/zshenv", "~/.zshrc", "~/.zshenv" } },
	{ "fish", { "/usr/share/fish/vendor_conf.d/genv.fish", "/etc/fish/conf.d/genv.fish",
		    "~/.config/fish/conf.d/genv.fish", "~/.config/fish/config.fish" } },
};

static void
check_shell(struct doctor *d, const char *shell, const char *home)
{
	const char *name = shell && strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	const struct shell_files *sf = NULL;

	for (size_t i = 0; name && i < ARRAY_SIZE(shell_files); i++)
		if (!strcmp(name, shell_files[i].shell))
			sf = &shell_files[i];
	if (!sf) {
		strbuf_addf(&sb, "shell '%s' has no genv integration (bash, zsh, fish)",
			    name ? name : "");
		add(d, DOCTOR_WARN, "shell", sb.buf,
		    "use bash, zsh or fish for 'genv activate'; 'genv exec' works anywhere");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sf->files) && sf->files[i]; i++) {
		const char *rest;

		strbuf_reset(&path);
		if (skip_prefix(sf->files[i], "~/", &rest)) {
			if (!home)
				continue;
			strbuf_addf(&path, "%s/%s", home, rest);
		} else {
			strbuf_addstr(&path, sf->files[i]);
		}
		if (has_integration(path.buf)) {
			strbuf_addf(&sb, "%s: integration in %s", sf->shell, path.buf);
			add(d, DOCTOR_OK, "shell", sb.buf, NULL);
			goto out;
		}
	}
	strbuf_addf(&sb, "%s: no genv integration in its startup files", sf->shell);
	strbuf_reset(&path);
	if (!strcmp(sf->shell, "fish"))
		strbuf_addstr(&path, "install the package (it ships the snippets), or add "
			      "'genv shell --init fish | source' to ~/.config/fish/config.fish");
	else
		strbuf_addf(&path, "install the package (it ships the snippets), or add "
			    "'eval \"$(genv shell --init)\"' to ~/.%src", sf->shell);
	add(d, DOCTOR_WARN, "shell", sb.buf, path.buf);
out:
	strbuf_release(&path);
	strbuf_release(&sb);
}

/* A running `genv enforce`: its pid (and *uid), or 0. */
static long
find_enforcer(long long *uid)
{
	DIR *dir = opendir("/proc");
	struct strvec argv = STRVEC_INIT;
	struct dirent *de;
	long found = 0;

	while (dir && !found && (de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		const char *base;

		if (*end || pid <= 0)
			continue;
		strvec_clear(&argv);
		if (proc_cmdline(pid, &argv) < 0 || argv.nr < 2)
			continue;
		base = strrchr(argv.v[0], '/');
		base = base ? base + 1 : argv.v[0];
		if (!strcmp(base, "genv") && !strcmp(argv.v[1], "enforce") &&
		    !proc_real_uid(pid, uid))
			found = pid;
	}
	if (dir)
		closedir(dir);
	strvec_clear(&argv);
	return found;
}

static void
check_enforcer(struct doctor *d)
{
	struct strbuf sb = STRBUF_INIT;
	long long uid = -1;
	long pid = find_enforcer(&uid);

	if (!pid) {
		add(d, DOCTOR_WARN, "enforce", "no 'genv enforce' is running",
		    "run it as a service: systemctl enable --now genv-enforce "
		    "(contrib/genv-enforce.service), or 'sudo genv enforce'");
	} else if (uid != 0) {
		strbuf_addf(&sb, "'genv enforce' runs (pid %ld) as uid %lld, not root", pid, uid);
		add(d, DOCTOR_WARN, "enforce", sb.buf,
		    "run it as root: others' processes are invisible to it otherwise");
	} else {
		strbuf_addf(&sb, "'genv enforce' runs (pid %ld) as root", pid);
		add(d, DOCTOR_OK, "enforce", sb.buf, NULL);
	}
	strbuf_release(&sb);
}

int
doctor_run(struct doctor *d, const char *shell, const char *home)
{
	int failed = 0;

	check_gpus(d);
	check_state(d);
	check_slurm(d);
	check_shell(d, shell, home);
	check_enforcer(d);
	for (size_t i = 0; i < d->nr; i++)
		failed += d->v[i].level == DOCTOR_FAIL;
	return failed;
}

void
doctor_release(struct doctor *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		free(d->v[i].check);
		free(d->v[i].detail);
		free(d->v[i].fix);
	}
	free(d->v);
	d->v = NULL;
	d->nr = d->alloc = 0;
}

const char *
doctor_level_name(enum doctor_level level)
{
	return level == DOCTOR_OK ? "ok" : level == DOCTOR_WARN ? "warn" : "FAIL";
}
