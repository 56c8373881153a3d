/* SPDX-License-Identifier: MIT */
/*
 * test-llm.c: LLM environment names (llm/MODEL/PORT, 1.4.1's llm/MODEL),
 * the list genv llm ps prints, and finding the port a process listens on.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/envs.h"
#include "core/llm.h"
#include "util/proc.h"
#include "util/strbuf.h"

static void
names(void **state UNUSED)
{
	static const struct {
		const char *name, *model;
		long port;
	} ok[] = {
		{ "llm/llama2/33123", "llama2", 33123 },
		{ "llm/llama2", "llama2", -1 },
		{ "llm/mistral:7b/8080", "mistral:7b", 8080 },
		{ "llm/llama2/x", "llama2", -1 },
		{ "llm/llama2/123456", "llama2", -1 },
		{ "llm/llama2/", "llama2", -1 },
	};
	static const char *const not_llm[] = { NULL, "", "llm", "llm/", "llm//1", "my-llm/x/1",
					       "LLM/x/1" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct strbuf model = STRBUF_INIT;
		long port = 7;

		assert_int_equal(llm_parse_name(ok[i].name, &model, &port), 1);
		assert_string_equal(model.buf, ok[i].model);
		assert_int_equal(port, ok[i].port);
		strbuf_release(&model);
	}
	for (size_t i = 0; i < ARRAY_SIZE(not_llm); i++) {
		struct strbuf model = STRBUF_INIT;
		long port;

		assert_int_equal(llm_parse_name(not_llm[i], &model, &port), 0);
		strbuf_release(&model);
	}
}

static void
list_and_find(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct llm_list l = LLM_LIST_INIT;
	struct env *e;

	e = envs_activate(&envs, "1", 0, "root", 0, NULL);
	e->config.name = strdup("llm/llama2");
	e = envs_activate(&envs, "2", 0, "root", 0, NULL);
	e->config.name = strdup("train");
	envs_activate(&envs, "3", 0, "root", 0, NULL);
	e = envs_activate(&envs, "4", 0, "root", 0, NULL);
	e->config.name = strdup("llm/llama2/4242");
	llm_list_add(&l, &envs, 0);
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].env->eid, "1");
	assert_int_equal(l.v[0].port, -1);
	assert_ptr_equal(llm_find(&l, "llama2"), &l.v[1]);
	assert_null(llm_find(&l, "mistral"));
	llm_list_release(&l);
	envs_release(&envs);
}

static void
listening_port_of_a_process(void **state UNUSED)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long *ports;
	size_t nr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(proc_listen_ports(getpid(), &ports, &nr), 0);
	assert_int_equal(nr, 0);   /* bound is not listening */
	free(ports);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	assert_int_equal(proc_listen_ports(getpid(), &ports, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(ports[0], ntohs(addr.sin_port));
	free(ports);
	close(fd);
	assert_int_equal(proc_listen_ports(-1, &ports, &nr), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(list_and_find),
		cmocka_unit_test(listening_port_of_a_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
