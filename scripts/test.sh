#!/usr/bin/env bash
# `npm test`: the type check and Biome run beside vitest instead of before it, and every one of
# the three must pass. vitest alone leaves part of the two cores idle (files waiting for the
# shared synth, the last files of a worker); tsc and Biome, at a lower priority, use those gaps
# instead of adding their ~6 s of CPU in front of the suite. Arguments go to vitest.
#
# tsc runs single-threaded: TypeScript 7's parallel checkers repeat work (8.6 s of CPU on
# both cores against 4.6 s on one), and beside vitest no core is free for them anyway.
set -u

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Their output is printed later: coloured only when it goes to a terminal.
if [ -t 1 ]; then colors=(--pretty true --colors=force); else colors=(--pretty false --colors=off); fi

# GOGC=400: TypeScript 7 is a Go program; its collector, run less often, costs ~1.3 s less CPU
# for ~50 MB more memory (vitest.config.mts sets the same for esbuild).
GOGC=400 nice -n 10 tsc --noEmit -p . --singleThreaded "${colors[0]}" "${colors[1]}" >"$logs/tsc" 2>&1 &
tsc_pid=$!
nice -n 10 biome ci . "${colors[2]}" >"$logs/biome" 2>&1 &
biome_pid=$!

vitest run "$@"
vitest_status=$?
wait "$tsc_pid"
tsc_status=$?
wait "$biome_pid"
biome_status=$?

# Printed after vitest's summary, where a reader looks first; a failure shows its whole output.
status=0
for check in "tsc:$tsc_status" "biome:$biome_status" "vitest:$vitest_status"; do
  name=${check%%:*}
  code=${check#*:}
  if [ "$code" -ne 0 ]; then
    echo "✗ $name failed (exit $code)"
    status=1
  else
    echo "✓ $name"
  fi
  if [ "$name" != vitest ] && { [ "$code" -ne 0 ] || [ -s "$logs/$name" ]; }; then
    sed 's/^/  /' "$logs/$name"
  fi
done
exit "$status"
