/* SPDX-License-Identifier: MIT */
/*
 * config.h: the monitoring configuration files genv monitor publishes, as
 * genv 1.4.3 writes them, for a Prometheus and a Grafana next to it:
 *
 *   <root>/prometheus/prometheus.yml                  scrapes localhost:<port>
 *   <root>/grafana/grafana.ini                        anonymous viewer, home dashboard
 *   <root>/grafana/provisioning/datasources/default.yml   Prometheus on :9090
 *   <root>/grafana/provisioning/dashboards/default.yml    the dashboards folder
 *   <root>/grafana/dashboards/overview.json           our "Overview" dashboard
 *
 * (our own dashboard JSON, with the panels of 1.4.3's: genv's file is
 * AGPL-licensed and is not copied).
 */
#ifndef GENV_METRICS_CONFIG_H
#define GENV_METRICS_CONFIG_H

struct strbuf;

/*
 * Writes the files under root (made absolute: Grafana resolves relative
 * paths against its own directory), each atomically. root's parent is
 * created if missing; root and the directories below it must be ours:
 * the default root is inside the world-writable state directory, where
 * another user could plant a symbolic link or a directory of theirs.
 */
int metrics_publish_config(const char *root, unsigned port, struct strbuf *err);

/* The dashboard, and the live page served at / (assets.c). */
extern const char metrics_dashboard_json[];
extern const char metrics_page_html[];

#endif
