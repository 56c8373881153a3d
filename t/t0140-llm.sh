#!/bin/bash
# t0140: genv llm serve|ps|attach with a fake ollama (t/helpers/fake-ollama.c)
# that really listens on the port it is given (0: any free one) and answers
# `ollama run` over it. The environment lives while ollama runs and is
# released, devices included, when it exits.
# shellcheck disable=SC2016,SC2034  # test bodies are strings eval'ed by lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p "$TRASH/empty"
export PATH="$BUILD/t/fake-ollama:$PATH"
fake_gpus 2

# serve LOG ARGS...: genv llm serve ARGS in the background, its pid in LOG.pid
serve() {
	local log=$1
	shift
	genv llm serve "$@" 2>"$log" &
	echo $! >"$log.pid"
	test_track_pid $!
}

# port_of MODEL: the PORT column of `genv llm ps` for MODEL
port_of() { genv llm ps --no-header --format csv | awk -F, -v m="$1" '$1 == m { print $2 }'; }
has_port() { port_of "$1" | grep -q "^[0-9][0-9]*$"; }

test_expect_success 'serve: ollama in an environment named llm/MODEL/PORT on a port it bound' '
	FAKE_OLLAMA_ENV_LOG=$TRASH/env1 serve s1 llama2 --gpus 1 --gpu-memory 4g &&
	test_wait_for 10 has_port llama2 &&
	port=$(port_of llama2) && pid=$(cat s1.pid) &&
	grep -q "^Listening on 127.0.0.1:$port " s1 &&
	grep -q "^genv: serving llama2 at 127.0.0.1:$port in environment $pid (llm/llama2/$port)" s1 &&
	genv envs query --eid $pid --query config.name config.gpus config.gpu_memory >out &&
	echo "llm/llama2/$port,1,4g" >want && test_cmp want out &&
	genv devices find --eid $pid >out && echo 0 >want && test_cmp want out &&
	grep -qx "GENV_ENVIRONMENT_ID=$pid" env1 && grep -qx "CUDA_VISIBLE_DEVICES=0" env1 &&
	grep -qx "GENV_GPUS=1" env1 && grep -qx "GENV_GPU_MEMORY=4g" env1 &&
	grep -qx "OLLAMA_HOST=127.0.0.1:0" env1
'

test_expect_success 'ps: 1.4.3 columns in tui, and csv with the comma 1.4.3 missed' '
	port=$(port_of llama2) && pid=$(cat s1.pid) &&
	opid=$(genv envs query --eid $pid --query pids | cut -d" " -f2) &&
	genv llm ps --timestamp >out &&
	created=$(genv envs query --eid $pid --query creation | cut -d, -f1) &&
	{ echo "MODEL       PORT    CREATED              EID     USER            PID(S)" &&
	  printf "%-12s%-8s%-21s%-8s%-16s%s\n" llama2 $port "$created" $pid "$(id -un)($(id -u))" "$pid $opid"; } >want &&
	test_cmp want out &&
	genv llm ps --format csv --timestamp >out &&
	{ echo "MODEL,PORT,CREATED,EID,USER,PID(S)" &&
	  echo "llama2,$port,$created,$pid,$(id -un)($(id -u)),$pid $opid"; } >want &&
	test_cmp want out &&
	genv llm >out && head -n 1 out | grep -q "^MODEL       PORT"
'

test_expect_success 'attach: ollama run MODEL against the served port (our OLLAMA_HOST wins)' '
	OLLAMA_HOST=127.0.0.1:1 genv llm attach llama2 >out &&
	echo "llama2: Ollama is running" >want && test_cmp want out &&
	test_expect_code 1 genv llm attach mistral 2>err &&
	echo "Could not find LLM model '\''mistral'\''" >want && test_cmp want err
'

test_expect_success 'two models at once get two ports, both listed' '
	serve s2 mistral &&
	test_wait_for 10 has_port mistral &&
	test "$(port_of mistral)" != "$(port_of llama2)" &&
	genv llm attach mistral >out && grep -q "^mistral: Ollama is running" out
'

test_expect_success 'when ollama ends (genv got SIGTERM) the environment and its device are released' '
	pid=$(cat s1.pid) &&
	kill -TERM $pid &&
	test_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" &&
	genv envs query --eid $pid --query eid >out && test ! -s out &&
	genv devices find --eid $pid >out && echo >want && test_cmp want out &&
	! port_of llama2 | grep -q .
'

test_expect_success 'genv killed outright: ollama keeps the environment until it ends' '
	pid=$(cat s2.pid) &&
	opid=$(genv envs query --eid $pid --query pids | cut -d" " -f2) &&
	test_track_pid $opid &&
	kill -KILL $pid &&
	test_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" &&
	has_port mistral &&
	kill $opid &&
	test_wait_for 10 sh -c "! genv llm ps --no-header | grep -q mistral"
'

test_expect_success 'serve --port P: the name and OLLAMA_HOST use it; a port in use fails cleanly' '
	FAKE_OLLAMA_ENV_LOG=$TRASH/env3 serve s3 phi --port 0 --host 127.0.0.1 &&
	test_wait_for 10 has_port phi &&
	p=$(port_of phi) &&
	test_expect_code 1 genv llm serve other --port $p --gpus 1 2>err &&
	grep -qi "address already in use" err && ! grep -q "serving other" err &&
	! genv llm ps | grep -q "^other" &&
	genv devices find --eid "$(cat s3.pid)" >out && echo >want && test_cmp want out &&
	kill $(cat s3.pid) && test_wait_for 10 sh -c "! kill -0 $(cat s3.pid) 2>/dev/null"
'

test_expect_success 'a name from genv < 1.4.1 (llm/MODEL): the port ollama listens on' '
	OLLAMA_HOST=127.0.0.1:0 ollama serve 2>legacy.err &
	opid=$! && test_track_pid $opid &&
	test_wait_for 10 grep -q Listening legacy.err &&
	port=$(sed -n "s/^Listening on 127.0.0.1:\([0-9]*\) .*/\1/p" legacy.err) &&
	genv envs activate --eid legacy --uid 0 --pid $opid &&
	genv envs config --eid legacy name --name llm/gemma &&
	test "$(port_of gemma)" = "$port" &&
	genv llm attach gemma >out && grep -q "^gemma: Ollama is running" out &&
	kill $opid &&
	test_wait_for 10 sh -c "! genv llm ps --no-header | grep -q gemma"
'

test_expect_success 'no ollama, an active environment, bad options: clear errors, nothing registered' '
	PATH="$BUILD/bin:$TRASH/empty" test_expect_code 1 genv llm serve llama2 --gpus 1 2>err &&
	printf "%s\n" "Could not find ollama." "You should install it if it'\''s not already installed." \
		"Otherwise, \$PATH is probably not configured properly." >want &&
	test_cmp want err &&
	genv envs ps --no-header >out && test ! -s out &&
	genv devices find --eid x >/dev/null &&
	GENV_ENVIRONMENT_ID=x test_expect_code 1 genv llm serve llama2 2>err &&
	echo "Already running in an active environment" >want && test_cmp want err &&
	test_expect_code 2 genv llm serve 2>err && grep -q "required: MODEL" err &&
	test_expect_code 2 genv llm serve m --port 70000 2>err &&
	test_expect_code 2 genv llm serve m --gpu-memory 4XB 2>err &&
	test_expect_code 1 genv llm serve m --gpus 3 2>err &&
	printf "%s\n" "No available devices" "requested 3 GPUs, this machine has 2" >want &&
	test_cmp want err &&
	genv envs ps --no-header >out && test ! -s out
'

test_expect_success 'llms is the same command (1.4.3 alias)' '
	genv llm ps --format csv >want &&
	genv llms ps --format csv >out &&
	test_cmp want out &&
	genv llms --help | head -n 1 | grep -q "^usage: genv llm "
'

test_done
