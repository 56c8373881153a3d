/* SPDX-License-Identifier: MIT */
/*
 * fake-ollama.c: a stand-in for ollama in tests (built by `make
 * test-build` as build/t/fake-ollama/ollama; no python or network needed).
 *
 *   ollama serve      listens on $OLLAMA_HOST (host:port, port 0 = any free
 *                     one), says "Listening on HOST:PORT" on stderr like
 *                     ollama, writes its environment to $FAKE_OLLAMA_ENV_LOG
 *                     (when set) and answers every HTTP request with
 *                     "Ollama is running" until killed
 *   ollama run MODEL  connects to $OLLAMA_HOST (default 127.0.0.1:11434),
 *                     asks GET / and prints "MODEL: <answer>"
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

static void split_host(const char *spec, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon;

	if (!strncmp(spec, "http://", 7))
		spec += 7;
	colon = strrchr(spec, ':');
	if (!colon) {
		snprintf(host, hl, "%s", spec);
		snprintf(port, pl, "11434");
		return;
	}
	snprintf(host, hl, "%.*s", (int)(colon - spec), spec);
	snprintf(port, pl, "%s", colon + 1);
}

static int open_socket(const char *host, const char *port, int passive)
{
	struct addrinfo hints = { 0 }, *ai;
	int fd, one = 1;

	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if (getaddrinfo(*host ? host : NULL, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd >= 0 && passive) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
			close(fd);
			fd = -1;
		}
	} else if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void log_environment(void)
{
	const char *path = getenv("FAKE_OLLAMA_ENV_LOG");
	FILE *f;

	if (!path || !(f = fopen(path, "w")))
		return;
	for (char **e = environ; *e; e++)
		fprintf(f, "%s\n", *e);
	fclose(f);
}

static int serve(void)
{
	const char *spec = getenv("OLLAMA_HOST");
	char host[256], port[32], buf[4096];
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd;

	split_host(spec && *spec ? spec : "127.0.0.1:11434", host, sizeof(host), port, sizeof(port));
	fd = open_socket(host, port, 1);
	if (fd < 0) {
		fprintf(stderr, "Error: listen tcp %s:%s: bind: %s\n", host, port, strerror(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&addr, &len);
	log_environment();
	fprintf(stderr, "Listening on %s:%d (version 0.0.0-fake)\n", host, ntohs(addr.sin_port));
	for (;;) {
		static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
					     "Content-Length: 17\r\nConnection: close\r\n\r\n"
					     "Ollama is running";
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (read(c, buf, sizeof(buf)) > 0 && write(c, answer, sizeof(answer) - 1) < 0)
			perror("write");
		close(c);
	}
}

static int run(const char *model)
{
	const char *spec = getenv("OLLAMA_HOST");
	char host[256], port[32], buf[4096];
	static const char request[] = "GET / HTTP/1.0\r\n\r\n";
	const char *body;
	size_t got = 0;
	ssize_t n;
	int fd;

	split_host(spec && *spec ? spec : "127.0.0.1:11434", host, sizeof(host), port, sizeof(port));
	fd = open_socket(host, port, 0);
	if (fd < 0 || write(fd, request, sizeof(request) - 1) < 0) {
		fprintf(stderr, "Error: could not connect to ollama app at %s:%s, is it running?\n",
			host, port);
		return 1;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	body = strstr(buf, "\r\n\r\n");
	printf("%s: %s\n", model, body ? body + 4 : "");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc == 3 && !strcmp(argv[1], "run"))
		return run(argv[2]);
	fprintf(stderr, "usage: ollama serve | ollama run MODEL\n");
	return 2;
}
