/* SPDX-License-Identifier: MIT */
/*
 * config.c: publishes the Prometheus and Grafana configuration files for
 * genv monitor (config.h). Directories are walked with openat() from the
 * root down, each one checked to be ours, so that nothing another user
 * can write to is ever followed.
 */
#include "compat.h"
#include "metrics/config.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <unistd.h>

/* Root appears unquoted in YAML and INI files: keep it to plain path characters. */
static int
check_root(const char *root, struct strbuf *err)
{
	for (const unsigned char *p = (const unsigned char *)root; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("\"'#:\\`", *p)) {
			strbuf_addf(err, "the monitoring config directory '%s' must not contain "
				    "control characters, quotes, '#', ':' or '\\'", root);
			return -1;
		}
	return 0;
}

static void
absolute_root(const char *root, struct strbuf *out)
{
	if (*root != '/') {
		char *cwd = getcwd(NULL, 0);

		strbuf_addf(out, "%s/", cwd ? cwd : ".");
		free(cwd);
	}
	strbuf_addstr(out, root);
	while (out->len > 1 && out->buf[out->len - 1] == '/')
		strbuf_setlen(out, out->len - 1);
}

/* Opens root itself: its parent may be created; root must be ours. */
static int
open_root(const char *root, struct strbuf *err)
{
	struct strbuf parent = STRBUF_INIT;
	const char *last = strrchr(root, '/') + 1;
	int pfd, fd = -1;

	strbuf_add(&parent, root, (size_t)(last - root));
	if (parent.len > 1)
		strbuf_setlen(&parent, parent.len - 1);
	if (!*last) {
		strbuf_addf(err, "cannot use '%s' as the monitoring config directory", root);
	} else if (!mkdir_p(parent.buf, 0755, err)) {
		pfd = open(parent.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			strbuf_addf(err, "cannot open directory '%s'", parent.buf);
			strbuf_add_errno(err, errno);
		} else {
			fd = open_private_dir_at(pfd, last, root, err);
			close(pfd);
		}
	}
	strbuf_release(&parent);
	return fd;
}

/* Writes root/dir/file, opening (creating) each directory of dir below root. */
static int
publish(int rootfd, const char *root, const char *dir, const char *file,
	const struct strbuf *text, struct strbuf *err)
{
	struct strbuf shown = STRBUF_INIT, name = STRBUF_INIT;
	int fd = dup(rootfd), rc = -1;

	strbuf_addstr(&shown, root);
	for (const char *p = dir; fd >= 0 && *p;) {
		size_t n = strcspn(p, "/");
		int sub;

		strbuf_reset(&name);
		strbuf_add(&name, p, n);
		strbuf_addf(&shown, "/%s", name.buf);
		sub = open_private_dir_at(fd, name.buf, shown.buf, err);
		close(fd);
		fd = sub;
		p += n + (p[n] == '/');
	}
	if (fd >= 0) {
		rc = write_file_atomic_at(fd, file, text->buf, text->len, 0644, err);
		if (rc < 0)
			strbuf_addf(err, " (in '%s')", shown.buf);
		close(fd);
	}
	strbuf_release(&shown);
	strbuf_release(&name);
	return rc;
}

int
metrics_publish_config(const char *root_arg, unsigned port, struct strbuf *err)
{
	struct strbuf root = STRBUF_INIT, text = STRBUF_INIT;
	int fd, rc = -1;

	absolute_root(root_arg, &root);
	if (check_root(root.buf, err) < 0 || (fd = open_root(root.buf, err)) < 0)
		goto out;

	strbuf_addf(&text, "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\n"
		    "scrape_configs:\n- job_name: genv\n  static_configs:\n"
		    "    - targets: ['localhost:%u']\n", port);
	if (publish(fd, root.buf, "prometheus", "prometheus.yml", &text, err) < 0)
		goto close;
	strbuf_reset(&text);
	strbuf_addf(&text, "[auth.anonymous]\nenabled = true\norg_name = Main Org.\norg_role = Viewer\n\n"
		    "[paths]\nprovisioning = %s/grafana/provisioning\n\n"
		    "[dashboards]\ndefault_home_dashboard_path=%s/grafana/dashboards/overview.json\n",
		    root.buf, root.buf);
	if (publish(fd, root.buf, "grafana", "grafana.ini", &text, err) < 0)
		goto close;
	strbuf_reset(&text);
	strbuf_addstr(&text, "apiVersion: 1\ndatasources:\n  - name: Prometheus\n"
		      "    url: http://localhost:9090\n    type: prometheus\n"
		      "    isDefault: true\n    access: proxy\n");
	if (publish(fd, root.buf, "grafana/provisioning/datasources", "default.yml", &text, err) < 0)
		goto close;
	strbuf_reset(&text);
	strbuf_addf(&text, "apiVersion: 1\nproviders:\n  - name: Genv\n    folder: Genv\n"
		    "    type: file\n    options:\n      path: %s/grafana/dashboards\n", root.buf);
	if (publish(fd, root.buf, "grafana/provisioning/dashboards", "default.yml", &text, err) < 0)
		goto close;
	strbuf_reset(&text);
	strbuf_addstr(&text, metrics_dashboard_json);
	if (publish(fd, root.buf, "grafana/dashboards", "overview.json", &text, err) < 0)
		goto close;
	rc = 0;
close:
	close(fd);
out:
	strbuf_release(&root);
	strbuf_release(&text);
	return rc;
}
