# genv: GPU environment and cluster management. Plain GNU make.
#
#   make                 build build/bin/genv (and its shims)
#   make check           ASan+UBSan build in build/san, unit + end-to-end tests
#   make test            tests against the current build (BUILD=build),
#                        after make layer-check (the layering rules)
#   make install PREFIX=/usr/local [DESTDIR=...] [SYSCONFDIR=/etc]
#   make install PREFIX=P PROTECTED=1 [STATEDIR=D] [GROUP=G] [NVML_LIBRARY=/abs]
#                        (as root) the protected mode, see doc/security.md
#   make uninstall       the same variables: removes what make install added
#   make deb             the Debian package, in $(BUILD)/deb (see debian/)
#   make demo            the genv remote walkthrough on a simulated cluster
#   make sandbox         a shell with the simulated cluster and a hostfile
#   make monitor-demo    genv monitor on a simulated 8-GPU machine (port 8000)
#   make bench           benchmarks (see bench/README.md)
#
# Knobs: SANITIZE=address,undefined  DEVELOPER=1 (-Werror)  V=1  BUILD=dir

PREFIX  ?= /usr/local
BUILD   ?= build

# genv in C's own version, in one place: the binary (`genv version -v`),
# the installed man page and the checks of debian/changelog read it here.
# (`genv version` and --version print 1.4.3, the version tools compare.)
GENV_C_VERSION := $(shell cat VERSION)
CC      ?= cc
AR      ?= ar

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -Isrc -MMD -MP
LDLIBS  += -ljansson -ldl

# libmicrohttpd (genv monitor's HTTP server): its header only. The library
# is dlopen()ed when a server starts (src/metrics/server.c), since linking
# it (and gnutls behind it) would slow every command's start. Threads.
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
CPPFLAGS += $(MHD_CFLAGS)
LDLIBS  += -lpthread

ifdef DEVELOPER
CFLAGS  += -Werror
endif
ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q =
else
Q = @
endif

# ---- sources (listed explicitly so that a new file shows up in review)

UTIL_SRC = \
	src/util/clock.c \
	src/util/fileio.c \
	src/util/json.c \
	src/util/lockfile.c \
	src/util/parse-options.c \
	src/util/passwd.c \
	src/util/priv.c \
	src/util/proc.c \
	src/util/quote.c \
	src/util/run.c \
	src/util/strbuf.c \
	src/util/strvec.c \
	src/util/term.c \
	src/util/xalloc.c

CORE_SRC = \
	src/core/active.c \
	src/core/device-locks.c \
	src/core/devices.c \
	src/core/doctor.c \
	src/core/enforce-audit.c \
	src/core/enforce-cycle.c \
	src/core/enforce-execute.c \
	src/core/enforce-report.c \
	src/core/enforce-rules.c \
	src/core/envs.c \
	src/core/live.c \
	src/core/llm.c \
	src/core/memory.c \
	src/core/project-config.c \
	src/core/ps-json.c \
	src/core/protect.c \
	src/core/snapshot.c \
	src/core/state.c \
	src/core/state-check.c \
	src/core/state-json.c \
	src/core/slurm.c \
	src/core/store.c \
	src/core/store-ops.c \
	src/core/timefmt.c

GPU_SRC = \
	src/gpu/gpu-nvml.c

SHELL_SRC = \
	src/shell/init.c \
	src/shell/shell.c

REMOTE_SRC = \
	src/remote/fanout.c \
	src/remote/host-names.c \
	src/remote/hosts.c \
	src/remote/remote-enforce.c \
	src/remote/doctor-hosts.c \
	src/remote/remote.c \
	src/remote/ssh.c \
	src/remote/stream.c

METRICS_SRC = \
	src/metrics/assets.c \
	src/metrics/config.c \
	src/metrics/monitor.c \
	src/metrics/prom.c \
	src/metrics/remote-monitor.c \
	src/metrics/sample.c \
	src/metrics/server.c

# files embedded in the binary as C string literals (src/metrics/assets.c)
METRICS_ASSETS = \
	$(BUILD)/gen/metrics/dashboard.json.inc \
	$(BUILD)/gen/metrics/page.html.inc

SHIM_SRC = \
	src/shim/docker.c \
	src/shim/oci.c \
	src/shim/shim.c \
	src/shim/smi-filter.c

TOP_SRC = \
	src/top/render.c \
	src/top/top.c

CLI_SRC = \
	src/cli/active.c \
	src/cli/error.c \
	src/cli/admin.c \
	src/cli/cli.c \
	src/cli/commands.c \
	src/cli/main.c \
	src/cli/remote-enforce.c \
	src/cli/remote-monitor.c \
	src/cli/shim-docker.c \
	src/cli/shim-nvidia-smi.c \
	src/cli/shim-oci.c \
	src/cli/table.c \
	src/cli/cmd-activate.c \
	src/cli/cmd-attach.c \
	src/cli/cmd-config.c \
	src/cli/cmd-deactivate.c \
	src/cli/cmd-detach.c \
	src/cli/cmd-devices.c \
	src/cli/cmd-doctor.c \
	src/cli/cmd-enforce.c \
	src/cli/cmd-envs.c \
	src/cli/cmd-exec.c \
	src/cli/cmd-home.c \
	src/cli/cmd-llm.c \
	src/cli/cmd-lock.c \
	src/cli/cmd-monitor.c \
	src/cli/cmd-remote.c \
	src/cli/cmd-shell.c \
	src/cli/cmd-status.c \
	src/cli/cmd-top.c \
	src/cli/cmd-usage.c \
	src/cli/cmd-version.c

LIB_SRC = $(UTIL_SRC) $(CORE_SRC) $(GPU_SRC) $(SHELL_SRC) $(REMOTE_SRC) $(METRICS_SRC) \
	  $(SHIM_SRC) $(TOP_SRC)

# unit tests: t/unit/test-<module>.c, each linked with libgenv.a and cmocka
UNIT_TESTS = \
	test-active \
	test-clock \
	test-devices \
	test-docker \
	test-enforce \
	test-gpu \
	test-hosts \
	test-live \
	test-llm \
	test-memory \
	test-parse-options \
	test-priv \
	test-proc \
	test-project-config \
	test-prom \
	test-protect \
	test-quote \
	test-remote \
	test-run \
	test-shell \
	test-slurm \
	test-smi-filter \
	test-state \
	test-state-check \
	test-store \
	test-stream \
	test-timefmt

LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  = $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_BIN = $(UNIT_TESTS:%=$(BUILD)/t/unit/%)
FAKE_NVML = $(BUILD)/t/fake-nvml/libnvidia-ml.so.1
FAKE_OLLAMA = $(BUILD)/t/fake-ollama/ollama
GENV_BIN = $(BUILD)/bin/genv
# the names genv also answers to: links in libexec/genv/shims and next to it
SHIMS     = nvidia-smi docker podman
BIN_LINKS = genv-docker genv-container-runtime

# The nvidia-smi shim mounted into containers by the genv runtime hook:
# genv linked statically, since an image need not have our libraries.
# Not with the sanitizers, which do not link statically.
CONTAINER_SHIM = $(BUILD)/libexec/genv/container/nvidia-smi
ifndef SANITIZE
EXTRA_BIN += $(CONTAINER_SHIM)
endif

MAN_PAGES = $(BUILD)/doc/genv.1 $(BUILD)/doc/genv-protect.8

all: $(GENV_BIN) $(BUILD)/.runtime $(EXTRA_BIN) $(MAN_PAGES)

# the man pages as installed: their footer names genv in C's version
$(BUILD)/doc/%: doc/% VERSION
	@mkdir -p $(@D)
	@echo "  GEN   $@"
	$(Q)sed 's/^\.Os$$/.Os genv $(GENV_C_VERSION)/' $< >$@

$(BUILD)/libgenv.a: $(LIB_OBJ)
	@echo "  AR    $@"
	@# from scratch: a removed source must not live on in the archive
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(GENV_BIN): $(CLI_OBJ) $(BUILD)/libgenv.a
	@mkdir -p $(@D)
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libgenv.a $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/cli/cmd-version.o: CPPFLAGS += -DGENV_C_VERSION='"$(GENV_C_VERSION)"'
$(BUILD)/obj/cli/cmd-version.o: VERSION

# each line becomes a C string literal ("?" too: no trigraphs)
$(BUILD)/gen/metrics/%.inc: src/metrics/%
	@mkdir -p $(@D)
	@echo "  GEN   $@"
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@+
	$(Q)mv $@+ $@

$(BUILD)/obj/metrics/assets.o: CPPFLAGS += -I$(BUILD)/gen
$(BUILD)/obj/metrics/assets.o: $(METRICS_ASSETS)

# The container shim: its own main() and the shim's objects only (the
# library's members it needs come from libgenv.a). glibc warns that
# dlopen and getpwuid_r want its shared libraries at run time: the shim
# calls neither, so only a failure is shown.
CONTAINER_SHIM_OBJ = $(BUILD)/obj/cli/shim-main.o $(BUILD)/obj/cli/shim-nvidia-smi.o \
	$(BUILD)/obj/cli/error.o
$(CONTAINER_SHIM): $(CONTAINER_SHIM_OBJ) $(BUILD)/libgenv.a
	@mkdir -p $(@D)
	@echo "  LINK  $@ (static)"
	$(Q)$(CC) $(LDFLAGS) -static -s -o $@ $(CONTAINER_SHIM_OBJ) $(BUILD)/libgenv.a \
		-ljansson -ldl 2>$@.log || { cat $@.log; exit 1; }
	@rm -f $@.log

# run-time files next to the binary, laid out like an installed prefix
$(BUILD)/.runtime: $(GENV_BIN)
	@mkdir -p $(BUILD)/libexec/genv/shims
	$(Q)for s in $(SHIMS); do ln -sf ../../../bin/genv $(BUILD)/libexec/genv/shims/$$s; done
	$(Q)for l in $(BIN_LINKS); do ln -sf genv $(BUILD)/bin/$$l; done
	@touch $@

# ---- tests

$(BUILD)/t/unit/%: t/unit/%.c $(BUILD)/libgenv.a
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libgenv.a -lcmocka $(LDLIBS)

# The fake NVML is a test fixture, not product code: never sanitized, so
# that it can be dlopen()ed by any build.
$(FAKE_NVML): t/helpers/fake-nvml.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) -std=c11 -O2 -g -Wall -Wextra -fPIC -shared \
		-Wl,-soname,libnvidia-ml.so.1 -o $@ $<
	$(Q)ln -sf libnvidia-ml.so.1 $(@D)/libnvidia-ml.so

# A stand-in ollama serving on a real socket (t/helpers/fake-ollama.c).
$(FAKE_OLLAMA): t/helpers/fake-ollama.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) -std=c11 -O2 -g -Wall -Wextra -o $@ $<

test-build: all $(UNIT_BIN) $(FAKE_NVML) $(FAKE_OLLAMA)

test: test-build layer-check
	$(Q)BUILD=$(abspath $(BUILD)) sh t/run-tests.sh $(T)

# the CLI does no state, lock or /proc work; layers point downward
layer-check:
	$(Q)sh t/check-layers.sh

deps:
	$(Q)sh contrib/install-deps.sh

# valgrind first (it needs the plain build), then the sanitized suite, whose
# "N passed, N failed" line closes the run
check: deps
	$(Q)$(MAKE) --no-print-directory valgrind
	$(Q)$(MAKE) --no-print-directory BUILD=build/san SANITIZE=address,undefined test

valgrind: test-build
	@echo "== unit tests under valgrind"
	$(Q)for t in $(UNIT_BIN); do \
		GENV_TEST_FAKE_NVML=$(abspath $(FAKE_NVML)) valgrind -q --error-exitcode=1 \
			--leak-check=full --errors-for-leak-kinds=definite,indirect \
			$$t >$$t.valgrind.log 2>&1 || { cat $$t.valgrind.log; \
			echo "valgrind: $$t failed"; exit 1; }; \
		echo "valgrind: $$(basename $$t) clean"; done
	$(Q)BUILD=$(abspath $(BUILD)) bash t/helpers/valgrind-commands.sh

# ---- install
#
# Shells read their system-wide files in /etc only: SYSCONFDIR is /etc for
# PREFIX /usr or /usr/local, else PREFIX/etc (a trial install into a
# directory touches nothing of the system's). Installing into the system
# (SYSCONFDIR /etc, no DESTDIR) also runs system-setup (contrib/
# system-setup.sh): the lines in bash.bashrc and zsh/zshenv that load the
# shell integration, and the state directory.
#
# PROTECTED=1 (as root, no DESTDIR): then runs the installed
# sbin/genv-protect enable (contrib/genv-protect.sh): bin/genv setgid GROUP
# (created if missing), the state directory STATEDIR root:GROUP 2770, and
# the record etc/genv/genv.conf (root-owned; /etc/genv for PREFIX /usr)
# that the binary reads; see doc/security.md.

SYSCONFDIR   ?= $(if $(filter /usr /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc)
FISH_CONFDIR ?= $(SYSCONFDIR)/fish/conf.d
# completions: where each shell looks for them (bash-completion and zsh
# also look under /usr/local/share; fish only in /usr/share and /etc)
BASH_COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONDIR  ?= $(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)
FISH_COMPLETIONDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/share/fish/vendor_completions.d,$(SYSCONFDIR)/fish/completions)
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
STATEDIR     ?= /var/tmp/genv
GROUP        ?= genv
NVML_LIBRARY ?=
# where the binary looks for its record, genv.conf (src/core/protect.c)
GENV_CONFDIR = $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/etc/genv
SYSTEM_SETUP ?= $(if $(DESTDIR),0,$(if $(filter /etc,$(SYSCONFDIR)),1,0))

# what make install puts where (make uninstall removes the same)
SYSTEMD_UNITS = genv-enforce.service genv-monitor.service
INST_BIN     = $(DESTDIR)$(PREFIX)/bin
INST_SBIN    = $(DESTDIR)$(PREFIX)/sbin
INST_LIBEXEC = $(DESTDIR)$(PREFIX)/libexec/genv
INST_UNITS   = $(DESTDIR)$(SYSTEMD_UNITDIR)
INST_MAN1    = $(DESTDIR)$(PREFIX)/share/man/man1
INST_MAN8    = $(DESTDIR)$(PREFIX)/share/man/man8
INST_PROFILE = $(DESTDIR)$(SYSCONFDIR)/profile.d
INST_FISH    = $(DESTDIR)$(FISH_CONFDIR)
INST_COMPL   = $(DESTDIR)$(BASH_COMPLETIONDIR)/genv $(DESTDIR)$(ZSH_COMPLETIONDIR)/_genv \
	$(DESTDIR)$(FISH_COMPLETIONDIR)/genv.fish

# install-subst SRC DEST: SRC with the installed paths filled in, mode 0644
install-subst = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@STATEDIR@|$(STATEDIR)|g' -e 's|@CONFDIR@|$(GENV_CONFDIR)|g' \
	-e 's|@GROUP@|$(GROUP)|g' $(1) >$(2) && chmod 0644 $(2)

install: all
ifeq ($(PROTECTED),1)
	@[ -z '$(DESTDIR)' ] || { echo "make install PROTECTED=1: not with DESTDIR: it sets up this machine (a group, a setgid binary, a root-owned state directory)" >&2; exit 1; }
endif
	install -d $(INST_BIN) $(INST_SBIN) $(INST_LIBEXEC)/shims $(INST_UNITS) $(INST_MAN1) \
		$(INST_MAN8) $(INST_PROFILE) $(INST_FISH)
	install -m 0755 $(GENV_BIN) $(INST_BIN)/genv
	for s in $(SHIMS); do ln -sf ../../../bin/genv $(INST_LIBEXEC)/shims/$$s; done
	for l in $(BIN_LINKS); do ln -sf genv $(INST_BIN)/$$l; done
	if [ -e $(CONTAINER_SHIM) ]; then \
		install -d $(INST_LIBEXEC)/container && \
		install -m 0755 $(CONTAINER_SHIM) $(INST_LIBEXEC)/container/nvidia-smi; fi
	for u in $(SYSTEMD_UNITS); do $(call install-subst,contrib/$$u,$(INST_UNITS)/$$u); done
	install -m 0644 $(BUILD)/doc/genv.1 $(INST_MAN1)/genv.1
	install -m 0644 $(BUILD)/doc/genv-protect.8 $(INST_MAN8)/genv-protect.8
	$(call install-subst,contrib/genv-protect.sh,$(INST_SBIN)/genv-protect)
	chmod 0755 $(INST_SBIN)/genv-protect
	for l in $(BIN_LINKS); do ln -sf genv.1 $(INST_MAN1)/$$l.1; done
	$(call install-subst,contrib/shell/genv.sh,$(INST_PROFILE)/genv.sh)
	$(call install-subst,contrib/shell/genv.fish,$(INST_FISH)/genv.fish)
	set -- $(INST_COMPL) && for src in genv.bash _genv genv.fish; do \
		install -d "$$(dirname "$$1")" && install -m 0644 contrib/completion/$$src "$$1" && shift; done
	$(call install-subst,contrib/system-setup.sh,$(INST_LIBEXEC)/system-setup)
	chmod 0755 $(INST_LIBEXEC)/system-setup
	for f in prolog epilog; do $(call install-subst,contrib/slurm/$$f,$(INST_LIBEXEC)/slurm-$$f) && \
		chmod 0755 $(INST_LIBEXEC)/slurm-$$f || exit 1; done
ifeq ($(SYSTEM_SETUP),1)
	$(INST_LIBEXEC)/system-setup install
endif
ifeq ($(PROTECTED),1)
	sh $(INST_SBIN)/genv-protect enable --state-dir '$(STATEDIR)' --group '$(GROUP)' \
		--nvml-library '$(NVML_LIBRARY)'
endif

# The state directory and the group stay: they hold the users' environments.
uninstall:
ifeq ($(SYSTEM_SETUP),1)
	if [ -x $(INST_LIBEXEC)/system-setup ]; then $(INST_LIBEXEC)/system-setup remove; fi
endif
	rm -f $(INST_BIN)/genv $(INST_MAN1)/genv.1 $(INST_PROFILE)/genv.sh \
		$(INST_SBIN)/genv-protect $(INST_MAN8)/genv-protect.8 \
		$(INST_FISH)/genv.fish $(INST_LIBEXEC)/system-setup $(INST_COMPL) $(INST_LIBEXEC)/slurm-epilog \
		$(INST_LIBEXEC)/slurm-prolog \
		$(DESTDIR)$(GENV_CONFDIR)/genv.conf
	for s in $(SHIMS); do rm -f $(INST_LIBEXEC)/shims/$$s; done
	for l in $(BIN_LINKS); do rm -f $(INST_BIN)/$$l $(INST_MAN1)/$$l.1; done
	rm -f $(INST_LIBEXEC)/container/nvidia-smi
	for u in $(SYSTEMD_UNITS); do rm -f $(INST_UNITS)/$$u; done
	-rmdir $(INST_LIBEXEC)/shims $(INST_LIBEXEC)/container $(INST_LIBEXEC) \
		$(DESTDIR)$(GENV_CONFDIR) 2>/dev/null

# ---- Debian package
#
# Built from a copy of the sources in DEBDIR (debian/rules cleans its tree),
# without this make's variables (BUILD, SANITIZE...) and without the tests
# (they are make check's); lintian checks the result when installed.

DEBDIR ?= $(BUILD)/deb
DEB_SOURCES = Makefile README.md VERSION contrib debian doc src

deb:
	@command -v dpkg-buildpackage >/dev/null || { echo "make deb: dpkg-buildpackage is missing (make deps)" >&2; exit 1; }
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && [ "$$v" = "$(GENV_C_VERSION)" ] || \
		{ echo "make deb: debian/changelog is at $$v, VERSION at $(GENV_C_VERSION): add a changelog entry" >&2; exit 1; }
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/genv
	cp -R $(DEB_SOURCES) $(DEBDIR)/genv/
	cd $(DEBDIR)/genv && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "make deb: failed, see $(DEBDIR)/build.log" >&2; exit 1; }
	if command -v lintian >/dev/null; then lintian --fail-on error $(DEBDIR)/*.deb; fi
	@ls $(DEBDIR)/*.deb

# ---- demo, sandbox, benchmarks

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(FAKE_NVML)
	$(Q)BUILD=$(abspath $(BUILD)) bash contrib/demo.sh

sandbox: deps
	$(Q)$(MAKE) --no-print-directory all $(FAKE_NVML)
	$(Q)BUILD=$(abspath $(BUILD)) bash contrib/demo.sh --sandbox

monitor-demo: all $(FAKE_NVML)
	$(Q)BUILD=$(abspath $(BUILD)) bash contrib/monitor-demo.sh

bench: all $(FAKE_NVML)
	$(Q)BUILD=$(abspath $(BUILD)) bash bench/run.sh

clean:
	rm -rf build

.PHONY: deps all test test-build layer-check check valgrind install uninstall deb demo sandbox monitor-demo bench clean

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(BUILD)/obj/cli/shim-main.d
