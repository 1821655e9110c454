#!/usr/bin/env bash
# Two or more builds of the binary timed alternately on the same log, so that the machine's
# slow and fast spells fall on all of them alike: prints each build's wall times (s), one
# line per build. The A/B figures of docs/performance.md come from this loop.
#
#   scripts/ab_summarize.sh OLD_BINARY NEW_BINARY      (N rounds, default 5; LOG, default
#   N=6 LOG=DIR/transactions_10000000.csv scripts/ab_summarize.sh A B   the 10^7-row log of
#                                                       `perf_compare -- DIR --big --data-only`)
set -euo pipefail
N=${N:-5}
LOG=${LOG:-/tmp/pc/transactions_10000000.csv}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$N"); do
  for b in "$@"; do
    /usr/bin/time -o "$out/t" -f "%e" "$b" summarize --transactions "$LOG" \
      --calibration-end 2025-01-01 --observation-end 2025-06-30 -o "$out/summary.csv" --quiet \
      >/dev/null 2>&1
    echo "$b $(cat "$out/t")"
  done
done | awk '{a[$1]=a[$1]" "$2} END{for(k in a) print k":"a[k]}'
