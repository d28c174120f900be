#!/usr/bin/env bash
# Benchmarks: ./build/bench.sh [scenario ...] [--messages N] [--rounds R]
# Scenarios run their variants interleaved and check correctness; results print as a table and go to
# artifacts/bench/*.json. Uses the servers from build/services.sh (run `build/services.sh start` first) or the
# ones named by INBOX_POSTGRES / INBOX_RABBITMQ / KAFKA_BOOTSTRAP_SERVERS.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ -z "${INBOX_POSTGRES:-}" ]; then
  eval "$(build/services.sh env)"
fi
dotnet build tests/Inbox.Benchmarks -c Release -v q -nologo >/dev/null
exec dotnet tests/Inbox.Benchmarks/bin/Release/net10.0/Inbox.Benchmarks.dll "$@"
