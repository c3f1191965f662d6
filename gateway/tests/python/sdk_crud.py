"""Drives `strata serve` with the vendor's Python SDK (azure-cosmos): databases and containers,
item CRUD with etags and the SDK's own exceptions, a parameterised query with paging, the change
feed, a transactional batch (applied whole, or failed with nothing written), stored procedures
(with their script log), triggers and user-defined functions through `container.scripts`, a
container with a hierarchical partition key (CRUD by the full key, queries by a prefix of it),
offers (a container's and a database's throughput), and the request charge the SDK
reports. Usage: sdk_crud.py ENDPOINT KEY [CERT_PEM]: over HTTPS, the SDK trusts
only CERT_PEM (the certificate `strata serve --print-cert` prints), hostname checked; without it
(plain HTTP) nothing is verified. Prints one line per check and "N passed, 0 failed" at the end;
exits non-zero on the first failure."""

import base64
import sys
import urllib.parse

from azure.cosmos import CosmosClient, PartitionKey, documents, exceptions
from azure.core import MatchConditions

endpoint, key = sys.argv[1], sys.argv[2]
verify = sys.argv[3] if len(sys.argv) > 3 else False
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name} {detail}", flush=True)
        sys.exit(1)
    passed += 1
    print(f"ok {name}", flush=True)


def raises(name, exc, fn):
    try:
        fn()
    except exc as e:
        check(name, True)
        return e
    check(name, False, f"expected {exc.__name__}")


def connect(key, verify):
    """A client; over HTTPS one that checks the server's certificate against `verify` (a CA file
    path, or True for the system's CAs). The SDK skips certificate checks for the hosts
    localhost and 127.0.0.1 (its emulator's) unless given an ssl_config, so one is given."""
    if not verify:
        return CosmosClient(endpoint, credential=key, connection_verify=False)
    return CosmosClient(endpoint, credential=key, connection_verify=verify,
                        ssl_config=documents.SSLConfiguration(), retry_total=0)


client = connect(key, verify)
check("account read", client.get_database_account() is not None)
if verify:
    check("served over HTTPS", endpoint.startswith("https://"), endpoint)
    try:
        connect(key, True)
        check("a client trusting only the system's CAs refuses the self-signed certificate", False)
    except Exception as e:  # the SDK wraps the TLS failure in its own error types
        check("a client trusting only the system's CAs refuses the self-signed certificate",
              "CERTIFICATE_VERIFY_FAILED" in repr(e), repr(e)[:300])

db = client.create_database("shop")
raises("database exists -> CosmosResourceExistsError", exceptions.CosmosResourceExistsError,
       lambda: client.create_database("shop"))
db = client.create_database_if_not_exists("shop")
check("list databases", [d["id"] for d in client.list_databases()] == ["shop"])

orders = db.create_container("orders", partition_key=PartitionKey(path="/tenant"))
raises("container exists -> CosmosResourceExistsError", exceptions.CosmosResourceExistsError,
       lambda: db.create_container("orders", partition_key=PartitionKey(path="/tenant")))
props = orders.read()
check("container partition key", props["partitionKey"]["paths"] == ["/tenant"], str(props))
check("list containers", [c["id"] for c in db.list_containers()] == ["orders"])

policy = {"indexingMode": "consistent", "includedPaths": [{"path": "/tenant/?"}, {"path": "/qty/?"}, {"path": "/n/?"}],
          "excludedPaths": [{"path": "/*"}]}
replaced_props = db.replace_container(orders, partition_key=PartitionKey(path="/tenant"), indexing_policy=policy,
                                      default_ttl=-1).read()
check("replace container: indexing policy and TTL", replaced_props.get("defaultTtl") == -1
      and {p["path"] for p in replaced_props["indexingPolicy"]["includedPaths"]} == {"/tenant/?", "/qty/?", "/n/?"},
      str(replaced_props))

# Item CRUD with etags.
created = orders.create_item({"id": "1", "tenant": "a", "qty": 3})
check("create returns the item with system properties", created["id"] == "1" and "_etag" in created, str(created))
charge = float(orders.client_connection.last_response_headers["x-ms-request-charge"])
check("create reports a request charge", charge > 0, str(charge))
raises("create twice -> CosmosResourceExistsError", exceptions.CosmosResourceExistsError,
       lambda: orders.create_item({"id": "1", "tenant": "a"}))

read = orders.read_item("1", partition_key="a")
check("read", read["qty"] == 3 and read["_etag"] == created["_etag"])
raises("read missing -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("nope", partition_key="a"))
raises("read in the wrong partition -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("1", partition_key="b"))

read["qty"] = 4
replaced = orders.replace_item("1", read, etag=created["_etag"], match_condition=MatchConditions.IfNotModified)
check("replace with the current etag", replaced["qty"] == 4 and replaced["_etag"] != created["_etag"])
raises("replace with a stale etag -> CosmosAccessConditionFailedError",
       exceptions.CosmosAccessConditionFailedError,
       lambda: orders.replace_item("1", read, etag=created["_etag"], match_condition=MatchConditions.IfNotModified))
raises("delete with a stale etag -> CosmosAccessConditionFailedError",
       exceptions.CosmosAccessConditionFailedError,
       lambda: orders.delete_item("1", partition_key="a", etag=created["_etag"],
                                  match_condition=MatchConditions.IfNotModified))

patched = orders.patch_item("1", partition_key="a", patch_operations=[
    {"op": "incr", "path": "/qty", "value": 10},
    {"op": "add", "path": "/tags", "value": ["new"]},
    {"op": "set", "path": "/status", "value": "shipped"},
])
check("patch applies its operations", (patched["qty"], patched["tags"], patched["status"]) == (14, ["new"], "shipped"),
      str(patched))
check("patch moves the etag", patched["_etag"] != replaced["_etag"])
raises("patch of a missing path -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
       lambda: orders.patch_item("1", partition_key="a", patch_operations=[{"op": "replace", "path": "/nope", "value": 1}]))
raises("patch with a stale etag -> CosmosAccessConditionFailedError", exceptions.CosmosAccessConditionFailedError,
       lambda: orders.patch_item("1", partition_key="a", patch_operations=[{"op": "set", "path": "/x", "value": 1}],
                                 etag=replaced["_etag"], match_condition=MatchConditions.IfNotModified))
raises("patch whose condition fails -> CosmosAccessConditionFailedError", exceptions.CosmosAccessConditionFailedError,
       lambda: orders.patch_item("1", partition_key="a", patch_operations=[{"op": "set", "path": "/x", "value": 1}],
                                 filter_predicate="FROM c WHERE c.qty > 100"))
conditional = orders.patch_item("1", partition_key="a", patch_operations=[{"op": "incr", "path": "/qty", "value": 1}],
                                filter_predicate="FROM c WHERE c.status = 'shipped'")
check("patch whose condition holds applies", conditional["qty"] == 15, str(conditional))

upserted = orders.upsert_item({"id": "2", "tenant": "b", "qty": 1})
check("upsert creates", upserted["qty"] == 1)
upserted = orders.upsert_item({"id": "2", "tenant": "b", "qty": 2})
check("upsert replaces", upserted["qty"] == 2)

orders.delete_item("2", partition_key="b")
raises("read after delete -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("2", partition_key="b"))

# A parameterised query with paging, in one partition and across partitions.
for i in range(25):
    orders.create_item({"id": f"q{i}", "tenant": "t1" if i % 2 else "t2", "n": i})
pages = orders.query_items(
    "SELECT * FROM c WHERE c.n >= @min", parameters=[{"name": "@min", "value": 5}],
    enable_cross_partition_query=True, max_item_count=7).by_page()
sizes, ids = [], set()
for page in pages:
    items = list(page)
    sizes.append(len(items))
    ids.update(i["id"] for i in items)
check("cross-partition query pages by max_item_count", max(sizes) <= 7 and len(sizes) >= 3, str(sizes))
check("cross-partition query returns every match once", ids == {f"q{i}" for i in range(5, 25)}, str(sorted(ids)))
in_t1 = list(orders.query_items("SELECT VALUE c.n FROM c WHERE c.n < @max ORDER BY c.n",
                                parameters=[{"name": "@max", "value": 10}], partition_key="t1"))
check("single-partition query with ORDER BY", in_t1 == [1, 3, 5, 7, 9], str(in_t1))
count = list(orders.query_items("SELECT VALUE COUNT(1) FROM c", enable_cross_partition_query=True))
check("COUNT across partitions", count == [26], str(count))
groups = list(orders.query_items("SELECT c.tenant, COUNT(1) AS n FROM c GROUP BY c.tenant",
                                  enable_cross_partition_query=True))
check("GROUP BY across partitions", sorted((g["tenant"], g["n"]) for g in groups) == [("a", 1), ("t1", 12), ("t2", 13)],
      str(groups))
tenants = sorted(orders.query_items("SELECT DISTINCT VALUE c.tenant FROM c", enable_cross_partition_query=True))
check("DISTINCT across partitions", tenants == ["a", "t1", "t2"], str(tenants))
window = list(orders.query_items("SELECT VALUE c.n FROM c WHERE IS_DEFINED(c.n) ORDER BY c.n DESC OFFSET 2 LIMIT 3",
                                 enable_cross_partition_query=True))
check("ORDER BY with OFFSET/LIMIT across partitions", window == [22, 21, 20], str(window))
query_charge = float(orders.client_connection.last_response_headers["x-ms-request-charge"])
check("query reports a request charge", query_charge > 0, str(query_charge))
all_items = list(orders.read_all_items(max_item_count=10))
check("read all items", len(all_items) == 26, str(len(all_items)))

# The change feed from the beginning, then nothing new (the SDK sees the 304 as an empty page),
# then one change after a write.
feed = orders.query_items_change_feed(start_time="Beginning", max_item_count=10)
changed = {i["id"] for i in feed}
check("change feed from the beginning has every live item", changed == {i["id"] for i in all_items},
      f"{len(changed)} vs {len(all_items)}")
token = orders.client_connection.last_response_headers["etag"]
check("change feed is caught up", list(orders.query_items_change_feed(continuation=token)) == [])
token = orders.client_connection.last_response_headers["etag"]
orders.upsert_item({"id": "q3", "tenant": "t1", "n": 300})
later = list(orders.query_items_change_feed(continuation=token))
check("change feed after a write", [(i["id"], i["n"]) for i in later] == [("q3", 300)], str(later))

# A transactional batch: every operation type in one partition, all applied; then one whose last
# operation fails (a duplicate create), which the SDK raises as CosmosBatchOperationError with
# nothing of it written.
base = orders.create_item({"id": "b0", "tenant": "batch", "n": 0})
orders.create_item({"id": "b9", "tenant": "batch"})
results = orders.execute_item_batch([
    ("create", ({"id": "b1", "tenant": "batch", "n": 1},)),
    ("upsert", ({"id": "b2", "tenant": "batch", "n": 2},)),
    ("replace", ("b0", {"id": "b0", "tenant": "batch", "n": 10}), {"if_match_etag": base["_etag"]}),
    ("read", ("b1",)),
    ("patch", ("b1", [{"op": "incr", "path": "/n", "value": 5}]), {"filter_predicate": "FROM c WHERE c.n = 1"}),
    ("read", ("b2",), {"if_none_match_etag": "*"}),
    ("delete", ("b9",)),
], partition_key="batch")
check("batch: every operation's status", [r["statusCode"] for r in results] == [201, 201, 200, 200, 200, 304, 204],
      str(results))
check("batch: the read sees the create before it, the patch applies",
      results[3]["resourceBody"]["n"] == 1 and results[4]["resourceBody"]["n"] == 6, str(results))
batch_charge = float(orders.client_connection.last_response_headers["x-ms-request-charge"])
check("batch: the charge is the operations' sum",
      abs(batch_charge - sum(r["requestCharge"] for r in results)) < 0.05, str(batch_charge))
check("batch: its writes are stored", orders.read_item("b0", partition_key="batch")["n"] == 10
      and orders.read_item("b1", partition_key="batch")["n"] == 6)
raises("batch: the deleted item is gone", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("b9", partition_key="batch"))
err = raises("batch with a duplicate create -> CosmosBatchOperationError", exceptions.CosmosBatchOperationError,
             lambda: orders.execute_item_batch([
                 ("create", ({"id": "b3", "tenant": "batch"},)),
                 ("patch", ("b1", [{"op": "incr", "path": "/n", "value": 100}])),
                 ("delete", ("b2",)),
                 ("create", ({"id": "b1", "tenant": "batch"},)),
             ], partition_key="batch"))
check("batch error: the failing operation and its status", (err.error_index, err.status_code) == (3, 409),
      f"{err.error_index} {err.status_code}")
check("batch error: 424 for the others", [r["statusCode"] for r in err.operation_responses] == [424, 424, 424, 409],
      str(err.operation_responses))
raises("failed batch: its create is not stored", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("b3", partition_key="batch"))
check("failed batch: its patch and delete are not applied",
      orders.read_item("b1", partition_key="batch")["n"] == 6 and orders.read_item("b2", partition_key="batch")["n"] == 2)
raises("batch across partitions -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
       lambda: orders.execute_item_batch([("create", ({"id": "b4", "tenant": "other"},))], partition_key="batch"))

# Stored procedures: create, read, list, replace, execute with a partition key and parameters,
# a throw surfacing as a 400 with nothing written, delete.
scripts = orders.scripts
INCREMENT = """function increment(id, by) {
    var coll = getContext().getCollection();
    var link = coll.getAltLink() + '/docs/' + id;
    var accepted = coll.readDocument(link, {}, function (err, doc) {
        if (err) throw new Error('read: ' + err.message);
        doc.n += by;
        coll.replaceDocument(link, doc, {}, function (err2, saved) {
            if (err2) throw new Error('replace: ' + err2.message);
            getContext().getResponse().setBody({id: saved.id, n: saved.n});
        });
    });
    if (!accepted) throw new Error('not accepted');
}"""
sp = scripts.create_stored_procedure({"id": "increment", "body": "function increment() {}"})
check("sproc create returns the resource", sp["id"] == "increment" and all(k in sp for k in ("_rid", "_self", "_etag", "_ts")),
      str(sp))
raises("sproc create twice -> CosmosResourceExistsError", exceptions.CosmosResourceExistsError,
       lambda: scripts.create_stored_procedure({"id": "increment", "body": "function () {}"}))
raises("sproc whose body is not a function -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
       lambda: scripts.create_stored_procedure({"id": "bad", "body": "this is not javascript"}))
replaced_sp = scripts.replace_stored_procedure("increment", {"id": "increment", "body": INCREMENT})
check("sproc replace changes the body and the etag", replaced_sp["body"] == INCREMENT and replaced_sp["_etag"] != sp["_etag"])
check("sproc read", scripts.get_stored_procedure("increment")["body"] == INCREMENT)
orders.create_item({"id": "counter", "tenant": "cnt", "n": 1})
out = scripts.execute_stored_procedure("increment", partition_key="cnt", params=["counter", 41])
check("sproc execute answers what the script set", out == {"id": "counter", "n": 42}, str(out))
sp_charge = float(orders.client_connection.last_response_headers["x-ms-request-charge"])
check("sproc execute reports a request charge", sp_charge > 0, str(sp_charge))
check("sproc execute wrote its replace", orders.read_item("counter", partition_key="cnt")["n"] == 42)
scripts.create_stored_procedure({"id": "boom", "body": """function boom(id) {
    var coll = getContext().getCollection();
    coll.createDocument(coll.getSelfLink(), {id: id, tenant: 'cnt'}, {}, function (err) {
        if (err) throw new Error(err.message);
        throw new Error('boom: refused after a create');
    });
}"""})
err = raises("a throwing sproc -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
             lambda: scripts.execute_stored_procedure("boom", partition_key="cnt", params=["ghost"]))
check("a throwing sproc is a 400 with its message", err.status_code == 400 and "boom: refused" in str(err),
      f"{err.status_code} {err}")
raises("a throwing sproc writes nothing", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read_item("ghost", partition_key="cnt"))
raises("execute a missing sproc -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: scripts.execute_stored_procedure("nope", partition_key="cnt"))
check("sproc list", sorted(s["id"] for s in scripts.list_stored_procedures()) == ["boom", "increment"])
scripts.delete_stored_procedure("boom")
raises("read a deleted sproc -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: scripts.get_stored_procedure("boom"))

# Script logging, as the SDK's own test of it: the console line comes back URL-encoded in
# x-ms-documentdb-script-log-results only when enable_script_logging asks for it.
scripts.create_stored_procedure({"id": "logs", "body": """function logs(value) {
    console.log('The value of %s is %s.', 'x', value);
    getContext().getResponse().setBody('Success!');
}"""})
LOG_HEADER = "x-ms-documentdb-script-log-results"
out = scripts.execute_stored_procedure("logs", partition_key="cnt", params=[1], enable_script_logging=True)
log = orders.client_connection.last_response_headers.get(LOG_HEADER)
check("sproc execute with enable_script_logging returns the log", out == "Success!" and
      log == urllib.parse.quote("The value of x is 1."), str(log))
scripts.execute_stored_procedure("logs", partition_key="cnt", params=[1])
check("sproc execute without it returns no log", LOG_HEADER not in orders.client_connection.last_response_headers)
scripts.delete_stored_procedure("logs")

# A pre-trigger that stamps a property, named by create_item; a UDF used in a query.
STAMP = """function stamp() {
    var req = getContext().getRequest();
    var item = req.getBody();
    item.stamped = 'by-trigger';
    req.setBody(item);
}"""
trigger = scripts.create_trigger({"id": "stamp", "body": STAMP, "triggerType": documents.TriggerType.Pre,
                                  "triggerOperation": documents.TriggerOperation.Create})
check("trigger create returns the resource", trigger["id"] == "stamp" and "_etag" in trigger and "_self" in trigger,
      str(trigger))
check("trigger read", scripts.get_trigger("stamp")["triggerOperation"] == "Create")
check("trigger list", [t["id"] for t in scripts.list_triggers()] == ["stamp"])
stamped = orders.create_item({"id": "s1", "tenant": "cnt"}, pre_trigger_include="stamp")
check("a pre-trigger stamps the created item", stamped.get("stamped") == "by-trigger", str(stamped))
check("the stamp is stored", orders.read_item("s1", partition_key="cnt").get("stamped") == "by-trigger")
check("a write that names no trigger runs none", "stamped" not in orders.create_item({"id": "s2", "tenant": "cnt"}))
raises("a trigger of another operation -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
       lambda: orders.upsert_item({"id": "s3", "tenant": "cnt"}, pre_trigger_include="stamp"))
replaced_trigger = scripts.replace_trigger("stamp", {"id": "stamp", "body": STAMP.replace("by-trigger", "replaced"),
                                                    "triggerType": "Pre", "triggerOperation": "All"})
check("trigger replace", replaced_trigger["triggerOperation"] == "All" and replaced_trigger["_etag"] != trigger["_etag"],
      str(replaced_trigger))
check("the replaced trigger runs on an upsert now",
      orders.upsert_item({"id": "s3", "tenant": "cnt"}, pre_trigger_include="stamp").get("stamped") == "replaced")
scripts.delete_trigger("stamp")
raises("read a deleted trigger -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: scripts.get_trigger("stamp"))

udf = scripts.create_user_defined_function({"id": "double", "body": "function double(x) { return x * 2; }"})
check("udf create returns the resource", udf["id"] == "double" and "_rid" in udf, str(udf))
check("udf list", [u["id"] for u in scripts.list_user_defined_functions()] == ["double"])
doubled = list(orders.query_items("SELECT VALUE udf.double(c.n) FROM c WHERE c.id = @id",
                                  parameters=[{"name": "@id", "value": "counter"}], partition_key="cnt"))
check("a UDF in a query", doubled == [84], str(doubled))
scripts.replace_user_defined_function("double", {"id": "double", "body": "function double(x) { return x * 3; }"})
tripled = list(orders.query_items("SELECT VALUE udf.double(c.n) FROM c WHERE c.id = 'counter'", partition_key="cnt"))
check("a replaced UDF in a query", tripled == [126], str(tripled))
scripts.delete_user_defined_function("double")
raises("read a deleted udf -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: scripts.get_user_defined_function("double"))

metered = db.create_container("metered", partition_key=PartitionKey(path="/pk"), offer_throughput=400)
check("a container's offer", metered.get_throughput().offer_throughput == 400)
check("replace a container's throughput", metered.replace_throughput(600).offer_throughput == 600)
check("the new throughput is read back", metered.get_throughput().offer_throughput == 600)
err = raises("throughput off the 100 RU/s steps -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
             lambda: metered.replace_throughput(450))
check("throughput off the steps is a 400", err.status_code == 400, str(err.status_code))
check("the refused replace changed nothing", metered.get_throughput().offer_throughput == 600)
pool = client.create_database("pool", offer_throughput=1000)
check("a database's offer", pool.get_throughput().offer_throughput == 1000)
check("replace a database's throughput", pool.replace_throughput(1200).offer_throughput == 1200)
check("the container's offer is its own", metered.get_throughput().offer_throughput == 600)
client.delete_database("pool")
db.delete_container("metered")
# A hierarchical partition key (MultiHash): items addressed by every level, queries by a prefix
# of them (the SDK sends an effective-partition-key range for a prefix) or by the full key.
sessions = db.create_container("sessions", partition_key=PartitionKey(path=["/tenant", "/user"], kind="MultiHash"))
pk_props = sessions.read()["partitionKey"]
check("hierarchical container: MultiHash on both paths",
      pk_props["kind"] == "MultiHash" and pk_props["paths"] == ["/tenant", "/user"], str(pk_props))
for tenant, user, sid in [("t1", "u1", "a"), ("t1", "u2", "b"), ("t10", "u1", "c"), ("t2", "u1", "d")]:
    sessions.create_item({"id": sid, "tenant": tenant, "user": user, "n": 1})
session = sessions.read_item("a", partition_key=["t1", "u1"])
check("hierarchical: read by the full key", session["user"] == "u1", str(session))
raises("hierarchical: the same id under another full key -> CosmosResourceNotFoundError",
       exceptions.CosmosResourceNotFoundError, lambda: sessions.read_item("a", partition_key=["t1", "u2"]))
session["n"] = 2
check("hierarchical: replace", sessions.replace_item("a", session)["n"] == 2)
check("hierarchical: upsert", sessions.upsert_item({"id": "e", "tenant": "t1", "user": "u1"})["id"] == "e")
patched = sessions.patch_item("a", partition_key=["t1", "u1"],
                              patch_operations=[{"op": "incr", "path": "/n", "value": 3}])
check("hierarchical: patch", patched["n"] == 5, str(patched))
prefix = sorted(i["id"] for i in sessions.query_items("SELECT * FROM c", partition_key=["t1"]))
check("hierarchical: a prefix query reads every user of t1 and not t10", prefix == ["a", "b", "e"], str(prefix))
paged = sessions.query_items("SELECT * FROM c", partition_key=["t1"], max_item_count=1)
paged_ids = sorted(i["id"] for page in paged.by_page() for i in page)
check("hierarchical: a prefix query in pages of one", paged_ids == ["a", "b", "e"], str(paged_ids))
full = sorted(i["id"] for i in sessions.query_items("SELECT * FROM c", partition_key=["t1", "u2"]))
check("hierarchical: a full-key query", full == ["b"], str(full))
where = sorted(i["id"] for i in sessions.query_items("SELECT * FROM c WHERE c.tenant = 't10'",
                                                      enable_cross_partition_query=True))
check("hierarchical: a cross-partition query", where == ["c"], str(where))
sessions.delete_item("e", partition_key=["t1", "u1"])
raises("hierarchical: read a deleted item -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: sessions.read_item("e", partition_key=["t1", "u1"]))
db.delete_container("sessions")

db.delete_container("orders")
raises("read a deleted container -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: orders.read())
client.delete_database("shop")
raises("read a deleted database -> CosmosResourceNotFoundError", exceptions.CosmosResourceNotFoundError,
       lambda: db.read())

wrong_key = base64.b64encode(bytes(64)).decode()
err = raises("a client with the wrong key -> CosmosHttpResponseError", exceptions.CosmosHttpResponseError,
             lambda: connect(wrong_key, verify))
check("the wrong key is a 401", err.status_code == 401, str(err.status_code))

print(f"{passed} passed, 0 failed", flush=True)
