#!/usr/bin/env bash
# Full test run including the Python interop checks: the analytical tier's (DuckDB + pyarrow read
# the encrypted Parquet export with the raw key) and the gateway's (the vendor's Python SDK,
# azure-cosmos, and the JavaScript one, @azure/cosmos, drive `strata serve`). Steps:
#   1. a venv at ${CARGO_TARGET_DIR:-target}/py-venv with pinned pyarrow, duckdb and azure-cosmos,
#      and an npm prefix at ${CARGO_TARGET_DIR:-target}/node-sdk with pinned @azure/cosmos (each
#      made once);
#   2. cargo test --workspace (skipped with --interop-only);
#   3. the ignored interop tests (crate and CLI), with STRATA_PYTHON pointing at the venv's python
#      and STRATA_NODE_SDK at the npm prefix;
#   4. the ignored PKCS#11 vault tests against SoftHSM2 (each makes its own token in a temp token
#      directory), with STRATA_PKCS11_MODULE pointing at the module.
# Needs python3 with the venv module, access to PyPI and npm the first time, and jq, softhsm2,
# node and npm (installed from Debian's packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYARROW_VERSION=26.0.1 # has pyarrow.parquet.encryption.create_decryption_properties (direct key)
DUCKDB_VERSION=1.5.6
AZURE_COSMOS_VERSION=4.17.1 # the SDK docs/gateway.md is tested against
AZURE_COSMOS_JS_VERSION=4.10.1 # @azure/cosmos, the JavaScript SDK (query plans)

interop_only=false
for arg in "$@"; do
    case "$arg" in
        --interop-only) interop_only=true ;;
        *) echo "usage: scripts/test.sh [--interop-only]" >&2; exit 2 ;;
    esac
done

sudo_cmd=""
[[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
# The README tour (run by cli/tests/it/readme_tour.rs) uses jq.
if ! command -v jq > /dev/null; then
    echo "== installing jq (Debian package) for the README tour test"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq jq > /dev/null
fi
# The JavaScript SDK's test (cli/tests/it/serve.rs) runs under Node, installed with npm.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    echo "== installing nodejs and npm (Debian packages) for the JavaScript SDK test"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq nodejs npm > /dev/null
fi
# The PKCS#11 vault backend is tested against SoftHSM2 (docs/keys.md, "PKCS#11 backend").
pkcs11_module=${STRATA_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
if [[ ! -f "$pkcs11_module" ]]; then
    echo "== installing softhsm2 (Debian package) for the PKCS#11 vault tests"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq softhsm2 > /dev/null
fi

target_dir=${CARGO_TARGET_DIR:-target}
venv="$target_dir/py-venv"
stamp="$venv/.strata-pins-pyarrow-$PYARROW_VERSION-duckdb-$DUCKDB_VERSION-azure-cosmos-$AZURE_COSMOS_VERSION"
if [[ ! -f "$stamp" ]]; then
    echo "== creating $venv (pyarrow $PYARROW_VERSION, duckdb $DUCKDB_VERSION, azure-cosmos $AZURE_COSMOS_VERSION)"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "pyarrow==$PYARROW_VERSION" "duckdb==$DUCKDB_VERSION" "azure-cosmos==$AZURE_COSMOS_VERSION"
    touch "$stamp"
fi
python_bin="$(cd "$(dirname "$venv/bin/python")" && pwd)/python"

node_sdk="$target_dir/node-sdk"
node_stamp="$node_sdk/.strata-pins-azure-cosmos-$AZURE_COSMOS_JS_VERSION"
if [[ ! -f "$node_stamp" ]]; then
    echo "== installing @azure/cosmos $AZURE_COSMOS_JS_VERSION under $node_sdk"
    mkdir -p "$node_sdk"
    npm install --prefix "$node_sdk" --no-save --no-audit --no-fund --loglevel=error \
        "@azure/cosmos@$AZURE_COSMOS_JS_VERSION"
    touch "$node_stamp"
fi
node_sdk="$(cd "$node_sdk" && pwd)"

if [[ "$interop_only" == false ]]; then
    echo "== cargo test --workspace"
    cargo test --workspace
fi

echo "== analytical interop (DuckDB + pyarrow): the tier's own export, then the CLI's against the store"
STRATA_PYTHON="$python_bin" cargo test -p strata-analytical --test it interop:: -- --ignored --nocapture
STRATA_PYTHON="$python_bin" cargo test -p strata-cli --test it analytics:: -- --ignored --nocapture

echo "== gateway interop (azure-cosmos, @azure/cosmos): the Python and JavaScript SDKs against strata serve"
STRATA_PYTHON="$python_bin" STRATA_NODE_SDK="$node_sdk" \
    cargo test -p strata-cli --test it serve:: -- --ignored --nocapture

echo "== PKCS#11 vault backend (SoftHSM2 at $pkcs11_module): the key holder, then the CLI"
STRATA_PKCS11_MODULE="$pkcs11_module" cargo test -p strata-vault --lib pkcs11:: -- --ignored
STRATA_PKCS11_MODULE="$pkcs11_module" cargo test -p strata --test it pkcs11 -- --ignored
STRATA_PKCS11_MODULE="$pkcs11_module" cargo test -p strata-cli --test it vault_pkcs11:: -- --ignored
