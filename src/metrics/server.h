/* SPDX-License-Identifier: MIT */
/*
 * server.h: a small HTTP server on libmicrohttpd for genv monitor. One
 * thread runs an event loop (epoll) over every connection, so a slow or
 * idle client costs a descriptor, never a thread or another client's
 * time. Replies are computed by a callback from memory; the server adds
 * the protections: GET and HEAD only (405), a bounded request size (431
 * for huge headers), connection limits (1024 in all, 256 from one
 * address), and a deadline per request (a client that dribbles its
 * request a byte at a time is cut off).
 *
 * libmicrohttpd is loaded at run time (http_server_load), so that genv's
 * other commands do not pay for loading it and the TLS stack it needs.
 */
#ifndef GENV_METRICS_SERVER_H
#define GENV_METRICS_SERVER_H

#include "util/strbuf.h"
#include "util/strvec.h"

struct http_reply {
	unsigned status;             /* 200 unless the handler says otherwise */
	const char *content_type;    /* a constant */
	struct strbuf body;
	struct strvec headers;       /* more response headers: name, value, name, ... */
};

/* Fills reply for GET (or HEAD) of path (without the query string). */
typedef void (*http_handler_fn)(const char *path, struct http_reply *reply, void *data);

struct http_server_opts {
	int listen_fd;               /* from http_listen() */
	int stop_fd;                 /* the loop ends when this becomes readable */
	unsigned timeout;            /* seconds for a whole request, and idle keep-alive */
	http_handler_fn handler;
	void *data;
};

/*
 * Loads libmicrohttpd (libmicrohttpd.so.12, else libmicrohttpd.so; or the
 * absolute path in $GENV_MHD_LIBRARY, ignored when genv runs setgid), once:
 * before http_serve(). Returns -1 with err, one line, when it cannot:
 *   "needs libmicrohttpd: <name> could not be loaded (<dlerror>); apt-get install libmicrohttpd12"
 */
int http_server_load(struct strbuf *err);

/* Unloads it; only once no server runs. */
void http_server_unload(void);

/*
 * Opens a listening TCP socket on addr (an IPv4 or IPv6 literal; NULL or
 * "" for every IPv4 interface, 0.0.0.0) and port (0 for any free one).
 * On success *fd is the socket and *bound_port the port it got.
 */
int http_listen(const char *addr, unsigned port, int *fd, unsigned *bound_port,
		struct strbuf *err);

/*
 * Serves (http_server_load() has succeeded) on opts->listen_fd until opts->stop_fd is readable. Returns 0, or
 * -1 when the server cannot start or its event loop fails. The listening
 * socket is closed on return.
 */
int http_serve(const struct http_server_opts *opts, struct strbuf *err);

#endif
