#!/usr/bin/env bash
# t3100-remote-failures.sh: a host that fails never costs the answers of
# the others. Real sshd hosts that are down (killed), hung (SIGSTOP),
# slow, without genv, or with a genv that prints garbage or errors; -q,
# -e, --parallel, --command-timeout; host lists and hostfiles that are
# wrong in every way we could think of.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS=1 fakehosts_setup 4
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
H3=$(fakehost_dir gpu-server-3)
H4=$(fakehost_dir gpu-server-4)
REAL_GENV=$BUILD/bin/genv
ME=$(id -un)

# gpu-server-4 is down for the whole script
fakehosts_stop_pid "$(cat "$H4/run.pid")"

ms() { echo $(($(date +%s%N) / 1000000)); }

one_host_table() {
	printf '%-25s%-9s%s\n' HOST TOTAL AVAILABLE gpu-server-1 1 1
	printf '\nTotal 1 devices with 1 available on 1 hosts\n'
}

test_expect_success 'a host that is down: the others are listed, exit 1' '
	one_host_table >expect &&
	printf "%s\n" "Failed running SSH command on gpu-server-4 (ssh: connect to host 127.0.0.5 port $FAKEHOSTS_PORT: Connection refused)" \
		"genv: 1 of 2 hosts failed" >expect.err &&
	test_expect_code 1 genv remote -H gpu-server-1,gpu-server-4 devices >out 2>err &&
	test_cmp expect out &&
	test_cmp expect.err err
'

test_expect_success '-q: the same, silently, still exit 1' '
	one_host_table >expect &&
	test_expect_code 1 genv remote -q -H gpu-server-4,gpu-server-1 devices >out 2>err &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'garbage and incompatible JSON are per-host errors' '
	fake_genv "$H2" "echo hello world" &&
	fake_genv "$H3" "echo \"{\\\"devices\\\": [{\\\"index\\\": \\\"zero\\\"}]}\"" &&
	test_expect_code 1 genv remote -H gpu-server-2,gpu-server-1,gpu-server-3 devices >out 2>err &&
	one_host_table >expect &&
	test_cmp expect out &&
	test_line_count() { test "$(wc -l <"$2")" -eq "$1"; } &&
	test_line_count 3 err &&
	tail -n 1 err | grep -x "genv: 2 of 3 hosts failed" &&
	grep "^Invalid answer from gpu-server-2 to .genv usage snapshot --type devices. (" err &&
	grep "^Invalid answer from gpu-server-3 to .genv usage snapshot --type devices. (" err &&
	head -n 1 err | grep -q gpu-server-2
'

test_expect_success '-e stops at the first failing host in host order' '
	test_expect_code 1 genv remote -e -H gpu-server-1,gpu-server-4,gpu-server-2 devices \
		>out 2>err &&
	test_must_be_empty out &&
	echo "Failed running SSH command on gpu-server-4 (ssh: connect to host 127.0.0.5 port $FAKEHOSTS_PORT: Connection refused)" >expect.err &&
	test_cmp expect.err err
'

test_expect_success 'a remote genv that fails: its stderr in the message' '
	fake_genv "$H2" "echo boom >&2; echo second line >&2; exit 3" &&
	test_expect_code 1 genv remote -H gpu-server-2 envs >out 2>err &&
	printf "%s\n" "Failed running SSH command on gpu-server-2 (boom; second line)" \
		"genv: no host answered (1 host failed)" >expect.err &&
	test_cmp expect.err err &&
	printf "%-25s%-8s%-16s%-16s%s\n\nTotal 0 environments on 0 hosts\n" HOST ID USER NAME CREATED >expect &&
	test_cmp expect out
'

test_expect_success 'stderr of hosts that answer is repeated as [host] lines' '
	fake_genv "$H2" "echo \"[DEBUG] Process 42 already terminated\" >&2; exec \"$REAL_GENV\" \"\$@\"" &&
	genv remote -H gpu-server-1,gpu-server-2 devices --no-header --no-summary >out 2>err &&
	echo "[gpu-server-2] [DEBUG] Process 42 already terminated" >expect.err &&
	test_cmp expect.err err &&
	test_line_count() { test "$(wc -l <"$2")" -eq "$1"; } &&
	test_line_count 2 out
'

test_expect_success 'a host without genv: say how to fix it' '
	real_genv "$H2" &&
	printf "%s\n" "genv is not installed on gpu-server-1 or not on its non-interactive PATH; install it or pass --remote-genv /path/to/genv" \
		"genv: no host answered (1 host failed)" >expect.err &&
	test_expect_code 1 genv remote --remote-genv genv-not-installed -H gpu-server-1 devices \
		>out 2>err &&
	test_cmp expect.err err &&
	GENV_REMOTE_GENV=/nonexistent/genv test_expect_code 1 genv remote -H gpu-server-1 devices \
		>out 2>err &&
	test_cmp expect.err err
'

test_expect_success '--remote-genv with a path works' '
	fake_genv "$H1" "echo must not run; exit 1" &&
	genv remote --remote-genv "$REAL_GENV" -H gpu-server-1 devices >out &&
	real_genv "$H1" &&
	one_host_table >expect &&
	test_cmp expect out
'

test_expect_success 'a hung host (SIGSTOP) is bounded by the connect timeout -t' '
	kill -STOP "$(cat "$H3/run.pid")" &&
	start=$(ms) &&
	genv remote -t 1 -H gpu-server-3,gpu-server-1 devices >out 2>err
	rc=$? &&
	took=$(($(ms) - start)) &&
	kill -CONT "$(cat "$H3/run.pid")" &&
	test $rc -eq 1 &&
	echo "took $took ms" &&
	test $took -ge 1000 && test $took -lt 6000 &&
	one_host_table >expect &&
	test_cmp expect out &&
	grep "^Failed running SSH command on gpu-server-3 (.*timed out" err
'

test_expect_success 'a remote command that hangs is bounded by --command-timeout' '
	fake_genv "$H3" "echo \$\$ >\"$H3/hang.pid\"; exec sleep 60" &&
	start=$(ms) &&
	test_expect_code 1 genv remote --command-timeout 1 -H gpu-server-1,gpu-server-3 devices \
		>out 2>err &&
	took=$(($(ms) - start)) &&
	{ kill "$(cat "$H3/hang.pid")" 2>/dev/null; true; } &&
	real_genv "$H3" &&
	echo "took $took ms" &&
	test $took -ge 1000 && test $took -lt 5000 &&
	printf "%s\n" "Failed running SSH command on gpu-server-3 (no answer within 1 seconds)" \
		"genv: 1 of 2 hosts failed" >expect.err &&
	test_cmp expect.err err &&
	one_host_table >expect &&
	test_cmp expect out
'

# every host logs when its genv starts and ends
log_genv() {
	fake_genv "$1" "echo \"start \$GENV_TEST_HOST\" >>\"$TRASH/calls\"; sleep 0.3; echo \"end \$GENV_TEST_HOST\" >>\"$TRASH/calls\"; exec \"$REAL_GENV\" \"\$@\""
}

test_expect_success '--parallel 1 runs one host at a time, in host order' '
	log_genv "$H1" && log_genv "$H2" && log_genv "$H3" &&
	rm -f "$TRASH/calls" &&
	genv remote --parallel 1 -H gpu-server-3,gpu-server-1,gpu-server-2 devices --no-header \
		--format csv >out &&
	printf "%s\n" "start gpu-server-3" "end gpu-server-3" "start gpu-server-1" \
		"end gpu-server-1" "start gpu-server-2" "end gpu-server-2" >expect &&
	test_cmp expect "$TRASH/calls" &&
	printf "%s\n" gpu-server-3,1,1 gpu-server-1,1,1 gpu-server-2,1,1 "" \
		"Total 3 devices with 3 available on 3 hosts" >expect &&
	test_cmp expect out
'

test_expect_success 'without a bound the hosts overlap, output still in host order' '
	rm -f "$TRASH/calls" &&
	genv remote -H gpu-server-3,gpu-server-1,gpu-server-2 devices --no-header --no-summary \
		--format csv >out &&
	head -n 3 "$TRASH/calls" | grep -c "^start" >n &&
	echo 3 >expect &&
	test_cmp expect n &&
	printf "%s\n" gpu-server-3,1,1 gpu-server-1,1,1 gpu-server-2,1,1 >expect &&
	test_cmp expect out &&
	real_genv "$H1" && real_genv "$H2" && real_genv "$H3"
'

test_expect_success 'hostfile: comments, blank lines, CRLF, spaces, user@host' '
	printf "# our cluster\r\n\r\n   gpu-server-1   \r\n\t# gpu-server-4 is broken\r\n$ME@gpu-server-2 # me\r\n" \
		>hosts.txt &&
	genv remote --hostfile hosts.txt devices --format csv --no-summary >out &&
	printf "%s\n" HOST,TOTAL,AVAILABLE gpu-server-1,1,1 gpu-server-2,1,1 >expect &&
	test_cmp expect out
'

test_expect_success '-host, --host, -hostfile spellings and -l' '
	genv remote -host gpu-server-1 -l "$ME" devices --no-header --no-summary >out1 &&
	genv remote --host=gpu-server-1 devices --no-header --no-summary >out2 &&
	echo gpu-server-1 >one.txt &&
	genv remote -hostfile one.txt devices --no-header --no-summary >out3 &&
	printf "%-25s%-9s%s\n" gpu-server-1 1 1 >expect &&
	test_cmp expect out1 && test_cmp expect out2 && test_cmp expect out3
'

test_expect_success 'a login the host refuses is that host'"'"'s failure' '
	test_expect_code 1 genv remote -l nosuchuser -H gpu-server-1 devices >out 2>err &&
	grep "^Failed running SSH command on gpu-server-1 (.*Permission denied" err
'

hostfile_error() {   # FILE-CONTENT MESSAGE
	printf -- "$1" >bad.txt &&
	test_expect_code 2 genv remote --hostfile bad.txt devices >out 2>err &&
	test_must_be_empty out &&
	echo "genv remote: error: $2" >expect &&
	test_cmp expect err
}

test_expect_success 'bad hostfiles: exit 2, file:line and what is wrong' '
	hostfile_error "" "bad.txt: no hosts in the file" &&
	hostfile_error "# nothing\n\n  \n" "bad.txt: no hosts in the file" &&
	hostfile_error "h1\n\ngpu server\n" "bad.txt:3: blank inside the host name '"'"'gpu server'"'"'" &&
	hostfile_error "a@b@c\n" "bad.txt:1: more than one '"'"'@'"'"' in '"'"'a@b@c'"'"'" &&
	hostfile_error "h1\n@h2\n" "bad.txt:2: empty user name in '"'"'@h2'"'"'" &&
	hostfile_error "u@\r\n" "bad.txt:1: empty host name in '"'"'u@'"'"'" &&
	hostfile_error "-oProxyCommand=x\n" "bad.txt:1: host name in '"'"'-oProxyCommand=x'"'"' starts with '"'"'-'"'"'" &&
	hostfile_error "h1\nh1\n" "bad.txt:2: host '"'"'h1'"'"' is listed twice"
'

test_expect_success 'a missing hostfile: exit 2, named' '
	test_expect_code 2 genv remote --hostfile nofile.txt devices >out 2>err &&
	echo "genv remote: error: cannot read '"'"'nofile.txt'"'"': No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'bad -H lists and option mistakes are usage errors (exit 2)' '
	test_expect_code 2 genv remote -H a,,b devices 2>err &&
	grep "empty host name in the host list '"'"'a,,b'"'"' (item 2)" err &&
	test_expect_code 2 genv remote -H "a b" devices 2>err &&
	test_expect_code 2 genv remote devices 2>err &&
	grep "one of the arguments -H/-host/--host -hostfile/--hostfile is required" err &&
	test_expect_code 2 genv remote -H a --hostfile one.txt devices 2>err &&
	grep "not allowed with argument" err &&
	test_expect_code 2 genv remote -H a -t soon devices 2>err &&
	grep "argument -t/--timeout: invalid int value: '"'"'soon'"'"'" err &&
	test_expect_code 2 genv remote -H a --parallel 0 devices 2>err &&
	test_expect_code 2 genv remote -H a frobnicate 2>err &&
	grep "invalid choice: '"'"'frobnicate'"'"'" err &&
	test_expect_code 2 genv remote -H a devices --format xml 2>err &&
	test_expect_code 2 genv remote -H a query --name x 2>err &&
	grep "required: --query/--queries" err
'

test_expect_success 'no subcommand: nothing to do, exit 0 (1.4.3)' '
	genv remote -H gpu-server-1 >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'

test_done
