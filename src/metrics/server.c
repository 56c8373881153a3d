/* SPDX-License-Identifier: MIT */
/*
 * server.c: the HTTP side of genv monitor on libmicrohttpd (server.h).
 * MHD runs in "external" epoll mode inside our own loop, so that the loop
 * can also enforce a deadline per request, which MHD lacks (its timeout
 * is for inactivity, and a client sending one byte a second is never
 * inactive): connections past their deadline are shut down from the
 * same thread, so no descriptor can be reused under our feet.
 *
 * libmicrohttpd is dlopen()ed by http_server_load(), not linked: it pulls
 * in gnutls and eight more libraries, whose loading would cost every genv
 * command several milliseconds. <microhttpd.h> still gives the types and
 * constants, and each function's type for its pointer.
 */
#include "compat.h"
#include "metrics/server.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define MAX_PER_ADDRESS 256            /* one client cannot take every slot */
#define REQUEST_MEMORY (16 * 1024)   /* request line + headers; beyond: 431 */
#define SWEEP_MS 250

struct conn {
	struct conn *prev, *next;
	int fd;
	double deadline;             /* CLOCK_MONOTONIC seconds */
	int cut;
};

struct server {
	const struct http_server_opts *o;
	struct conn list;            /* sentinel of a circular list */
};

/* ---- loading libmicrohttpd ---- */

#define MHD_LIBRARY "libmicrohttpd.so.12"   /* Debian 12's soname */

/* every MHD function we call, each through a pointer p_<name> */
#define MHD_FUNCTIONS(X) \
	X(MHD_start_daemon) \
	X(MHD_stop_daemon) \
	X(MHD_run) \
	X(MHD_get_timeout) \
	X(MHD_get_daemon_info) \
	X(MHD_get_connection_info) \
	X(MHD_create_response_from_buffer_with_free_callback) \
	X(MHD_add_response_header) \
	X(MHD_queue_response) \
	X(MHD_destroy_response)

#define MHD_POINTER(name) static __typeof__(name) *p_##name;
MHD_FUNCTIONS(MHD_POINTER)

static const struct mhd_sym {
	void **slot;
	const char *name;
} mhd_syms[] = {
#define MHD_SYM(name) { (void **)&p_##name, #name },
	MHD_FUNCTIONS(MHD_SYM)
};

static void *mhd_lib;

/* dlopens the library; the message names the one that was looked for. */
static const char *
open_mhd(struct strbuf *err)
{
	/* a test's override; never from the environment of a setgid genv */
	const char *path = secure_getenv("GENV_MHD_LIBRARY");
	const char *name = path && *path ? path : MHD_LIBRARY;
	struct strbuf why = STRBUF_INIT;

	/* an override must not wander through the library search path */
	if (name == path && *path != '/') {
		strbuf_addf(err, "GENV_MHD_LIBRARY must be an absolute path, not '%s'", path);
		return NULL;
	}
	if ((mhd_lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
		return name;
	/* keep the error of the name the package installs */
	strbuf_addstr(&why, dlerror());
	if (name != path && (mhd_lib = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL))) {
		strbuf_release(&why);
		return "libmicrohttpd.so";
	}
	strbuf_addf(err, "needs libmicrohttpd: %s could not be loaded (%s); "
		    "apt-get install libmicrohttpd12", name, why.buf);
	strbuf_release(&why);
	return NULL;
}

int
http_server_load(struct strbuf *err)
{
	const char *name;

	if (mhd_lib)
		return 0;
	if (!(name = open_mhd(err)))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(mhd_syms); i++) {
		*mhd_syms[i].slot = dlsym(mhd_lib, mhd_syms[i].name);
		if (!*mhd_syms[i].slot) {
			strbuf_addf(err, "the libmicrohttpd library %s lacks the function '%s'",
				    name, mhd_syms[i].name);
			http_server_unload();
			return -1;
		}
	}
	return 0;
}

void
http_server_unload(void)
{
	if (mhd_lib)
		dlclose(mhd_lib);
	mhd_lib = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(mhd_syms); i++)
		*mhd_syms[i].slot = NULL;
}

/* ---- listening ---- */

int
http_listen(const char *addr, unsigned port, int *fd, unsigned *bound_port, struct strbuf *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int s, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (!addr || !*addr)
		addr = "0.0.0.0";
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else {
		strbuf_addf(err, "cannot listen on '%s': not an IPv4 or IPv6 address", addr);
		return -1;
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 128) < 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) < 0) {
		int saved = errno;

		strbuf_addf(err, strchr(addr, ':') ? "cannot listen on [%s]:%u" : "cannot listen on %s:%u",
			    addr, port);
		strbuf_add_errno(err, saved);
		if (s >= 0)
			close(s);
		return -1;
	}
	*fd = s;
	*bound_port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
	return 0;
}

/* ---- requests ---- */

static enum MHD_Result
queue_reply(struct MHD_Connection *c, struct http_reply *r)
{
	size_t len;
	char *body = strbuf_detach(&r->body, &len);
	struct MHD_Response *resp =
		p_MHD_create_response_from_buffer_with_free_callback(len, body, free);
	enum MHD_Result ret;

	if (!resp) {
		free(body);
		strvec_clear(&r->headers);
		return MHD_NO;
	}
	p_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	for (size_t i = 0; i + 1 < r->headers.nr; i += 2)
		p_MHD_add_response_header(resp, r->headers.v[i], r->headers.v[i + 1]);
	ret = p_MHD_queue_response(c, r->status, resp);
	p_MHD_destroy_response(resp);
	strvec_clear(&r->headers);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size,
	   void **req_cls)
{
	static int headers_seen;
	const struct server *srv = cls;
	struct http_reply r = { 200, "text/plain; charset=utf-8", STRBUF_INIT, STRVEC_INIT };

	(void)version;
	(void)upload_data;
	/*
	 * The first call only announces the request: MHD closes a
	 * connection whose reply is queued then, so answer on the next.
	 */
	if (!*req_cls) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {   /* a body (GET/HEAD have none): not read */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		r.status = MHD_HTTP_METHOD_NOT_ALLOWED;
		strbuf_addstr(&r.body, "method not allowed\n");
		strvec_push(&r.headers, MHD_HTTP_HEADER_ALLOW);
		strvec_push(&r.headers, "GET, HEAD");
	} else {
		srv->o->handler(url, &r, srv->o->data);
	}
	return queue_reply(c, &r);
}

/* ---- connections and their deadlines ---- */

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode code)
{
	struct server *srv = cls;
	struct conn *k = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			p_MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		k = xcalloc(1, sizeof(*k));
		k->fd = info ? info->connect_fd : -1;
		k->deadline = clock_monotonic_seconds() + srv->o->timeout;
		k->next = srv->list.next;
		k->prev = &srv->list;
		srv->list.next->prev = k;
		srv->list.next = k;
		*socket_context = k;
	} else if (k) {
		k->prev->next = k->next;
		k->next->prev = k->prev;
		free(k);
		*socket_context = NULL;
	}
}

/* A reply went out: the next request on this connection gets a new deadline. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
	     enum MHD_RequestTerminationCode code)
{
	const struct server *srv = cls;
	const union MHD_ConnectionInfo *info =
		p_MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = info ? info->socket_context : NULL;

	(void)req_cls;
	(void)code;
	if (k)
		k->deadline = clock_monotonic_seconds() + srv->o->timeout;
}

/* Shut down (MHD then sees the end and closes) what ran out of time. */
static void
sweep(struct server *srv)
{
	double now = clock_monotonic_seconds();

	for (struct conn *k = srv->list.next; k != &srv->list; k = k->next)
		if (!k->cut && k->fd >= 0 && now >= k->deadline) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = 1;
		}
}

/* Room for MAX_CONNECTIONS clients, within the descriptors we may open. */
static unsigned
connection_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 200;
	if (rl.rlim_cur < MAX_CONNECTIONS + 64 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < MAX_CONNECTIONS + 64 ? rl.rlim_max : MAX_CONNECTIONS + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= MAX_CONNECTIONS + 64)
		return MAX_CONNECTIONS;
	return rl.rlim_cur > 96 ? (unsigned)rl.rlim_cur - 64 : 32;
}

static int
event_loop(struct server *srv, struct MHD_Daemon *d, struct strbuf *err)
{
	const union MHD_DaemonInfo *info = p_MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd p[2] = { { info ? info->epoll_fd : -1, POLLIN, 0 },
			       { srv->o->stop_fd, POLLIN, 0 } };

	for (;;) {
		MHD_UNSIGNED_LONG_LONG mhd_ms;
		int timeout = SWEEP_MS;

		if (p_MHD_get_timeout(d, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mhd_ms;
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			strbuf_addstr(err, "the HTTP server's event loop failed");
			strbuf_add_errno(err, errno);
			return -1;
		}
		if (p[1].revents)
			return 0;
		if (p_MHD_run(d) != MHD_YES) {
			strbuf_addstr(err, "the HTTP server's event loop failed (libmicrohttpd)");
			return -1;
		}
		sweep(srv);
	}
}

int
http_serve(const struct http_server_opts *o, struct strbuf *err)
{
	struct server srv = { o, { NULL, NULL, -1, 0, 0 } };
	struct MHD_Daemon *d;
	int rc;

	srv.list.next = srv.list.prev = &srv.list;
	d = p_MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, &srv,
			     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)o->listen_fd,
			     MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_ADDRESS,
			     MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, &srv,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
			     MHD_OPTION_END);
	if (!d) {
		strbuf_addstr(err, "cannot start the HTTP server (libmicrohttpd)");
		close(o->listen_fd);
		return -1;
	}
	rc = event_loop(&srv, d, err);
	p_MHD_stop_daemon(d);   /* closes every connection and the listening socket */
	while (srv.list.next != &srv.list) {
		struct conn *k = srv.list.next;

		srv.list.next = k->next;
		free(k);
	}
	return rc;
}
