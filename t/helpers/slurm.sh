# shellcheck shell=bash
# t/helpers/slurm.sh: a real one-node Slurm cluster for the tests, under a
# temporary directory on loopback: a private munged, slurmctld and slurmd
# (Debian's packages), with 4 fake GPUs (device nodes made with mknod,
# gres.conf AutoDetect=off). Sourced by t/t8000-slurm.sh.
#
#   slurm_start DIR [cgroup]  starts it (cgroup: task/cgroup + ConstrainDevices);
#                             exports SLURM_CONF; returns 2 when it cannot start
#   slurm_stop                cancels every job and stops the daemons by pid
#
# Daemons are stopped by the pids recorded here, never by name; slurmstepd
# daemonizes, so a leftover one is found through its spool socket.

slurm_have() {
	command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
		command -v munged >/dev/null && command -v mungekey >/dev/null &&
		command -v srun >/dev/null
}

# A free TCP port on loopback.
slurm_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# Whether task/cgroup with the devices controller (cgroup v1) can work here.
slurm_cgroup_possible() {
	[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/devices ] &&
		[ -w /sys/fs/cgroup/devices ] && [ -d /sys/fs/cgroup/freezer ]
}

slurm_write_conf() {
	local dir=$1 mode=$2 host
	host=$(hostname -s)
	cat >"$dir/slurm.conf" <<EOF
ClusterName=genvtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge-run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=$([ "$mode" = cgroup ] && echo task/cgroup || echo task/none)
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
SlurmdParameters=config_overrides
SchedulerParameters=sched_interval=1
KillWait=2
MinJobAge=30
MailProg=/bin/true
ReturnToService=2
LaunchParameters=use_interactive_step
Epilog=${SLURM_TEST_EPILOG:-}
NodeName=gpunode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=8 RealMemory=1000 Gres=gpu:4 State=UNKNOWN
PartitionName=debug Nodes=gpunode Default=YES MaxTime=INFINITE State=UP
EOF
	[ -n "${SLURM_TEST_EPILOG:-}" ] || sed -i '/^Epilog=$/d' "$dir/slurm.conf"
	cat >"$dir/gres.conf" <<EOF
AutoDetect=off
NodeName=gpunode Name=gpu File=$dir/dev/nvidia[0-3]
EOF
	if [ "$mode" = cgroup ]; then
		cat >"$dir/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainDevices=yes
ConstrainCores=no
ConstrainRAMSpace=no
EOF
	fi
}

# Waits up to 10 s for a command to succeed.
slurm_wait() {
	local i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

slurm_node_idle() { sinfo -h -n gpunode -o %t | grep -qx idle; }

slurm_start() {
	local dir=$1 mode=${2:-none} n p
	SLURM_TEST_DIR=$dir
	mkdir -p "$dir/munge-key" "$dir/munge-run" "$dir/state" "$dir/spool/slurmd-gpunode" "$dir/dev"
	chmod 700 "$dir/munge-key"
	chmod 755 "$dir" "$dir/munge-run"
	# munged wants every directory above its socket searchable by all
	# (mktemp -d makes them 0700)
	p=$(dirname "$dir")
	while [ "$p" != / ]; do
		[ "$(stat -c %A "$p" | tr -d rw-)" = dxxx ] || chmod a+x "$p" || return 2
		p=$(dirname "$p")
	done
	for n in 0 1 2 3; do
		mknod "$dir/dev/nvidia$n" c 195 $n 2>/dev/null || return 2
	done
	slurm_write_conf "$dir" "$mode"
	export SLURM_CONF="$dir/slurm.conf"
	mungekey -c -k "$dir/munge-key/munge.key" 2>/dev/null || return 2
	munged -F --key-file "$dir/munge-key/munge.key" --socket="$dir/munge-run/munge.socket" \
		--pid-file "$dir/munged.pid" --log-file "$dir/munged.log" \
		--seed-file "$dir/munge.seed" >"$dir/munged.out" 2>&1 &
	SLURM_MUNGED_PID=$!
	slurm_wait test -S "$dir/munge-run/munge.socket" || return 2
	slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
	SLURM_CTLD_PID=$!
	slurm_wait scontrol ping || return 2
	slurmd -D -f "$SLURM_CONF" -N gpunode >"$dir/slurmd.out" 2>&1 &
	SLURM_D_PID=$!
	slurm_wait slurm_node_idle || return 2
	printf '%s\n' "$SLURM_MUNGED_PID" "$SLURM_CTLD_PID" "$SLURM_D_PID" >"$dir/daemon-pids"
	return 0
}

# Pids of slurmstepd processes listening on a socket in our spool dir.
slurm_stepd_pids() {
	ss -xlp 2>/dev/null | grep -F "$SLURM_TEST_DIR/spool/" |
		sed -n 's/.*pid=\([0-9]*\).*/\1/p' | sort -u
}

slurm_stop() {
	local pid i
	[ -n "${SLURM_TEST_DIR:-}" ] || return 0
	if [ -n "${SLURM_CTLD_PID:-}" ] && kill -0 "$SLURM_CTLD_PID" 2>/dev/null; then
		scancel --full --user="$(id -un)" 2>/dev/null
		for i in $(seq 50); do
			[ -z "$(slurm_stepd_pids)" ] && break
			sleep 0.1
		done
	fi
	for pid in $(slurm_stepd_pids); do kill -9 "$pid" 2>/dev/null; done
	for pid in ${SLURM_D_PID:-} ${SLURM_CTLD_PID:-} ${SLURM_MUNGED_PID:-}; do
		kill "$pid" 2>/dev/null
	done
	for pid in ${SLURM_D_PID:-} ${SLURM_CTLD_PID:-} ${SLURM_MUNGED_PID:-}; do
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# cgroup mode: the (empty) hierarchies task/cgroup made for the node
	for d in /sys/fs/cgroup/*/slurm_gpunode; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	SLURM_D_PID= SLURM_CTLD_PID= SLURM_MUNGED_PID=
}
