/* SPDX-License-Identifier: MIT */
/* test-remote.c: choosing the hosts for `genv remote activate` (remote/remote.h). */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "remote/hosts.h"
#include "remote/remote.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/*
 * Answers for the hosts of spec (comma-separated). layout has one word per
 * host: "-" for a host that did not answer, else one letter per device:
 * 'f' free, 'w' taken whole, 'h' half taken (8 of 16 GiB), 'x' an
 * attachment whose memory string cannot be read.
 */
static void
make_answers(struct remote_answers *ans, struct hostlist *hl, const char *spec,
	     const char *const *layout)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(hostlist_parse_list(hl, spec, NULL, &err), 0);
	ans->v = xcalloc(hl->nr, sizeof(*ans->v));
	ans->nr = hl->nr;
	for (size_t i = 0; i < hl->nr; i++) {
		struct remote_host *h = &ans->v[i];

		h->host = &hl->v[i];
		strbuf_init(&h->error, 0);
		strvec_init(&h->warnings);
		h->ok = strcmp(layout[i], "-") != 0;
		ans->answered += h->ok;
		for (const char *p = h->ok ? layout[i] : ""; *p; p++) {
			struct device *d = devices_append(&h->devices, p - layout[i], "16384mi");

			if (*p == 'w')
				device_attach(d, "e1", NULL, "01/01/2024 00:00:00");
			else if (*p == 'h')
				device_attach(d, "e2", "8gi", "01/01/2024 00:00:00");
			else if (*p == 'x')
				device_attach(d, "e3", "lots", "01/01/2024 00:00:00");
		}
	}
	strbuf_release(&err);
}

struct fixture {
	struct remote_answers ans;
	struct hostlist hl;
	struct strvec notes;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strvec_init(&f->notes);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	remote_answers_release(&f->ans);
	hostlist_release(&f->hl);
	strvec_clear(&f->notes);
	free(f);
	return 0;
}

/* Keeps a note as "[host] line". */
static void
keep_note(const struct host *h, const char *line, void *data)
{
	strvec_pushf(data, "[%s] %s", h ? h->name : "", line);
}

/* The hosts chosen for gpus x gpu_memory are want[0..want_n), in that order. */
static void
expect_choice(struct fixture *f, long gpus, const char *gpu_memory, const size_t *want,
	      size_t want_n)
{
	size_t *order;
	size_t n = remote_choose_hosts(&f->ans, gpus, gpu_memory, &order, keep_note, &f->notes);

	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(order[i], want[i]);
	free(order);
}

static void
best_fit_first(void **state)
{
	struct fixture *f = *state;

	/* a: 4 free, b: 2, c: down, d: 2 (ties with b: host order), e: 1 */
	make_answers(&f->ans, &f->hl, "a,b,c,d,e",
		     (const char *const[]){ "ffff", "wffw", "-", "ffww", "fwww" });
	expect_choice(f, 2, NULL, (const size_t[]){ 1, 3, 0 }, 3);
	expect_choice(f, 1, NULL, (const size_t[]){ 4, 1, 3, 0 }, 4);
	expect_choice(f, 4, NULL, (const size_t[]){ 0 }, 1);
	expect_choice(f, 5, NULL, NULL, 0);
	assert_int_equal(f->notes.nr, 0);
}

static void
without_gpus_host_order(void **state)
{
	struct fixture *f = *state;

	/* every host that answered, even one with nothing free, in host order (1.4.3) */
	make_answers(&f->ans, &f->hl, "a,b,c,d",
		     (const char *const[]){ "ffff", "-", "ww", "f" });
	expect_choice(f, 0, NULL, (const size_t[]){ 0, 2, 3 }, 3);
}

static void
gpu_memory_counts_shared_devices(void **state)
{
	struct fixture *f = *state;

	/* half-taken devices take 8g more, not a whole device */
	make_answers(&f->ans, &f->hl, "a,b", (const char *const[]){ "hhh", "fwf" });
	expect_choice(f, 2, NULL, (const size_t[]){ 1 }, 1);
	expect_choice(f, 2, "8g", (const size_t[]){ 1, 0 }, 2);
	expect_choice(f, 2, "9g", (const size_t[]){ 1 }, 1);
	assert_int_equal(f->notes.nr, 0);
}

static void
unreadable_attachment_is_a_note(void **state)
{
	struct fixture *f = *state;

	make_answers(&f->ans, &f->hl, "a,b", (const char *const[]){ "xff", "ff" });
	/* a's first device counts as taken: a and b both have 2, host order */
	expect_choice(f, 2, "1g", (const size_t[]){ 0, 1 }, 2);
	assert_int_equal(f->notes.nr, 1);
	assert_true(!strncmp(f->notes.v[0], "[a] ", 4));
	assert_non_null(strstr(f->notes.v[0], "lots"));
	expect_choice(f, 3, "1g", NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(best_fit_first, setup, teardown),
		cmocka_unit_test_setup_teardown(without_gpus_host_order, setup, teardown),
		cmocka_unit_test_setup_teardown(gpu_memory_counts_shared_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_attachment_is_a_note, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
