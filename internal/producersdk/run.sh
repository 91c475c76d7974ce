#!/usr/bin/env bash
# End-to-end check of AWS's KVS C producer SDK against kvsemu: see README.md
# next to this script for how to build and install the SDK first.
#
#   internal/producersdk/run.sh [REPO_DIR]
#
# builds kvsemu and kvsdump from REPO_DIR (default: the checkout this script
# is in), kvsprobe (kvsprobe.c against the installed SDK) and kvsproxy (from
# this checkout); starts kvsemu and the logging proxy kvsproxy in front of
# it; runs kvsprobe through the proxy; reads the stream back with kvsdump;
# stops what it started (by PID); prints a summary and exits 0 (PASS) only if
# the SDK created the stream, stopped cleanly with no stream error, and every
# frame put is stored.
#
# Environment:
#   KVS_SDK_PREFIX=$HOME/kvs-producer-sdk  where the PIC and producer SDK are installed
#   KVS_SDK_FRAMES=$KVS_SDK_PREFIX/share/h264SampleFrames  the SDK's samples/h264SampleFrames
#   SECONDS_TO_STREAM=10   how long kvsprobe puts frames (25 fps, a key frame every 45)
#   TAGS=1                 give the stream two tags (the SDK calls TagStream)
#   EOFR=0                 1: put an EOFR frame before each key frame, as the SDK's realtime sample does
#   METADATA=0             N fragment metadata pairs after each key frame (the realtime sample uses 9)
#   STREAM=csdk-<time>     stream name
#   KVSEMU_FLAGS=-no-limits extra kvsemu flags
#   AWS_KVS_LOG_LEVEL=4    SDK log level (1 verbose .. 7 off)
#   PROBE_TIMEOUT=200      seconds before kvsprobe is killed
#   PROXY=1                0: the SDK talks to kvsemu directly (no request log, no PutMedia copies)
#   OUT=${TMPDIR:-/tmp}/kvsprobe-<time>  where binaries, logs and PutMedia bodies go
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REPO=$(cd "${1:-$ROOT}" && pwd) || exit 2
PREFIX=${KVS_SDK_PREFIX:-$HOME/kvs-producer-sdk}
FRAMES=${KVS_SDK_FRAMES:-$PREFIX/share/h264SampleFrames}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-${TMPDIR:-/tmp}/kvsprobe-$STAMP}
SECS=${SECONDS_TO_STREAM:-10}
TAGS=${TAGS:-1}
EOFR=${EOFR:-0}
METADATA=${METADATA:-0}
STREAM=${STREAM:-csdk-$STAMP}
KVSEMU_FLAGS=${KVSEMU_FLAGS:--no-limits}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-200}
PROXY_ON=${PROXY:-1}
export AWS_KVS_LOG_LEVEL=${AWS_KVS_LOG_LEVEL:-4}

if [ ! -f "$PREFIX/include/com/amazonaws/kinesis/video/cproducer/Include.h" ] || [ ! -e "$PREFIX/lib/libcproducer.so" ]; then
	echo "run.sh: no producer SDK installed in $PREFIX (set KVS_SDK_PREFIX; see $HERE/README.md)" >&2
	exit 2
fi
if [ ! -f "$FRAMES/frame-001.h264" ]; then
	echo "run.sh: no frame-001.h264 in $FRAMES (set KVS_SDK_FRAMES to the SDK's samples/h264SampleFrames)" >&2
	exit 2
fi
mkdir -p "$OUT/bin" || exit 2
BIN=$OUT/bin

echo "== building kvsemu and kvsdump from $REPO ($(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null | cut -c1-70))"
(cd "$REPO" && go build -o "$BIN/" ./examples/kvsemu ./examples/kvsdump) || exit 2
(cd "$ROOT" && go build -o "$BIN/kvsproxy" ./internal/producersdk/kvsproxy) || exit 2
gcc -O1 -g -Wall -o "$BIN/kvsprobe" "$HERE/kvsprobe.c" -I"$PREFIX/include" -L"$PREFIX/lib" \
	-Wl,-rpath,"$PREFIX/lib" -lcproducer -lkvsCommonCurl -lkvspicUtils -lpthread || exit 2

EMU_PID=
PROXY_PID=
cleanup() {
	[ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
	wait $PROXY_PID $EMU_PID 2>/dev/null
	PROXY_PID= EMU_PID=
}
trap cleanup EXIT

"$BIN/kvsemu" -addr 127.0.0.1:0 -env "$OUT/kvsemu.env" $KVSEMU_FLAGS >/dev/null 2>"$OUT/kvsemu.log" &
EMU_PID=$!
until [ -s "$OUT/kvsemu.env" ] || ! kill -0 $EMU_PID 2>/dev/null; do sleep 0.1; done
[ -s "$OUT/kvsemu.env" ] || { echo "kvsemu did not start:"; cat "$OUT/kvsemu.log"; exit 2; }
# shellcheck disable=SC1091
. "$OUT/kvsemu.env"
ENDPOINT=$AWS_ENDPOINT_URL
URL=$ENDPOINT
if [ "$PROXY_ON" != 0 ]; then
	"$BIN/kvsproxy" -listen 127.0.0.1:0 -target "$ENDPOINT" -dir "$OUT" >"$OUT/requests.log" 2>&1 &
	PROXY_PID=$!
	until grep -q 'listening on' "$OUT/requests.log" || ! kill -0 $PROXY_PID 2>/dev/null; do sleep 0.1; done
	URL=$(sed -n 's/.*listening on //p' "$OUT/requests.log")
	[ -n "$URL" ] || { echo "kvsproxy did not start:"; cat "$OUT/requests.log"; exit 2; }
fi

echo "== kvsprobe: $SECS s into stream $STREAM via $URL (kvsemu $ENDPOINT), tags=$TAGS eofr=$EOFR metadata=$METADATA"
T0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
timeout "$PROBE_TIMEOUT" "$BIN/kvsprobe" "$URL" "$STREAM" "$FRAMES" "$SECS" "$TAGS" "$EOFR" "$METADATA" \
	>"$OUT/probe.out" 2>"$OUT/probe.log"
PROBE_RC=$?
T1=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
RESULT=$(grep '^RESULT' "$OUT/probe.out")
echo "kvsprobe exit $PROBE_RC"
echo "$RESULT"

echo "== kvsdump -stream $STREAM -start $T0 -end $T1"
"$BIN/kvsdump" -endpoint "$ENDPOINT" -stream "$STREAM" -start "$T0" -end "$T1" >"$OUT/kvsdump.jsonl" 2>"$OUT/kvsdump.err"
echo "kvsdump exit $? ($(wc -l <"$OUT/kvsdump.jsonl") fragments)"
STORED=$(grep -o '"frames":[0-9]*' "$OUT/kvsdump.jsonl" | awk -F: '{ n += $2 } END { print n + 0 }')
echo "frames stored: $STORED"

if [ -s "$OUT/requests.log" ]; then
	echo "== requests (all of it in $OUT/requests.log)"
	grep -E '^ *[0-9.]+ms #[0-9]+ (POST|GET|PUT)|response [0-9]{3}|marker' "$OUT/requests.log" |
		sed -E 's/ HTTP\/1\.1 host=[^ ]*//; s/ content-length=/ len=/'
	echo "== acks per fragment (FragmentTimecode: event types in order)"
	grep ' ack {' "$OUT/requests.log" | awk '
		match($0, /"EventType":"[A-Z]*"/) { ev = substr($0, RSTART + 13, RLENGTH - 14) }
		match($0, /"FragmentTimecode":[0-9]*/) {
			tc = substr($0, RSTART + 19, RLENGTH - 19)
			if (!(tc in acks)) order[++n] = tc
			acks[tc] = acks[tc] " " ev
		}
		END { for (i = 1; i <= n; i++) print "  " order[i] ":" acks[order[i]] }'
	echo "other acks: $(grep ' ack {' "$OUT/requests.log" | grep -vc FragmentTimecode) (IDLE and the like)"
	for f in "$OUT"/putmedia-*.mkv; do
		[ -s "$f" ] || continue
		"$BIN/kvsdump" -frames "$f" >"${f%.mkv}.frames.jsonl" 2>"${f%.mkv}.kvsdump.err"
		echo "$(basename "$f"): $(stat -c %s "$f") bytes, kvsdump exit $?, $(grep -c '"keyframe":' "${f%.mkv}.frames.jsonl") frames"
	done
fi

cleanup
trap - EXIT
PUT=$(sed -E 's/.*frames_put=([0-9]+).*/\1/' <<<"$RESULT")
echo "== output in $OUT"
if [ "$PROBE_RC" = 0 ] && [ "${PUT:-x}" = "$STORED" ]; then
	echo "PASS: stopped cleanly, $STORED of $PUT frames stored"
	exit 0
fi
echo "FAIL: kvsprobe exit $PROBE_RC, ${STORED:-?} of ${PUT:-?} frames stored"
exit 1
