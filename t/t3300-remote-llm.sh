#!/usr/bin/env bash
# t3300-remote-llm.sh: `genv remote llm serve|ps|attach` over real sshd
# hosts on loopback, with the fake ollama (a real listening socket) on the
# hosts: serve lands on the best-fitting host, ps lists it with the port
# ollama bound (csv with the comma 1.4.3 missed), attach reaches it, -l
# and -t reach ssh, and the environment is released when the server ends.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS="1 2" fakehosts_setup 2
HOSTS=gpu-server-1,gpu-server-2
for h in gpu-server-1 gpu-server-2; do
	ln -s "$BUILD/t/fake-ollama/ollama" "$(fakehost_dir $h)/bin/ollama"
done

# llm_row MODEL: the csv row of MODEL in `genv remote llm ps`
llm_row() {
	genv remote -H $HOSTS llm ps --no-header --no-summary --format csv --timestamp |
		awk -F, -v m="$1" '$2 == m'
}
served() { llm_row "$1" | awk -F, 'BEGIN { rc = 1 } $3 ~ /^[0-9]+$/ { rc = 0 } END { exit rc }'; }

test_expect_success 'serve: on the host that fits best, ollama on a port it bound' '
	genv remote -H $HOSTS llm serve llama2 --gpus 2 </dev/null >serve.out 2>serve.err &
	echo $! >serve.pid &&
	test_track_pid $(cat serve.pid) &&
	test_wait_for 20 served llama2 &&
	llm_row llama2 >row &&
	test "$(cut -d, -f1 row)" = gpu-server-2 &&
	port=$(cut -d, -f3 row) && eid=$(cut -d, -f5 row) &&
	grep -q "^genv: serving llama2 at 127.0.0.1:$port in environment $eid (llm/llama2/$port)" serve.err &&
	grep -qx "genv: serving llama2 on gpu-server-2: 2 of 2 GPUs available (best fit for --gpus 2: the fewest that suffice)" serve.err &&
	ssh gpu-server-2 genv devices find --eid $eid </dev/null >out &&
	echo 0,1 >want && test_cmp want out
'

test_expect_success 'ps: 1.4.3 columns and summary; csv has the comma between EID and USER' '
	llm_row llama2 >row &&
	port=$(cut -d, -f3 row) && eid=$(cut -d, -f5 row) && created=$(cut -d, -f4 row) &&
	echo "gpu-server-2,llama2,$port,$created,$eid,root" >want && test_cmp want row &&
	genv remote -H $HOSTS llm ps --timestamp >out &&
	{ echo "HOST                     MODEL       PORT    CREATED              EID     USER" &&
	  printf "%-25s%-12s%-8s%-21s%-8s%s\n" gpu-server-2 llama2 $port "$created" $eid root &&
	  echo && echo "Total 1 LLMs on 2 hosts"; } >want &&
	test_cmp want out &&
	genv remote -H $HOSTS llm ps --format csv --no-summary | head -n 1 >out &&
	echo "HOST,MODEL,PORT,CREATED,EID,USER" >want && test_cmp want out
'

test_expect_success 'attach: ollama run on the host serving the model' '
	genv remote -H $HOSTS llm attach llama2 </dev/null >out &&
	echo "llama2: Ollama is running" >want && test_cmp want out &&
	test_expect_code 1 genv remote -H $HOSTS llm attach mistral </dev/null 2>err &&
	echo "Could not find LLM model '\''mistral'\''" >want && test_cmp want err
'

test_expect_success 'serve and attach use -l and -t (1.4.3 ignored them)' '
	cat >log-ssh <<-EOF &&
	#!/bin/sh
	printf "%s\n" "\$*" >>"$TRASH/ssh.log"
	exec ssh "\$@"
	EOF
	chmod +x log-ssh &&
	GENV_SSH=$TRASH/log-ssh genv remote -l root -t 7 -H $HOSTS llm attach llama2 </dev/null >out &&
	grep "llm attach llama2" ssh.log >cmd &&
	grep -q -- "-l root" cmd && grep -q "ConnectTimeout=7" cmd
'

test_expect_success 'no host has enough devices: 1.4.3 message, nothing started' '
	test_expect_code 1 genv remote -H $HOSTS llm serve phi --gpus 2 </dev/null 2>err &&
	printf "%s\n" \
		"genv: requested 2 GPUs; no host has that many: gpu-server-1 1 of 1, gpu-server-2 0 of 2" \
		"Cannot find a host with enough available resources" >want && test_cmp want err &&
	! llm_row phi | grep -q .
'

test_expect_success 'the server ends: its environment and devices are released' '
	eid=$(llm_row llama2 | cut -d, -f5) &&
	ssh gpu-server-2 kill $eid </dev/null &&
	test_wait_for 20 sh -c "! kill -0 $(cat serve.pid) 2>/dev/null" &&
	! llm_row llama2 | grep -q . &&
	ssh gpu-server-2 genv devices find --eid $eid </dev/null >out &&
	echo >want && test_cmp want out
'

test_done
