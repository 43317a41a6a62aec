#!/usr/bin/env bash
# Runs cargo-fuzz targets for a fixed time each, one after the other (one
# fuzzing process at a time: the CI machine has 2 cores).
#   fuzz/run.sh SECONDS [TARGET...]        (default: all targets)
# Working corpora and crash artifacts go to build/fuzz/ (git-ignored); the
# committed seeds in fuzz/corpus/<target> and the reproducers in
# fuzz/regressions/<target> are read but never written.  Exits non-zero if any
# target found a crash/leak/timeout (the artifact path is printed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(url utf8 handshake_request handshake_response frame_decoder engine)
work="$root/build/fuzz"
status=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/logs" "$here/corpus/$t"
    log="$work/logs/$t.log"
    dirs=("$work/corpus/$t" "$here/corpus/$t")
    [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
    echo "== fuzz $t for ${secs}s (log: $log)"
    (cd "$here" && cargo +nightly fuzz run --debug-assertions "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len=${FUZZ_MAX_LEN:-12000} -artifact_prefix="$work/artifacts/$t/") >"$log" 2>&1
    rc=$?
    units=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    last=$(grep -a -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    line=$(printf '%-20s executed_units=%-10s cov=%-6s ft=%-6s corpus=%-6s' \
        "$t" "${units:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
    if [ $rc -ne 0 ]; then
        status=1
        line="$line FAILED (exit $rc)"
        echo "---- $t failed; end of log:"
        tail -n 60 "$log"
        for a in "$work/artifacts/$t" "$here/artifacts/$t"; do
            ls -1 "$a" 2>/dev/null | sed "s|^|artifact: $a/|"
        done
        echo "reproduce: (cd fuzz && cargo +nightly fuzz run --debug-assertions $t <artifact>)"
    else
        line="$line ok"
    fi
    echo "$line"
    summary+=("$line")
done
echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
