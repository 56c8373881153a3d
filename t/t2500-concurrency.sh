#!/usr/bin/env bash
# t2500-concurrency.sh: 50 environments race for 4 fake GPUs at once; the
# global lock must make exactly 4 win, never give a device to two of
# them, and leave envs.json and devices.json whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

N=50
GPUS=4
fake_gpus $GPUS
SLEEPERS=()
for ((i = 0; i < N; i++)); do
	spawn_sleeper p
	SLEEPERS+=("$p")
done

# "0 (WHO, <1m), 1 (WHO, <1m), ...": every GPU held by a winner just now
held_by() {
	seq 0 $((GPUS - 1)) | awk -v who="$1" '{ printf "%s%d (%s, <1m)", (NR > 1 ? ", " : ""), $1, who }'
}

test_expect_success "$N concurrent activate+attach on $GPUS GPUs: exactly $GPUS succeed" '
	mkdir -p res &&
	for ((i = 0; i < N; i++)); do
		(
			genv envs activate --eid e$i --uid 0 --pid ${SLEEPERS[$i]} 2>res/act-err.$i
			echo $? >res/act-rc.$i
			genv devices attach --eid e$i --count 1 >res/out.$i 2>res/err.$i
			echo $? >res/rc.$i
		) &
	done &&
	wait &&
	test "$(cat res/act-rc.* | sort | uniq -c | sed "s/^ *//")" = "$N 0" &&
	won=$(grep -lx 0 res/rc.* | wc -l) &&
	test "$won" -eq $GPUS &&
	lost=$(grep -lx 1 res/rc.* | wc -l) &&
	test "$lost" -eq $((N - GPUS)) &&
	for f in res/err.*; do
		i=${f##*.}
		if [ "$(cat res/rc.$i)" = 0 ]; then
			test ! -s $f || exit 1
		else
			printf "%s\n" "No available devices" \
				"requested 1 GPU, 0 of $GPUS available; held: $(held_by "uid 0")" >expect &&
			test_cmp expect $f || exit 1
		fi
	done
'

test_expect_success 'every device has exactly one attachment, each of a winner' '
	genv devices query --query index eids >out &&
	test "$(wc -l <out)" -eq $GPUS &&
	! grep -E "^[0-9]+,(|.* .*)$" out &&
	cut -d, -f2 out | sort >attached &&
	for f in res/rc.*; do
		[ "$(cat $f)" = 0 ] && echo "e${f##*.}"
	done | sort >winners &&
	test_cmp winners attached &&
	for f in res/out.*; do
		i=${f##*.}
		[ "$(cat res/rc.$i)" = 0 ] || continue
		genv devices find --eid e$i >idx &&
		test_cmp $f idx || exit 1
	done
'

test_expect_success 'state files still parse and hold every environment' '
	genv envs ps >/dev/null &&
	genv devices ps >/dev/null &&
	genv envs query --query eid | sort >eids &&
	for ((i = 0; i < N; i++)); do echo e$i; done | sort >expect &&
	test_cmp expect eids
'

test_expect_success 'concurrent read-only commands during mutations all succeed' '
	mkdir -p ro &&
	for ((i = 0; i < 20; i++)); do
		( genv devices >/dev/null 2>ro/err.$i; echo $? >ro/rc.$i ) &
		( genv envs ps --format csv >/dev/null 2>ro/err2.$i; echo $? >ro/rc2.$i ) &
		( genv devices detach --eid e$i --quiet 2>ro/err3.$i; echo $? >ro/rc3.$i ) &
	done &&
	wait &&
	test -z "$(cat ro/rc* | grep -vx 0)" &&
	genv devices query --query eids >/dev/null
'

test_expect_success "$N concurrent shells running genv activate --gpus 1: exactly $GPUS activate" '
	export GENV_TMPDIR=$TRASH/s-activate &&
	mkdir -p sh &&
	for ((i = 0; i < N; i++)); do
		( genv activate --shell ${SLEEPERS[$i]} --gpus 1 --no-prompt >sh/out.$i 2>sh/err.$i
		  echo $? >sh/rc.$i ) &
	done &&
	wait &&
	test "$(grep -lx 0 sh/rc.* | wc -l)" -eq $GPUS &&
	test "$(grep -lx 1 sh/rc.* | wc -l)" -eq $((N - GPUS)) &&
	for f in sh/rc.*; do
		i=${f##*.}
		if [ "$(cat $f)" = 0 ]; then
			grep -qx "_genv_set_env GENV_ENVIRONMENT_ID ${SLEEPERS[$i]}" sh/out.$i || exit 1
		else
			printf "%s\n" "No available devices" \
				"requested 1 GPU, 0 of $GPUS available; held: $(held_by root)" >expect &&
			test_cmp expect sh/err.$i &&
			test ! -s sh/out.$i || exit 1
		fi
	done &&
	# the losers left nothing behind (1.4.3 kept their environments)
	genv envs query --query eid | sort >eids &&
	for f in sh/rc.*; do
		[ "$(cat $f)" = 0 ] && echo "${SLEEPERS[${f##*.}]}"
	done | sort >winners &&
	test_cmp winners eids &&
	genv devices query --query eids | sort >attached &&
	test_cmp winners attached
'

if genv --list-cmds | grep -qx exec; then
	test_expect_success "$N concurrent genv exec --gpus 1: never two on one GPU" '
		export GENV_TMPDIR=$TRASH/s-exec &&
		mkdir -p ex &&
		for ((i = 0; i < N; i++)); do
			( genv exec --gpus 1 -- sh -c "echo \$(date +%s%N) \$CUDA_VISIBLE_DEVICES; sleep 2; date +%s%N" \
				>ex/out.$i 2>ex/err.$i; echo $? >ex/rc.$i ) &
		done &&
		wait &&
		won=$(grep -lx 0 ex/rc.* | wc -l) &&
		test "$won" -ge $GPUS &&
		for f in ex/rc.*; do
			i=${f##*.}
			[ "$(cat $f)" = 0 ] || continue
			# start device end
			echo "$(head -n 1 ex/out.$i) $(sed -n 2p ex/out.$i)"
		done >intervals &&
		! grep -v "^[0-9]* [0-9] [0-9]*$" intervals &&
		awk "{ s[NR] = \$1; d[NR] = \$2; e[NR] = \$3 }
		     END { for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
				if (d[i] == d[j] && s[i] < e[j] && s[j] < e[i]) { print \"overlap\", i, j; bad = 1 }
			   exit bad }" intervals &&
		genv envs query --query eid >left &&
		test ! -s left &&
		genv devices query --query eids >att &&
		test -z "$(tr -d "\n" <att)"
	'
fi

test_done
