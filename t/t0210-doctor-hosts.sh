#!/bin/bash
# t0210: genv doctor -H/--hostfile over real sshd hosts
# (t/helpers/fakehosts.sh): each host's genv version and doctor lines as
# "[host] line", in host order; a host that is down, or whose genv has no
# doctor (1.4.3), FAILs with the fix.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS="1 2" fakehosts_setup 3
H2=$(fakehost_dir gpu-server-2)
H3=$(fakehost_dir gpu-server-3)
test_cleanup_hook='fakehosts_teardown'
fakehosts_stop_pid "$(cat "$H3/run.pid")"

test_expect_success 'two healthy hosts: their versions and checks, exit 0' '
	genv doctor -H gpu-server-1,gpu-server-2 >out &&
	grep -Fx "[gpu-server-1] version  1.4.3 / genv in C $(cat "$T_DIR/../VERSION") (a C11 implementation of genv 1.4.3)" out &&
	grep -Fx "[gpu-server-1] ok    nvml     NVML loaded, driver 550.54.15" out &&
	grep -q "^\[gpu-server-2\] ok    devices  2 GPUs: 0 .*, 1 " out &&
	grep -q "^\[gpu-server-2\] ok    state    .*/state: mode " out &&
	test "$(sed "s/ .*//" out | uniq | paste -sd" ")" = "[gpu-server-1] [gpu-server-2]"
'

test_expect_success 'a host that is down, one without doctor: FAIL each, exit 1' '
	# genv 1.4.3: `version` only, any other word is an argparse error
	printf "%s\n" "#!/bin/sh" "[ \"\$*\" = version ] && exec echo 1.4.3" \
		"echo \"genv: error: unrecognized arguments\" >&2; exit 2" >"$H2/bin/genv" &&
	chmod +x "$H2/bin/genv" &&
	printf "gpu-server-1\ngpu-server-2\ngpu-server-3\n" >hosts.txt &&
	test_expect_code 1 genv doctor --hostfile hosts.txt >out &&
	grep -q "^\[gpu-server-1\] ok    nvml" out &&
	grep -Fx "[gpu-server-2] version  1.4.3" out &&
	grep -Fx "[gpu-server-2] FAIL  doctor   its genv has no doctor; fix: install genv in C there (the package)" out &&
	grep -q "^\[gpu-server-3\] FAIL  ssh      no answer (.*); fix: check that .ssh gpu-server-3 genv version. works$" out
'

test_expect_success '-H and --hostfile together: usage error' '
	test_expect_code 2 genv doctor -H a --hostfile hosts.txt 2>err &&
	grep -q "not allowed with argument -H/--host" err
'

test_done
