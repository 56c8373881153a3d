/* SPDX-License-Identifier: MIT */
/*
 * assets.c: files compiled into genv (config.h): the live page and the
 * Grafana dashboard, turned into C string literals by the Makefile
 * ($(BUILD)/gen/metrics/<file>.inc) so that they stay editable as what
 * they are and the monitor needs nothing installed next to it.
 */
#include "compat.h"
#include "metrics/config.h"

const char metrics_page_html[] =
#include "metrics/page.html.inc"
	;

const char metrics_dashboard_json[] =
#include "metrics/dashboard.json.inc"
	;
