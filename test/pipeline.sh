#!/bin/bash
# test/pipeline.sh run -- the whole pipeline on this machine, on the default
# configuration (conf/tern.conf), under ./run; Ctrl-C stops everything.
#
# TERN_RUNDIR points the default socket and database paths into ./run, so
# nothing outside the checkout is touched.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/$BUILD
run=$top/run
mkdir -p "$run"
export TERN_RUNDIR=$run
conf=$top/conf/tern.conf
pids=()

stop() {
	echo
	echo "stopping: ${pids[*]}"
	# Producers first, so the writer's last commit includes their samples.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[$i]}" 2>/dev/null
		wait "${pids[$i]}" 2>/dev/null
	done
	exit 0
}
trap stop INT TERM

"$B/tern-writer" -f "$conf" &
pids+=($!)
for _ in $(seq 100); do
	"$B/ternctl" -f "$conf" status >/dev/null 2>&1 && break
	sleep 0.1
done
for prog in tern-sampler tern-uploader tern-receiver; do
	[ -x "$B/$prog" ] || continue
	"$B/$prog" -f "$conf" &
	pids+=($!)
done

cat <<MSG

tern is running under $run (database $run/tern.db).
  watch frames:   TERN_RUNDIR=$run $B/ternctl tap
  writer status:  TERN_RUNDIR=$run $B/ternctl status
  raw samples:    TERN_RUNDIR=$run $B/ternctl dump
Ctrl-C stops everything.
MSG
wait
