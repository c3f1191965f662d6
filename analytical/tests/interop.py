"""Reads a strata-analytical export with DuckDB and pyarrow using the raw key and checks the
expected row count and aggregates; checks that a wrong key makes both readers fail.

usage: interop.py EXPORT_DIR BASE64_KEY EXPECTED_JSON
"""
import base64
import json
import math
import sys

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe


def check(name, got, want):
    ok = math.isclose(got, want, rel_tol=1e-9) if isinstance(want, float) else got == want
    if not ok:
        raise SystemExit(f"FAIL {name}: got {got!r}, expected {want!r}")
    print(f"ok   {name} = {got!r}")


def duckdb_read(path, key_b64):
    con = duckdb.connect()
    con.execute(f"PRAGMA add_parquet_key('strata', '{key_b64}')")
    src = f"read_parquet('{path}', encryption_config={{footer_key: 'strata'}})"
    n, s, a = con.execute(f"SELECT count(*), sum(qty), avg(price) FROM {src}").fetchone()
    groups = dict(con.execute(f"SELECT cat, count(*) FROM {src} GROUP BY cat").fetchall())
    cols = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
    where = f'SELECT count(*) FROM {src} WHERE "meta.rank" = 3'
    try:
        ranks = con.execute(where).fetchone()[0]
    except duckdb.Error as e:
        # DuckDB 1.5/2.0 fail filter pushdown into encrypted files written by parquet-rs or
        # pyarrow ("Computed AES tag differs"); files it wrote itself work. Workaround: disable
        # the filter_pushdown optimizer (documented in docs/analytical.md).
        print(f"note duckdb filter pushdown failed ({str(e).splitlines()[0][:60]}...), retrying without it")
        con.execute("SET disabled_optimizers = 'filter_pushdown'")
        ranks = con.execute(where).fetchone()[0]
    return n, s, a, groups, cols, ranks


def pyarrow_read(path, key):
    props = pe.create_decryption_properties(key)
    table = pq.read_table(path, decryption_properties=props)
    groups = {
        r["cat"]: r["id_count"] for r in table.group_by("cat").aggregate([("id", "count")]).to_pylist()
    }
    return table, groups


def main():
    export_dir, key_b64, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    path = expected["file"]
    assert path.startswith(export_dir), (path, export_dir)
    key = base64.b64decode(key_b64)
    print(f"duckdb {duckdb.__version__}, pyarrow {pa.__version__}")

    n, s, a, groups, cols, ranks = duckdb_read(path, key_b64)
    check("duckdb count", n, expected["rows"])
    check("duckdb sum(qty)", int(s), expected["sum_qty"])
    check("duckdb avg(price)", float(a), expected["avg_price"])
    check("duckdb group counts", groups, expected["group_counts"])
    if "columns" in expected:
        check("duckdb columns", cols, expected["columns"])
    else:
        check("duckdb has the columns", sorted(set(expected["required_columns"]) - set(cols)), [])

    table, pgroups = pyarrow_read(path, key)
    check("pyarrow rows", table.num_rows, expected["rows"])
    check("pyarrow sum(qty)", pc.sum(table["qty"]).as_py(), expected["sum_qty"])
    check("pyarrow mean(price)", pc.mean(table["price"]).as_py(), expected["avg_price"])
    check("pyarrow group counts", pgroups, expected["group_counts"])
    if "columns" in expected:
        check("pyarrow columns", table.column_names, expected["columns"])
    else:
        check("pyarrow has the columns", sorted(set(expected["required_columns"]) - set(table.column_names)), [])
    check("meta.rank = 3 agrees", pc.sum(pc.equal(table["meta.rank"], 3)).as_py(), ranks)

    wrong_b64 = expected["wrong_key"]
    for name, attempt in [
        ("duckdb", lambda: duckdb_read(path, wrong_b64)),
        ("pyarrow", lambda: pyarrow_read(path, base64.b64decode(wrong_b64))),
        ("duckdb without key", lambda: duckdb.connect().execute(f"SELECT count(*) FROM '{path}'").fetchone()),
        ("pyarrow without key", lambda: pq.read_table(path)),
    ]:
        try:
            attempt()
        except Exception as e:  # noqa: BLE001 - any failure is the expected outcome
            print(f"ok   {name} fails: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        else:
            raise SystemExit(f"FAIL {name}: read succeeded with a wrong or missing key")
    print("interop: all checks passed")


if __name__ == "__main__":
    main()
