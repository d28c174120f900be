#!/usr/bin/env bash
# The whole test suite, from a fresh machine of this kind: installs and starts PostgreSQL and RabbitMQ
# (build/services.sh), points the tests at them, runs every test project, and ends with one line
# "N passed, N failed". Kafka tests run on librdkafka's in-process mock cluster unless
# KAFKA_BOOTSTRAP_SERVERS names a real broker. Extra arguments go to `dotnet test` (e.g. --filter).
set -uo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! build/services.sh start; then
  echo "The servers did not start: see the lines above." >&2
  echo "0 passed, 1 failed"
  exit 1
fi
eval "$(build/services.sh env)"

log=$(mktemp)
started=$(date +%s)
dotnet test Inbox.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - started ))

# One summary block per test assembly ("Total tests: N", "Passed: N", "Failed: N", "Skipped: N"),
# or with the minimal logger one line ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12").
read -r passed failed skipped < <(awk '
  /^Total tests:/ { block = 1; next }
  block && /^ +Passed: +[0-9]+/ { p += $2 }
  block && /^ +Failed: +[0-9]+/ { f += $2 }
  block && /^ +Skipped: +[0-9]+/ { s += $2 }
  /^ *Total time:/ { block = 0 }
  /(Passed|Failed)! +- +Failed:/ {
    gsub(",", "");
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i + 1);
      if ($i == "Passed:") p += $(i + 1);
      if ($i == "Skipped:") s += $(i + 1);
    }
  }
  END { printf "%d %d %d\n", p, f, s }' "$log")
# The failed tests by name with the first lines of their message, last, where a CI log's tail shows them.
failures=$(awk '
  /^ +Failed [^ ]/ { print; shown = 0; grab = 1; next }
  grab && /Error Message:/ { next }
  grab && shown < 4 && NF { print "      " $0; shown++; next }
  grab && shown >= 4 { grab = 0 }' "$log")
rm -f "$log"

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before any test could report.
  failed=1
fi
if [ -n "$failures" ]; then
  echo "Failed tests:"
  echo "$failures"
fi
echo "Test run took ${elapsed}s."
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
