#!/usr/bin/env bash
# t2100-envs.sh: `genv envs` ps/query/find/activate/config/deactivate
# against envs.json written by hand in 1.4.3's format, outputs compared
# byte for byte; queries must not rewrite envs.json, mutations must write
# exactly 1.4.3's bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
spawn_sleeper P2
spawn_sleeper P3
spawn_sleeper P4
DEAD=$(dead_pid)
T1=$(ago 34)
T2=$(ago 3700)        # 1 hour ago
T3=$(ago 90000)       # 1 day ago
T4=$(ago 700000)      # 1 week ago
LONG_NAME=llm/mistral/35245

fake_gpus 2
mkdir -p "$GENV_TMPDIR"
envs_file \
	"$(env_json e1 1000 "$T1" alice my-env 4g 2 "$P1 $P2")" \
	"$(env_json e2 1001 "$T2" null "two words" null null "$P3")" \
	"$(env_json 2525 0 "$T3" root "$LONG_NAME" null null "$P4" "k-1")" \
	"$(env_json a-long-eid 1002 "$T4" a-very-long-username null null null "$P4")" \
	"$(env_json gone 1003 "$T4" dave null null null "$DEAD")" \
	>"$GENV_TMPDIR/envs.json"
envs_file \
	"$(env_json e1 1000 "$T1" alice my-env 4g 2 "$P1 $P2")" \
	"$(env_json e2 1001 "$T2" null "two words" null null "$P3")" \
	"$(env_json 2525 0 "$T3" root "$LONG_NAME" null null "$P4")" \
	"$(env_json a-long-eid 1002 "$T4" a-very-long-username null null null "$P4")" \
	>"$TRASH/envs.cleaned"

test_expect_success 'ps (default): tui, overflow, user(uid), pids' '
	{
		echo "ID      USER            NAME            CREATED              PID(S)" &&
		echo "e2      1001            two words       1 hour ago           $P3" &&
		echo "2525    root(0)         llm/mistral/352451 day ago            $P4" &&
		echo "a-long-eida-very-long-username(1002)                1 week ago           $P4"
	} >expect &&
	genv envs >out &&
	sed 2d out >out.rest &&
	test_cmp expect out.rest &&
	sed -n 2p out | grep -Eq "^e1      alice\(1000\)     my-env          (3[4-9]|[45][0-9]) seconds ago       $P1 $P2$" &&
	genv envs ps --format tui >out2 &&
	sed 2d out2 >out2.rest &&
	test_cmp expect out2.rest
'

test_expect_success 'ps cleaned up the dead env and the dead kernel, and saved' '
	test_cmp envs.cleaned "$GENV_TMPDIR/envs.json"
'

test_expect_success 'queries do not rewrite envs.json' '
	before=$(file_id "$GENV_TMPDIR/envs.json") &&
	sleep 1.1 &&
	genv envs >/dev/null &&
	genv envs ps --format csv --timestamp >/dev/null &&
	genv envs query --query eid pids >/dev/null &&
	genv envs find --pid $P1 >/dev/null &&
	test "$before" = "$(file_id "$GENV_TMPDIR/envs.json")"
'

test_expect_success 'ps --timestamp and csv' '
	{
		echo "ID,USER,NAME,CREATED,PID(S)" &&
		echo "e1,alice(1000),my-env,$T1,$P1 $P2" &&
		echo "e2,1001,two words,$T2,$P3" &&
		echo "2525,root(0),$LONG_NAME,$T3,$P4" &&
		echo "a-long-eid,a-very-long-username(1002),,$T4,$P4"
	} >expect &&
	genv envs ps --timestamp --format csv >out &&
	test_cmp expect out &&
	sed 1d expect >expect.rows &&
	genv envs ps --timestamp --format csv --no-header >out &&
	test_cmp expect.rows out &&
	{
		echo "ID      USER            NAME            CREATED              PID(S)" &&
		printf "%-8s%-16s%-16s%-21s%s\n" e1 "alice(1000)" my-env "$T1" "$P1 $P2" \
			e2 1001 "two words" "$T2" "$P3"
	} >expect &&
	genv envs ps --timestamp >out &&
	head -n 3 out >out3 &&
	test_cmp expect out3
'

test_expect_success 'query: all fields, None as empty, lists space-joined' '
	{
		echo "e1,$T1,1000,alice,my-env,2,4g,$P1 $P2," &&
		echo "e2,$T2,1001,,two words,,,$P3," &&
		echo "2525,$T3,0,root,$LONG_NAME,,,$P4," &&
		echo "a-long-eid,$T4,1002,a-very-long-username,,,,$P4,"
	} >expect &&
	genv envs query --query eid creation uid username config.name config.gpus \
		config.gpu_memory pids kernel_ids >out &&
	test_cmp expect out &&
	echo "2,e1" >expect &&
	genv envs query --eid e1 --queries config.gpus eid >out &&
	test_cmp expect out &&
	genv envs query --eid nosuch --query eid >out &&
	test ! -s out
'

test_expect_success 'find by pid and by kernel id' '
	printf "2525\na-long-eid\n" >expect &&
	genv envs find --pid $P4 >out &&
	test_cmp expect out &&
	genv envs find --pid 1 >out &&
	test ! -s out &&
	test_expect_code 2 genv envs find 2>err &&
	grep -q "one of the arguments --pid --kernel-id is required" err &&
	test_expect_code 2 genv envs find --pid 1 --kernel-id x 2>err &&
	grep -q "not allowed with" err
'

test_expect_success 'activate: new env in 1.4.3 bytes, then join it' '
	export GENV_TMPDIR=$TRASH/s-activate &&
	genv envs activate --eid new --uid 1000 --username alice --pid $P1 &&
	created=$(genv envs query --query creation) &&
	envs_file "$(env_json new 1000 "$created" alice null null null "$P1")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	genv envs activate --eid new --uid 1000 --pid $P2 &&
	genv envs activate --eid new --uid 1000 --pid $P2 &&
	envs_file "$(env_json new 1000 "$created" alice null null null "$P1 $P2 $P2")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	genv envs activate --eid other --uid 7 --pid $P3 &&
	envs_file "$(env_json new 1000 "$created" alice null null null "$P1 $P2 $P2")" \
		"$(env_json other 7 "$(genv envs query --eid other --query creation)" \
			null null null null "$P3")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	echo "$created" | grep -Eq "^[0-3][0-9]/[01][0-9]/20[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"
'

test_expect_success 'activate: argument checking' '
	export GENV_TMPDIR=$TRASH/s-activate-bad &&
	test_expect_code 2 genv envs activate --eid x --uid alice --pid $P1 2>err &&
	grep -q "argument --uid: invalid int value: '"'"'alice'"'"'" err &&
	test_expect_code 2 genv envs activate --eid x --pid $P1 2>err &&
	grep -q "the following arguments are required: --uid" err &&
	test_expect_code 2 genv envs activate --uid 1 --pid $P1 2>err &&
	grep -q "the following arguments are required: --eid" err &&
	test_expect_code 2 genv envs activate --eid x --uid 1 2>err &&
	grep -q "one of the arguments --pid --kernel-id is required" err &&
	test ! -e "$GENV_TMPDIR/envs.json"
'

# (the caller's own environment: its runtime directory tells; root judges
# another user's kernels by that user's, t6210)
test_expect_success 'activate with a kernel id (dropped on cleanup without jupyter runtime)' '
	export GENV_TMPDIR=$TRASH/s-kernel &&
	genv envs --no-cleanup activate --eid k --uid $(id -u) --kernel-id abc &&
	genv envs --no-cleanup query --query eid kernel_ids >out &&
	echo "k,abc" >expect &&
	test_cmp expect out &&
	genv envs --no-cleanup find --kernel-id abc >out &&
	echo k >expect &&
	test_cmp expect out &&
	genv envs query --query eid >out &&
	test ! -s out
'

test_expect_success 'activate with a kernel id whose runtime file exists survives cleanup' '
	export GENV_TMPDIR=$TRASH/s-kernel2 &&
	export JUPYTER_RUNTIME_DIR=$TRASH/jupyter &&
	mkdir -p "$JUPYTER_RUNTIME_DIR" &&
	: >"$JUPYTER_RUNTIME_DIR/kernel-abc.json" &&
	genv envs activate --eid k --uid 1 --kernel-id abc &&
	genv envs query --query eid kernel_ids >out &&
	echo "k,abc" >expect &&
	test_cmp expect out
'

test_expect_success 'config: set and clear each field; unknown eid ignored' '
	export GENV_TMPDIR=$TRASH/s-config &&
	genv envs activate --eid c --uid 5 --username u --pid $P1 &&
	created=$(genv envs query --query creation) &&
	genv envs config --eid c gpus --count 3 &&
	genv envs config --eid c name --name "two words" &&
	genv envs config --eid c gpu-memory --gpu-memory 512mi &&
	envs_file "$(env_json c 5 "$created" u "two words" 512mi 3 "$P1")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	genv envs config --eid c name --clear &&
	genv envs config --eid c gpus --clear &&
	envs_file "$(env_json c 5 "$created" u null 512mi null "$P1")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	genv envs config --eid nosuch name --name x &&
	test_cmp expect "$GENV_TMPDIR/envs.json"
'

test_expect_success 'config: bad values are refused, state untouched' '
	export GENV_TMPDIR=$TRASH/s-config &&
	cp "$GENV_TMPDIR/envs.json" before &&
	test_expect_code 2 genv envs config --eid c gpus --count two 2>err &&
	grep -q "invalid int value" err &&
	test_expect_code 2 genv envs config --eid c gpus 2>err &&
	grep -q "one of the arguments --count --clear is required" err &&
	test_expect_code 2 genv envs config --eid c colour --clear 2>err &&
	grep -q "invalid choice: '"'"'colour'"'"'" err &&
	test_must_fail genv envs config --eid c gpu-memory --gpu-memory 4XB 2>err &&
	grep -q 4XB err &&
	cmp before "$GENV_TMPDIR/envs.json"
'

test_expect_success 'deactivate removes the pid everywhere and drops empty envs' '
	export GENV_TMPDIR=$TRASH/s-deactivate &&
	genv envs activate --eid x --uid 1 --pid $P1 &&
	genv envs activate --eid x --uid 1 --pid $P2 &&
	genv envs activate --eid y --uid 1 --pid $P1 &&
	genv envs deactivate --pid $P1 &&
	genv envs query --query eid pids >out &&
	echo "x,$P2" >expect &&
	test_cmp expect out &&
	genv envs deactivate --pid $P2 &&
	envs_file >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json"
'

test_expect_success '--reset forgets every env' '
	export GENV_TMPDIR=$TRASH/s-reset &&
	genv envs activate --eid x --uid 1 --pid $P1 &&
	genv envs --reset >out &&
	echo "ID      USER            NAME            CREATED              PID(S)" >expect &&
	test_cmp expect out &&
	envs_file >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json"
'

test_expect_success 'a query with no envs.json does not create it' '
	export GENV_TMPDIR=$TRASH/s-empty &&
	genv envs >out &&
	genv envs query --query eid >>out &&
	echo "ID      USER            NAME            CREATED              PID(S)" >expect &&
	test_cmp expect out &&
	test ! -e "$GENV_TMPDIR/envs.json"
'

test_done
