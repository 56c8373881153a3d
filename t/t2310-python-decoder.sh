#!/usr/bin/env bash
# t2310-python-decoder.sh: what Python genv 1.4.3 would make of our JSON.
# 1.4.3 recognises objects by their exact key set (spec §4.6) and writes
# with json.dumps(indent=2); an independent reader written from that rule
# (Python's own json module, no genv code) must recognise every object we
# print or store, and re-dumping must give back our bytes. Skipped when no
# python3 is installed (it is not a build or run dependency).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "# skipped: python3 is not installed"
	test_done
	exit
fi

cat >"$TRASH/decode.py" <<'PY'
import json, sys
kinds = {
    frozenset(["index", "total_memory", "attachments"]): "Device",
    frozenset(["eid", "gpu_memory", "time"]): "Attachment",
    frozenset(["devices"]): "Devices",
    frozenset(["eid", "uid", "creation", "username", "config", "pids", "kernel_ids"]): "Env",
    frozenset(["name", "gpu_memory", "gpus"]): "Config",
    frozenset(["envs"]): "Envs",
    frozenset(["pid", "used_gpu_memory", "eid"]): "Process",
    frozenset(["index", "gpu_memory"]): "Usage",
    frozenset(["processes"]): "Processes",
    frozenset(["processes", "envs", "devices"]): "Snapshot",
    frozenset(["terminate", "detach"]): "Report",
}
unknown = []
def hook(d):
    kind = kinds.get(frozenset(d))
    if kind is None and not all(k.isdigit() for k in d):   # detach maps index -> Envs
        unknown.append(sorted(d))
    return kind
want, path, style = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
top = json.loads(text, object_hook=hook)
plain = json.loads(text)
redump = json.dumps(plain, indent=2) if style == "indent" else json.dumps(plain)
if text.endswith("\n"):
    redump += "\n"
if top != want or unknown or redump != text:
    print("top:", top, "unknown:", unknown, "byte-identical:", redump == text)
    sys.exit(1)
PY
decode() { python3 "$TRASH/decode.py" "$@"; }

spawn_sleeper P1
spawn_sleeper P2
fake_gpus 3
fake_proc 0 "$P1" 300
fake_proc 1 "$P1" 200
fake_proc 2 "$P2" 42

test_expect_success 'setup: envs with names, memory, no username, several pids' '
	genv envs activate --eid e1 --uid 1000 --username alice --pid $P1 &&
	genv envs activate --eid e1 --uid 1000 --username alice --pid $P2 &&
	genv envs config --eid e1 name --name "ünïcode name" &&
	genv envs config --eid e1 gpu-memory --gpu-memory 4g &&
	genv envs activate --eid e2 --uid 1001 --pid $P2 &&
	genv devices attach --eid e1 --count 2 >/dev/null &&
	genv devices attach --eid e2 --index 2 >/dev/null
'

test_expect_success 'state files: every object recognised, bytes as json.dumps(indent=2)' '
	decode Envs "$GENV_TMPDIR/envs.json" indent &&
	decode Devices "$GENV_TMPDIR/devices.json" indent
'

test_expect_success 'usage snapshot (full and each type): recognised, byte-identical' '
	genv usage snapshot >snap 2>/dev/null && decode Snapshot snap indent &&
	genv usage snapshot --type devices >d && decode Devices d indent &&
	genv usage snapshot --type envs >e && decode Envs e indent &&
	genv usage snapshot --type processes >p 2>/dev/null && decode Processes p indent
'

test_expect_success 'an empty state is recognised too' '
	GENV_TMPDIR=$TRASH/empty genv usage snapshot --type envs >e0 &&
	decode Envs e0 indent &&
	GENV_TMPDIR=$TRASH/empty genv usage snapshot --type devices >d0 &&
	decode Devices d0 indent
'

test_done
