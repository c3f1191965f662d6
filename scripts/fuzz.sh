#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine's decoders: runs each cargo-fuzz target of fuzz/ for
# SECONDS (default 30) under AddressSanitizer, starting from a copy of the seed corpus
# fuzz/corpus/<target> (the committed seeds never grow), and fails on any crash, timeout (an input
# running over 10 s), out-of-memory or allocation over MALLOC_LIMIT_MB. Prints per target the
# executions libFuzzer reports ("Done N runs in S second(s)"). See docs/reliability.md
# ("Coverage-guided fuzzing").
#
# Needs the rustup `nightly` toolchain (preinstalled on the build machines) and a C++ compiler;
# installs cargo-fuzz from crates.io into $CARGO_TARGET_DIR/tools when missing.
# Environment: CARGO_TARGET_DIR (default target/), FUZZ_TARGETS (default: all four),
# FUZZ_SANITIZER (address; `none` builds without a sanitizer), MALLOC_LIMIT_MB (default 512).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-30}
targets=${FUZZ_TARGETS:-"query_parse item_validate wal_read segment_read"}
sanitizer=${FUZZ_SANITIZER:-address}
malloc_limit=${MALLOC_LIMIT_MB:-512}
cargo_fuzz_version=0.13.2

target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
tools=$target_dir/tools
work=$target_dir/fuzz-run
mkdir -p "$tools" "$work"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: the rustup 'nightly' toolchain is missing (cargo-fuzz needs it)" >&2
    exit 1
fi

now() { date +%s; }

# cargo-fuzz, pinned, built with the stable toolchain into the target directory.
if [ "$("$tools/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
    t0=$(now)
    cargo install cargo-fuzz --locked --version "$cargo_fuzz_version" --root "$tools" \
        --target-dir "$tools/build" --quiet
    echo "fuzz: installed cargo-fuzz $cargo_fuzz_version in $(($(now) - t0)) s"
fi
export PATH=$tools/bin:$PATH

# The fuzz crate is its own workspace with its own target directory.
export CARGO_TARGET_DIR=$target_dir/fuzz
# The targets write the file under test once per input (in a temporary directory that lives as
# long as the process): on tmpfs that costs nothing. Removed at the end.
shm=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=/dev/shm
fi
export TMPDIR=$(mktemp -d "$shm/strata-fuzz.XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT

t0=$(now)
for t in $targets; do
    cargo +nightly fuzz build -s "$sanitizer" "$t"
done
echo "fuzz: built ${targets// /, } (sanitizer: $sanitizer) in $(($(now) - t0)) s"

summary=()
failed=0
for t in $targets; do
    corpus=$work/corpus/$t
    rm -rf "$corpus"
    mkdir -p "$corpus"
    cp fuzz/corpus/"$t"/* "$corpus"/
    log=$work/$t.log
    t1=$(now)
    if cargo +nightly fuzz run -s "$sanitizer" "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$malloc_limit" \
        -print_final_stats=1 >"$log" 2>&1; then
        done_line=$(grep -E '^Done [0-9]+ runs in' "$log" | tail -n 1)
        cov=$(grep -E '#[0-9]+.*DONE' "$log" | tail -n 1 | sed -E 's/.*(cov: [0-9]+).*(corp: [^ ]+).*/\1 \2/')
        summary+=("$t: ${done_line:-no summary} ($cov, $(($(now) - t1)) s wall)")
    else
        failed=1
        summary+=("$t: FAILED (see $log and fuzz/artifacts/$t/)")
        echo "---- $t: the last lines of $log ----" >&2
        tail -n 60 "$log" >&2
    fi
done

echo "fuzz: ${secs} s per target"
for line in "${summary[@]}"; do
    echo "  $line"
done
exit $failed
