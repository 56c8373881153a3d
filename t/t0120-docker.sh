#!/bin/bash
# t0120: containers from an environment: the docker/podman shims (links to
# genv in libexec/genv/shims) give `--gpus N|all` the environment's own
# devices, and genv-docker runs `docker run` under the genv runtime. A fake
# docker (and podman) records the argv it gets, one argument per line.
# shellcheck disable=SC2016,SC2034  # test bodies are strings eval'ed by lib.sh
. "$(dirname "$0")/lib.sh"

SHIMS="$BUILD/libexec/genv/shims"
REAL="$TRASH/realbin"
mkdir -p "$REAL" "$TRASH/empty"
for engine in docker podman; do
	cat >"$REAL/$engine" <<EOF
#!/bin/sh
printf '%s\n' "\$0" >"$TRASH/argv"
for a in "\$@"; do printf '%s\n' "\$a"; done >>"$TRASH/argv"
exit "\${FAKE_DOCKER_EXIT:-0}"
EOF
	chmod +x "$REAL/$engine"
done
export PATH="$SHIMS:$REAL:$PATH"
fake_gpus 4

# expect ENGINE ARGS...: what the fake engine must have recorded
expect() {
	local engine=$1
	shift
	printf '%s\n' "$REAL/$engine" "$@" >want &&
	test_cmp want "$TRASH/argv"
}

# in_env CMD...: CMD in environment "dock" attached to devices 0 and 2
in_env() { GENV_ENVIRONMENT_ID=dock CUDA_VISIBLE_DEVICES=0,2 "$@"; }

test_expect_success 'the build links docker, podman and genv-docker to genv' '
	for l in "$SHIMS/docker" "$SHIMS/podman" "$BUILD/bin/genv-docker"; do
		test "$(readlink -f "$l")" = "$(readlink -f "$BUILD/bin/genv")" || return 1
	done
'

test_expect_success 'docker --gpus N: the first N devices of the environment, no quotes' '
	in_env docker run --rm --gpus 1 ubuntu nvidia-smi &&
	expect docker run --rm --gpus device=0 -e GENV_ENVIRONMENT_ID=dock ubuntu nvidia-smi &&
	in_env docker run --gpus 2 ubuntu &&
	expect docker run --gpus device=0 --gpus device=2 -e GENV_ENVIRONMENT_ID=dock ubuntu
'

test_expect_success 'docker --gpus all and --gpus=VALUE' '
	in_env docker run --gpus all ubuntu &&
	expect docker run --gpus device=0 --gpus device=2 -e GENV_ENVIRONMENT_ID=dock ubuntu &&
	in_env docker run --gpus=all -it ubuntu bash &&
	expect docker run --gpus=device=0 --gpus=device=2 -e GENV_ENVIRONMENT_ID=dock -it ubuntu bash
'

test_expect_success 'a detached environment: --gpus 0' '
	GENV_ENVIRONMENT_ID=dock CUDA_VISIBLE_DEVICES=-1 docker run --gpus all ubuntu &&
	expect docker run --gpus 0 -e GENV_ENVIRONMENT_ID=dock ubuntu
'

test_expect_success 'through genv exec: the environment it created' '
	genv exec --id boxed --gpus 2 -- docker run --gpus all "my image" "a b" &&
	expect docker run --gpus device=0 --gpus device=1 -e GENV_ENVIRONMENT_ID=boxed "my image" "a b"
'

# uuid I: the fake GPU I's UUID (lib.sh's fake_gpus)
uuid() { printf 'GPU-%08x-0000-4000-8000-%012d' "$$" "$1"; }

test_expect_success 'in a Slurm job: the environment has GPU UUIDs, and docker gets them' '
	SLURM_JOB_ID=4242 SLURM_JOB_GPUS=1,3 genv exec --id job --gpus 2 -- \
		sh -c "printenv CUDA_VISIBLE_DEVICES; docker run --gpus all ubuntu" >out &&
	echo "$(uuid 1),$(uuid 3)" >want && test_cmp want out &&
	expect docker run --gpus "device=$(uuid 1)" --gpus "device=$(uuid 3)" \
		-e GENV_ENVIRONMENT_ID=job ubuntu &&
	SLURM_JOB_ID=4242 SLURM_JOB_GPUS=1,3 genv exec --id job --gpus 2 -- \
		podman run --gpus=1 ubuntu &&
	expect podman run --gpus="$(uuid 1)" -e GENV_ENVIRONMENT_ID=job ubuntu &&
	rm -rf "$GENV_TMPDIR/slurm"
'

test_expect_success 'a CUDA_VISIBLE_DEVICES docker would misread is refused, escaped' '
	rm -f "$TRASH/argv" &&
	GENV_ENVIRONMENT_ID=dock CUDA_VISIBLE_DEVICES="$(printf "GPU-1\"\033[2J")" \
		test_expect_code 1 docker run --gpus 1 ubuntu 2>err &&
	echo "CUDA_VISIBLE_DEVICES holds '\''GPU-1\"\x1b[2J'\'', not a device index or UUID" >want &&
	test_cmp want err &&
	test ! -e "$TRASH/argv"
'

test_expect_success 'too many devices, unsupported values, --gpus last: 1.4.3 messages, docker not run' '
	rm -f "$TRASH/argv" &&
	in_env test_expect_code 1 docker run --gpus 3 ubuntu 2>err &&
	echo "Requested 3 devices but only 2 are attached to environment" >want &&
	test_cmp want err &&
	in_env test_expect_code 1 docker run --gpus "\"device=0\"" ubuntu 2>err &&
	echo "Unsupported value for '\''--gpus'\'' (\"device=0\")" >want &&
	test_cmp want err &&
	in_env test_expect_code 1 docker run --gpus=device=1 ubuntu 2>err &&
	echo "Unsupported value for '\''--gpus'\'' (device=1)" >want &&
	test_cmp want err &&
	in_env test_expect_code 1 docker run ubuntu --gpus 2>err &&
	echo "Missing value for '\''--gpus'\''" >want &&
	test_cmp want err &&
	test ! -e "$TRASH/argv"
'

test_expect_success 'no --gpus, no environment, GENV_BYPASS=1: arguments untouched' '
	in_env docker ps -a --format "{{.ID}} x" &&
	expect docker ps -a --format "{{.ID}} x" &&
	CUDA_VISIBLE_DEVICES=0 docker run --gpus 1 ubuntu &&
	expect docker run --gpus 1 ubuntu &&
	GENV_BYPASS=1 in_env docker run --gpus 3 ubuntu &&
	expect docker run --gpus 3 ubuntu
'

test_expect_success 'the exit status of docker is kept' '
	FAKE_DOCKER_EXIT=125 in_env test_expect_code 125 docker run --gpus 1 ubuntu
'

test_expect_success 'no real docker: a clear error, not a crash' '
	PATH="$SHIMS:$TRASH/empty" in_env test_expect_code 1 "$SHIMS/docker" run --gpus 1 x 2>err &&
	echo "Could not find the path of '\''docker'\''" >want &&
	test_cmp want err
'

test_expect_success 'podman: each device as a CDI id, none when detached' '
	in_env podman run --gpus all ubuntu &&
	expect podman run --gpus 0 --gpus 2 -e GENV_ENVIRONMENT_ID=dock ubuntu &&
	GENV_ENVIRONMENT_ID=dock CUDA_VISIBLE_DEVICES=-1 podman run --gpus=all ubuntu &&
	expect podman run -e GENV_ENVIRONMENT_ID=dock ubuntu
'

test_expect_success 'genv-docker: the runtime and the configuration as -e, in 1.4.3 order' '
	GENV_DOCKER=$REAL/docker genv-docker run --gpus 2 --gpu-memory 4g --eid my-env \
		--no-activate --no-attach --no-shims --no-device-locks --over-subscribe ubuntu &&
	expect docker run --runtime=genv -e GENV_GPUS=2 -e GENV_GPU_MEMORY=4g \
		-e GENV_ENVIRONMENT_ID=my-env -e GENV_ACTIVATE=0 -e GENV_ATTACH=0 \
		-e GENV_MOUNT_SHIMS=0 -e GENV_MOUNT_DEVICE_LOCKS=0 \
		-e GENV_ALLOW_OVER_SUBSCRIPTION=1 ubuntu
'

test_expect_success 'issue 10: genv-docker --gpu-memory 4gb/4GB/512MiB, passed on in 1.4.3 spelling' '
	GENV_DOCKER=$REAL/docker genv-docker run --gpu-memory 4gb ubuntu &&
	expect docker run --runtime=genv -e GENV_GPU_MEMORY=4g ubuntu &&
	GENV_DOCKER=$REAL/docker genv-docker run --gpu-memory 4GB ubuntu &&
	expect docker run --runtime=genv -e GENV_GPU_MEMORY=4g ubuntu &&
	GENV_DOCKER=$REAL/docker genv-docker run --gpu-memory=512MiB ubuntu &&
	expect docker run --runtime=genv -e GENV_GPU_MEMORY=512mi ubuntu
'

test_expect_success 'genv-docker: docker found on PATH, arguments with spaces and = kept whole' '
	genv-docker --log-level warn run --gpus=1 --eid=a=b -e "MSG=a b" ubuntu sh -c "echo a  b" &&
	expect docker --log-level warn run --runtime=genv -e GENV_GPUS=1 -e GENV_ENVIRONMENT_ID=a=b \
		-e "MSG=a b" ubuntu sh -c "echo a  b"
'

cat >"$TRASH/dry.want" <<'EOF'
docker run --runtime=genv -e GENV_GPUS=1 -e 'MSG=it'\''s' ubuntu sh -c 'echo $HOME'
EOF
printf '%s\n' "$REAL/docker" run --runtime=genv -e GENV_GPUS=1 -e "MSG=it's" ubuntu sh -c 'echo $HOME' \
	>"$TRASH/dry.argv"
test_expect_success 'genv-docker --dry-run prints a command a shell runs as is' '
	rm -f "$TRASH/argv" &&
	genv-docker run --dry-run --gpus 1 -e "MSG=it'\''s" ubuntu sh -c "echo \$HOME" >out &&
	test ! -e "$TRASH/argv" &&
	test_cmp "$TRASH/dry.want" out &&
	sh -c "$(cat out)" &&
	test_cmp "$TRASH/dry.argv" "$TRASH/argv"
'

test_expect_success 'genv-docker: invalid values and a missing docker are clear errors' '
	test_expect_code 1 genv-docker run --gpus x ubuntu 2>err &&
	echo "genv-docker: [ERROR]: Invalid value for '\''--gpus'\'' (x)" >want &&
	test_cmp want err &&
	test_expect_code 1 genv-docker run --gpu-memory 4XB ubuntu 2>err &&
	echo "genv-docker: [ERROR]: Invalid value for '\''--gpu-memory'\'' (4XB)" >want &&
	test_cmp want err &&
	test_expect_code 1 genv-docker run ubuntu --gpus 2>err &&
	echo "genv-docker: [ERROR]: Missing value for '\''--gpus'\''" >want &&
	test_cmp want err &&
	GENV_DOCKER=$TRASH/empty/docker test_expect_code 127 genv-docker run ubuntu 2>err &&
	grep -q "genv-docker: \[ERROR\]: Could not run '\''$TRASH/empty/docker'\''" err
'

test_expect_success 'genv-docker --help: its options, and docker'\''s help too' '
	genv-docker run --help >out &&
	grep -q "^usage: genv-docker" out &&
	grep -q -- "--no-device-locks" out &&
	expect docker run --runtime=genv --help
'

test_done
