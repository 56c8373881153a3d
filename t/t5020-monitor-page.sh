#!/usr/bin/env bash
# t5020-monitor-page.sh: genv monitor's live page in a real browser
# (headless Chromium, Debian's): it loads from the monitor alone (no
# external asset), fetches /api/snapshot and renders every GPU with its
# holder and processes, and the environments; hostile environment and
# user names are rendered as inert text (no element, no script).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-monitor.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ] || ! command -v curl >/dev/null; then
	echo "# skipping t5020: chromium or curl is not installed (contrib/install-deps.sh installs them)"
	test_done
	exit
fi

uid=$(id -u)
sleep 1000 & S1=$!; test_track_pid $S1
sleep 1000 & S2=$!; test_track_pid $S2
GENV_ENVIRONMENT_ID=m1 sleep 1000 & P1=$!; test_track_pid $P1
sleep 1000 & Q=$!; test_track_pid $Q
inventory_set "watch
gpu 0 GPU-aaaaaaaa-0000-4000-8000-000000000000 16384 NVIDIA Fake A100
gpu 1 GPU-bbbbbbbb-0000-4000-8000-000000000001 81920 NVIDIA Fake H100
gpu 2 GPU-cccccccc-0000-4000-8000-000000000002 81920 NVIDIA Fake H100
util 0 55 12
temp 0 61
power 0 251.5 400
proc 0 $P1 4096
proc 2 $Q 512"
HOSTILE_NAME='<img src=x onerror="document.title=`pwned`">'
HOSTILE_USER='</script><script>document.title="pwned2"</script>'
genv envs activate --eid m1 --uid "$uid" --username alice --pid $S1 &&
genv envs config --eid m1 name --name train-llm &&
genv devices attach --eid m1 --index 0 >/dev/null &&
genv envs activate --eid evil --uid "$uid" --username "$HOSTILE_USER" --pid $S2 &&
genv envs config --eid evil name --name "$HOSTILE_NAME" &&
genv devices attach --eid evil --index 1 >/dev/null || exit 1
sleep 0.2

monitor_start --interval 1 --config-dir "$TRASH/config" || exit 1

# chromium_run ARG...: headless, throw-away profile, nothing phoning home
chromium_run() {
	rm -rf "$TRASH/chrome-profile"
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-default-apps \
		--user-data-dir="$TRASH/chrome-profile" --virtual-time-budget=10000 "$@" 2>>"$TRASH/chrome.log"
}

test_expect_success 'the page is self-contained: no external URL, a nonce CSP' '
	curl -sS -D headers -o page.html "$MONITOR_URL/" &&
	! grep -Eiq "(src|href)=\"(https?:)?//" page.html &&
	! grep -q "@NONCE@" page.html &&
	nonce=$(sed -n "s/.*<script nonce=\"\([0-9a-f]*\)\">.*/\1/p" page.html) &&
	test ${#nonce} = 32 &&
	grep -qi "^Content-Security-Policy: default-src .none.; script-src .nonce-$nonce.;" headers &&
	curl -sS -o page2.html "$MONITOR_URL/" &&
	! grep -q "nonce=\"$nonce\"" page2.html
'

test_expect_success 'headless Chromium renders GPUs, holders, processes and environments' '
	chromium_run --dump-dom "$MONITOR_URL/" >dom.html &&
	grep -q "id=\"gpu-0\"" dom.html &&
	grep -q "id=\"gpu-1\"" dom.html &&
	grep -q "id=\"gpu-2\"" dom.html &&
	grep -q "<span class=\"who\">train-llm (m1)</span>" dom.html &&
	grep -q "<span class=\"user\">alice</span>" dom.html &&
	grep -q "<span class=\"since\">since [0-9]* seconds\? ago</span>" dom.html &&
	grep -q "NVIDIA Fake A100" dom.html &&
	grep -q "<td class=\"num\">$P1</td><td>train-llm (m1)</td>" dom.html &&
	grep -q "<td class=\"num\">$Q</td><td><span class=\"badge outside\">outside any environment</span>" dom.html &&
	grep -q "<tr id=\"env-m1\"><td class=\"name\">train-llm</td><td>m1</td><td class=\"user\">alice</td>" dom.html &&
	grep -q "class=\"badge free\">free<" dom.html &&
	grep -q "<div class=\"n\">3</div><div class=\"l\">GPUs</div>" dom.html &&
	grep -q "<div class=\"n\">2</div><div class=\"l\">GPU processes</div>" dom.html
'

test_expect_success 'hostile names are shown as text, inert' '
	grep -qF "&lt;img src=x onerror=\"document.title=\`pwned\`\"&gt; (evil)" dom.html &&
	grep -qF "&lt;/script&gt;&lt;script&gt;document.title=\"pwned2\"&lt;/script&gt;" dom.html &&
	! grep -q "<img" dom.html &&
	test "$(grep -c "<script" dom.html)" = 1 &&
	grep -q "<title>genv monitor: " dom.html &&
	! grep -q "pwned</title>\|pwned2</title>" dom.html
'

test_expect_success 'a screenshot of the page' '
	chromium_run --window-size=1280,900 --screenshot="$TRASH/shot.png" "$MONITOR_URL/" &&
	test "$(head -c 8 "$TRASH/shot.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a &&
	test "$(stat -c %s "$TRASH/shot.png")" -gt 10000
'

test_done
