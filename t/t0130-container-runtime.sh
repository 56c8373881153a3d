#!/bin/bash
# t0130: the genv container runtime (genv-container-runtime, registered as
# docker/podman runtime "genv") and its prestart hook, on real OCI bundles
# (a config.json and a rootfs directory). A fake runc records what it got;
# the test then plays runc's part: it starts the container's init process
# in a mount namespace of its own (unshare) and runs the hook the bundle
# names, with the OCI state on stdin, as runc does before pivot_root.
# shellcheck disable=SC2016,SC2034  # test bodies are strings eval'ed by lib.sh
. "$(dirname "$0")/lib.sh"

RT="$TRASH/rt"
LOG="$TRASH/log"
mkdir -p "$RT" "$LOG" "$TRASH/empty"
cat >"$RT/runc" <<EOF
#!/bin/sh
# a fake runc: records its argv, and the files of create and exec
printf '%s\n' "\$0" "\$@" >"$LOG/argv"
cmd= bundle=. process=
while [ \$# -gt 0 ]; do
	case \$1 in
	--root|--log|--log-format) [ -z "\$cmd" ] && shift ;;
	--bundle|-b) bundle=\$2; shift ;;
	--bundle=*) bundle=\${1#--bundle=} ;;
	--process|-p) process=\$2; shift ;;
	-*) ;;
	*) [ -z "\$cmd" ] && cmd=\$1 ;;
	esac
	shift
done
[ "\$cmd" = create ] && cp "\$bundle/config.json" "$LOG/config.json"
[ "\$cmd" = exec ] && [ -n "\$process" ] && cp "\$process" "$LOG/process.json"
exit "\${FAKE_RUNC_EXIT:-0}"
EOF
chmod +x "$RT/runc"
export PATH="$RT:$PATH"
fake_gpus 4
GENV_REAL=$(readlink -f "$BUILD/bin/genv")
SHIM_SRC=$BUILD/libexec/genv/container/nvidia-smi
[ -e "$SHIM_SRC" ] || SHIM_SRC=$GENV_REAL   # sanitizer builds have no static shim

# bundle DIR [ENV...]: an OCI bundle with a rootfs and a process environment
bundle() {
	local dir=$1 env="" sep="" e
	shift
	for e in "$@"; do env="$env$sep\"$e\""; sep=","; done
	mkdir -p "$dir/rootfs/bin"
	cat >"$dir/config.json" <<EOF
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh"],"env":[$env],"cwd":"/"},"root":{"path":"rootfs"},"hostname":"c","mounts":[{"destination":"/proc","type":"proc","source":"proc"}],"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}
EOF
}

# run_hook BUNDLE ID: starts the init process (its pid in BUNDLE/pid) and
# runs the bundle's prestart hook as runc would (cwd = bundle, only the
# hook's own environment, the state on stdin)
run_hook() {
	local b=$1 id=$2 pid
	unshare -m --propagation private sleep 1000 &
	pid=$!
	test_track_pid $pid
	echo $pid >"$b/pid"
	# unshare has made its namespace once the two differ (asked anew each time)
	test_wait_for 5 sh -c "test \"\$(readlink /proc/$pid/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\"" ||
		{ echo "run_hook: no mount namespace for $pid" >&2; return 1; }
	grep -qF "\"prestart\":[{\"path\":\"$GENV_REAL\",\"args\":[\"genv-container-runtime-hook\"]" "$b/config.json" || return 1
	printf '{"ociVersion":"1.0.2","id":"%s","status":"created","pid":%d,"bundle":"%s"}' \
		"$id" $pid "$b" |
	(cd "$b" && env -i GENV_TMPDIR="$GENV_TMPDIR" GENV_NVML_LIBRARY="$GENV_NVML_LIBRARY" \
		GENV_FAKE_NVML_CONFIG="$GENV_FAKE_NVML_CONFIG" PATH=/usr/bin:/bin \
		ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
		bash -c 'exec -a genv-container-runtime-hook "$0"' "$GENV_REAL")
}

# in_ns BUNDLE CMD...: CMD in the mount namespace of the bundle's init
in_ns() { local b=$1; shift; nsenter -m -t "$(cat "$b/pid")" "$@"; }

test_expect_success 'create: the container environment and the hook, then runc with the same argv' '
	bundle "$TRASH/b1" PATH=/usr/bin:/bin HOME=/root "GENV_GPU_MEMORY=4g" &&
	genv-container-runtime --root /run/x --log /tmp/l --log-format json create \
		--bundle "$TRASH/b1" --pid-file /run/x/pid c1 &&
	printf "%s\n" "$RT/runc" --root /run/x --log /tmp/l --log-format json create \
		--bundle "$TRASH/b1" --pid-file /run/x/pid c1 >want &&
	test_cmp want "$LOG/argv" &&
	grep -qF "\"env\":[\"PATH=/opt/genv/shims:/usr/bin:/bin\",\"HOME=/root\",\"GENV_GPU_MEMORY=4g\",\"GENV_CONTAINER=1\",\"GENV_ENVIRONMENT_ID=c1\"]" "$LOG/config.json" &&
	grep -qF "\"hooks\":{\"prestart\":[{\"path\":\"$GENV_REAL\",\"args\":[\"genv-container-runtime-hook\"],\"env\":[" "$LOG/config.json" &&
	grep -qF "\"GENV_TMPDIR=$GENV_TMPDIR\"" "$LOG/config.json" &&
	grep -qF "\"hostname\":\"c\",\"mounts\":[{\"destination\":\"/proc\"" "$LOG/config.json"
'

test_expect_success 'create in the current directory; the bundle'\''s own hooks are kept' '
	bundle "$TRASH/b2" "GENV_ENVIRONMENT_ID=a=b=c" GENV_MOUNT_SHIMS=0 &&
	sed -i "s/}}\$/},\"hooks\":{\"prestart\":[{\"path\":\"\/bin\/true\"}]}}/" "$TRASH/b2/config.json" &&
	(cd "$TRASH/b2" && genv-container-runtime create c2) &&
	grep -qF "\"env\":[\"GENV_ENVIRONMENT_ID=a=b=c\",\"GENV_MOUNT_SHIMS=0\",\"GENV_CONTAINER=1\"]" "$LOG/config.json" &&
	grep -qF "\"prestart\":[{\"path\":\"/bin/true\"},{\"path\":\"$GENV_REAL\"" "$LOG/config.json"
'

test_expect_success 'no PATH in the bundle: the default one after the shims; GENV_ACTIVATE=0: no id' '
	bundle "$TRASH/b3" GENV_ACTIVATE=0 &&
	genv-container-runtime create --bundle="$TRASH/b3" c3 &&
	grep -qF "\"env\":[\"GENV_ACTIVATE=0\",\"GENV_CONTAINER=1\",\"PATH=/opt/genv/shims:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]" "$LOG/config.json"
'

test_expect_success 'exec --process: the same environment for the new process' '
	echo "{\"args\":[\"sh\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}" >proc.json &&
	genv-container-runtime exec --process "$TRASH/proc.json" --detach c1 &&
	printf "%s" "{\"args\":[\"sh\"],\"env\":[\"PATH=/opt/genv/shims:/bin\",\"GENV_CONTAINER=1\",\"GENV_ENVIRONMENT_ID=c1\"],\"cwd\":\"/\"}" >want &&
	test_cmp want "$LOG/process.json"
'

test_expect_success 'other commands and a container named create pass through untouched' '
	cp "$TRASH/b3/config.json" before &&
	genv-container-runtime state create &&
	printf "%s\n" "$RT/runc" state create >want && test_cmp want "$LOG/argv" &&
	genv-container-runtime --version &&
	test_cmp before "$TRASH/b3/config.json"
'

test_expect_success 'the exit status of the real runtime is the runtime'\''s' '
	FAKE_RUNC_EXIT=7 test_expect_code 7 genv-container-runtime delete c1
'

test_expect_success 'nvidia-container-runtime comes first; none at all is a clear error' '
	mkdir -p nv && cp "$RT/runc" nv/nvidia-container-runtime &&
	PATH="$TRASH/nv:$PATH" genv-container-runtime start c1 &&
	head -n 1 "$LOG/argv" >got && echo "$TRASH/nv/nvidia-container-runtime" >want &&
	test_cmp want got &&
	PATH="$TRASH/empty" test_expect_code 1 "$BUILD/bin/genv-container-runtime" start c1 2>err &&
	echo "genv-container-runtime: Could not find a container runtime (nvidia-container-runtime, runc or crun) on PATH" >want &&
	test_cmp want err
'

test_expect_success 'hook: registers the environment for the init pid and attaches its devices' '
	bundle "$TRASH/h1" PATH=/bin GENV_GPUS=2 GENV_GPU_MEMORY=4g &&
	genv-container-runtime create --bundle "$TRASH/h1" box1 &&
	run_hook "$TRASH/h1" box1 &&
	pid=$(cat "$TRASH/h1/pid") &&
	genv envs query --eid box1 --query eid config.gpus config.gpu_memory pids >out &&
	echo "box1,2,4g,$pid" >want && test_cmp want out &&
	genv devices find --eid box1 >out && echo 0,1 >want && test_cmp want out &&
	grep -qF "\"GENV_ENVIRONMENT_ID=box1\",\"NVIDIA_VISIBLE_DEVICES=0,1\"]" "$TRASH/h1/config.json"
'

test_expect_success 'hook: the shim (read-only) and the device locks are mounted in the container only' '
	b=$TRASH/h1 &&
	in_ns "$b" findmnt -n -o OPTIONS "$b/rootfs/opt/genv/shims/nvidia-smi" >opts &&
	grep -q "^ro," opts && grep -q nosuid opts &&
	in_ns "$b" cmp "$b/rootfs/opt/genv/shims/nvidia-smi" "$SHIM_SRC" &&
	for i in 0 1; do
		in_ns "$b" findmnt -n -o OPTIONS "$b/rootfs/var/tmp/genv/devices/$i.lock" | grep -q "^rw," &&
		test -e "$GENV_TMPDIR/devices/$i.lock" || return 1
	done &&
	test "$(stat -c %a "$GENV_TMPDIR/devices/0.lock")" = 666 &&
	in_ns "$b" sh -c "echo locked >\"$b/rootfs/var/tmp/genv/devices/1.lock\"" &&
	grep -q locked "$GENV_TMPDIR/devices/1.lock" &&
	! test -e "$b/rootfs/var/tmp/genv/devices/2.lock" &&
	! findmnt -n "$b/rootfs/opt/genv/shims/nvidia-smi" >/dev/null
'

test_expect_success 'hook: the environment ends with the container init' '
	kill "$(cat "$TRASH/h1/pid")" &&
	test_wait_for 5 sh -c "! kill -0 $(cat "$TRASH/h1/pid") 2>/dev/null" &&
	genv envs query --eid box1 --query eid >out && test ! -s out &&
	genv devices find --eid box1 >out && echo >want && test_cmp want out
'

test_expect_success 'hook: too many devices fails the container and registers nothing' '
	bundle "$TRASH/h2" GENV_GPUS=5 &&
	genv-container-runtime create --bundle "$TRASH/h2" box2 &&
	test_expect_code 1 run_hook "$TRASH/h2" box2 2>err &&
	grep -q "genv-container-runtime-hook: No available devices" err &&
	genv envs query --eid box2 --query eid >out && test ! -s out
'

test_expect_success 'hook: GENV_ATTACH=0 registers without devices' '
	bundle "$TRASH/h3" GENV_GPUS=1 GENV_ATTACH=0 &&
	genv-container-runtime create --bundle "$TRASH/h3" box3 &&
	run_hook "$TRASH/h3" box3 &&
	genv envs query --eid box3 --query eid config.gpus >out && echo box3,1 >want && test_cmp want out &&
	genv devices find --eid box3 >out && echo >want && test_cmp want out &&
	! grep -q NVIDIA_VISIBLE_DEVICES "$TRASH/h3/config.json" &&
	! in_ns "$TRASH/h3" findmnt -n "$TRASH/h3/rootfs/var/tmp/genv/devices/0.lock"
'

test_expect_success 'hook: GENV_ACTIVATE=0 with device locks mounts those of the environment named (1.4.3: NameError)' '
	sleep 1000 &
	holder=$! && test_track_pid $holder &&
	genv envs activate --eid shared --uid 0 --pid $holder &&
	genv devices attach --eid shared --index 3 >/dev/null &&
	bundle "$TRASH/h4" GENV_ACTIVATE=0 GENV_ENVIRONMENT_ID=shared GENV_MOUNT_SHIMS=0 &&
	genv-container-runtime create --bundle "$TRASH/h4" box4 &&
	run_hook "$TRASH/h4" box4 &&
	in_ns "$TRASH/h4" findmnt -n "$TRASH/h4/rootfs/var/tmp/genv/devices/3.lock" >/dev/null &&
	! in_ns "$TRASH/h4" findmnt -n "$TRASH/h4/rootfs/opt/genv/shims/nvidia-smi" &&
	genv envs query --eid shared --query pids >out && echo $holder >want && test_cmp want out &&
	bundle "$TRASH/h5" GENV_ACTIVATE=0 &&
	genv-container-runtime create --bundle "$TRASH/h5" box5 &&
	run_hook "$TRASH/h5" box5 &&
	genv envs query --eid box5 --query eid >out && test ! -s out
'

test_expect_success 'hook: symlinks in the image are resolved inside its rootfs, never on the host' '
	mkdir -p "$TRASH/hostdir" "$TRASH/h7/rootfs/opt" "$TRASH/h7/rootfs/var/tmp" "$TRASH/h7/rootfs/srv/locks" &&
	ln -s /srv/locks "$TRASH/h7/rootfs/var/tmp/genv" &&
	ln -s "$TRASH/hostdir" "$TRASH/h7/rootfs/opt/genv" &&
	bundle "$TRASH/h7" GENV_GPUS=1 &&
	genv-container-runtime create --bundle "$TRASH/h7" box7 &&
	test_expect_code 1 run_hook "$TRASH/h7" box7 2>err &&
	grep -q "cannot create the mount point (inside the image) '\''opt/genv/shims/nvidia-smi'\''" err &&
	test -z "$(ls -A "$TRASH/hostdir")" &&
	genv envs query --eid box7 --query eid >out && test ! -s out &&
	bundle "$TRASH/h8" GENV_GPUS=1 GENV_MOUNT_SHIMS=0 &&
	rm -rf "$TRASH/h8/rootfs" && cp -a "$TRASH/h7/rootfs" "$TRASH/h8/rootfs" &&
	genv-container-runtime create --bundle "$TRASH/h8" box8 &&
	run_hook "$TRASH/h8" box8 &&
	in_ns "$TRASH/h8" findmnt -n "$TRASH/h8/rootfs/srv/locks/devices/0.lock" >/dev/null &&
	test -z "$(ls -A "$TRASH/hostdir")"
'

test_expect_success 'hook: a bad state or configuration is an error, not a crash' '
	echo "{}" | (cd "$TRASH/h5" && test_expect_code 1 bash -c "exec -a genv-container-runtime-hook \"\$0\"" "$GENV_REAL") 2>err &&
	echo "genv-container-runtime-hook: the OCI state has no container pid" >want &&
	test_cmp want err &&
	bundle "$TRASH/h6" GENV_GPUS=two &&
	genv-container-runtime create --bundle "$TRASH/h6" box6 &&
	test_expect_code 1 run_hook "$TRASH/h6" box6 2>err &&
	grep -q "GENV_GPUS must be a count of devices, not '\''two'\''" err
'

test_done
