// Drives `strata serve` with the vendor's JavaScript SDK (@azure/cosmos): databases and
// containers, item CRUD, and cross-partition queries both as the SDK runs them by default (the
// query sent as it is) and through its query-plan pipeline (`forceQueryPlan`: the plan the gateway
// serves, then the query per partition-key range). Every result is compared with one computed
// here from the items written. Usage: node sdk_queries.cjs ENDPOINT KEY CERT_PEM (the SDK is
// found through NODE_PATH; HTTPS trusting only CERT_PEM, host name checked). Prints one line per
// check and "N passed, 0 failed" at the end; exits non-zero on the first failure.
"use strict";

const fs = require("node:fs");
const https = require("node:https");
const assert = require("node:assert");
const { CosmosClient, ChangeFeedStartFrom } = require("@azure/cosmos");

const [endpoint, key, certPath] = process.argv.slice(2);
let passed = 0;

function fail(name, detail) {
  console.log(`FAIL ${name} ${detail}`);
  process.exit(1);
}

function check(name, actual, expected) {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (e) {
    fail(name, `got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
  passed += 1;
  console.log(`ok ${name}`);
}

async function rejects(name, promise, code) {
  try {
    await promise;
  } catch (e) {
    return check(name, e.code, code);
  }
  fail(name, `expected an error with code ${code}`);
}

// The items, and every expected query result computed from them.
const tenants = ["t1", "t2", "t3"];
const items = [];
for (let i = 1; i <= 14; i++) {
  items.push({ id: `q${i}`, tenant: tenants[i % 3], n: i, cat: i % 4 === 0 ? "even4" : i % 2 ? "odd" : "even" });
}
const ns = items.map((x) => x.n);
const asc = [...ns].sort((a, b) => a - b);
const sum = ns.reduce((a, b) => a + b, 0);
const byTenant = tenants
  .map((t) => {
    const mine = items.filter((x) => x.tenant === t);
    return { tenant: t, n: mine.length, s: mine.reduce((a, x) => a + x.n, 0) };
  })
  .sort((a, b) => a.tenant.localeCompare(b.tenant));
const cats = [...new Set(items.map((x) => x.cat))].sort();
const sortedBy = (rows, f) => [...rows].sort((a, b) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0));

// [name, query, expected, whether the engine's order is part of the result]
const queries = [
  ["parameters", { query: "SELECT VALUE c.id FROM c WHERE c.n >= @min AND c.tenant = @t",
    parameters: [{ name: "@min", value: 5 }, { name: "@t", value: "t2" }] },
  items.filter((x) => x.n >= 5 && x.tenant === "t2").map((x) => x.id).sort(), false],
  ["ORDER BY asc", "SELECT c.id, c.n FROM c ORDER BY c.n ASC",
    sortedBy(items, (x) => x.n).map((x) => ({ id: x.id, n: x.n })), true],
  ["ORDER BY desc", "SELECT VALUE c.n FROM c ORDER BY c.n DESC", [...asc].reverse(), true],
  ["TOP", "SELECT TOP 3 VALUE c.n FROM c ORDER BY c.n DESC", [...asc].reverse().slice(0, 3), true],
  ["OFFSET LIMIT", "SELECT VALUE c.n FROM c ORDER BY c.n OFFSET 2 LIMIT 4", asc.slice(2, 6), true],
  ["COUNT VALUE", "SELECT VALUE COUNT(1) FROM c", [items.length], true],
  ["COUNT non-VALUE", "SELECT COUNT(1) AS n FROM c", [{ n: items.length }], true],
  ["SUM VALUE", "SELECT VALUE SUM(c.n) FROM c", [sum], true],
  ["SUM non-VALUE", "SELECT SUM(c.n) AS s FROM c", [{ s: sum }], true],
  ["AVG VALUE", "SELECT VALUE AVG(c.n) FROM c", [sum / ns.length], true],
  ["AVG non-VALUE", "SELECT AVG(c.n) AS a FROM c WHERE c.tenant = 't1'",
    [{ a: byTenant[0].s / byTenant[0].n }], true],
  ["DISTINCT VALUE", "SELECT DISTINCT VALUE c.cat FROM c", cats, false],
  ["DISTINCT", "SELECT DISTINCT c.cat FROM c ORDER BY c.cat", cats.map((cat) => ({ cat })), true],
  ["GROUP BY", "SELECT c.tenant, COUNT(1) AS n, SUM(c.n) AS s FROM c GROUP BY c.tenant", byTenant, false],
];

function canonical(rows, ordered) {
  if (ordered) return rows;
  return sortedBy(rows, (r) => JSON.stringify(r));
}

// Every page of a query, and the concatenation.
async function pagesOf(iterator) {
  const pages = [];
  while (iterator.hasMoreResults()) {
    const { resources } = await iterator.fetchNext();
    if (resources && resources.length) pages.push(resources);
  }
  return pages;
}

async function main() {
  const pem = fs.readFileSync(certPath, "utf8");
  const client = new CosmosClient({ endpoint, key, agent: new https.Agent({ ca: pem, keepAlive: true }) });
  const { resource: account } = await client.getDatabaseAccount();
  check("account read over HTTPS", [endpoint.startsWith("https://"), Array.isArray(account.writableLocations)],
    [true, true]);

  const { database } = await client.databases.create({ id: "shop" });
  await rejects("database exists -> 409", client.databases.create({ id: "shop" }), 409);
  const { container } = await database.containers.create({ id: "orders", partitionKey: { paths: ["/tenant"] } });
  const { resource: props } = await container.read();
  check("container partition key", props.partitionKey.paths, ["/tenant"]);

  // Item CRUD.
  const { resource: created } = await container.items.create({ id: "1", tenant: "a", qty: 3 });
  check("create returns the item with an etag", [created.qty, typeof created._etag], [3, "string"]);
  await rejects("create twice -> 409", container.items.create({ id: "1", tenant: "a" }), 409);
  const read = await container.item("1", "a").read();
  check("read", [read.statusCode, read.resource.qty], [200, 3]);
  const missing = await container.item("nope", "a").read();
  check("point read of a missing item -> 404", [missing.statusCode, missing.resource], [404, undefined]);
  const wrongPk = await container.item("1", "b").read();
  check("point read in the wrong partition -> 404", wrongPk.statusCode, 404);
  const { resource: replaced } = await container.item("1", "a").replace({ id: "1", tenant: "a", qty: 4 },
    { accessCondition: { type: "IfMatch", condition: created._etag } });
  check("replace with the current etag", [replaced.qty, replaced._etag !== created._etag], [4, true]);
  await rejects("replace with a stale etag -> 412", container.item("1", "a").replace({ id: "1", tenant: "a" },
    { accessCondition: { type: "IfMatch", condition: created._etag } }), 412);
  const up1 = await container.items.upsert({ id: "2", tenant: "b", qty: 1 });
  const up2 = await container.items.upsert({ id: "2", tenant: "b", qty: 2 });
  check("upsert creates, then replaces", [up1.statusCode, up2.statusCode, up2.resource.qty], [201, 200, 2]);
  const del = await container.item("2", "b").delete();
  check("delete", del.statusCode, 204);
  check("read after delete -> 404", (await container.item("2", "b").read()).statusCode, 404);
  await container.item("1", "a").delete();

  // Bulk (the non-atomic batch): each operation on its own partition key, run on its own; one
  // that fails leaves the others applied.
  const { container: bulk } = await database.containers.create({ id: "bulk", partitionKey: { paths: ["/tenant"] } });
  const bulkOut = await bulk.items.bulk([
    { operationType: "Create", resourceBody: { id: "b1", tenant: "x", n: 1 } },
    { operationType: "Create", resourceBody: { id: "b2", tenant: "y", n: 2 } },
    { operationType: "Create", resourceBody: { id: "b1", tenant: "x", n: 9 } },
    { operationType: "Upsert", resourceBody: { id: "b3", tenant: "z", n: 3 } },
    { operationType: "Read", id: "b2", partitionKey: "y" },
    { operationType: "Read", id: "nope", partitionKey: "x" },
    { operationType: "Delete", id: "b3", partitionKey: "z" },
  ]);
  check("bulk: each operation's status", bulkOut.map((r) => r.statusCode), [201, 201, 409, 201, 200, 404, 204]);
  check("bulk: a read returns its item", bulkOut[4].resourceBody.n, 2);
  check("bulk: the failed create left the first one as it was",
    [(await bulk.item("b1", "x").read()).resource.n, (await bulk.item("b3", "z").read()).statusCode], [1, 404]);
  const streamed = await bulk.items.executeBulkOperations([
    { operationType: "Create", partitionKey: "x", resourceBody: { id: "s1", tenant: "x" } },
    { operationType: "Upsert", partitionKey: "y", resourceBody: { id: "b2", tenant: "y", n: 20 } },
  ]);
  check("executeBulkOperations: each operation's status", streamed.map((r) => r.response?.statusCode ?? String(r.error?.message)), [201, 200]);
  check("executeBulkOperations: the upsert is stored", (await bulk.item("b2", "y").read()).resource.n, 20);
  await bulk.delete();

  for (const item of items) await container.items.create(item);

  // Each query three ways: whole by default (the query sent as it is), whole through the SDK's
  // query-plan pipeline, and page by page (2 items a page) through that pipeline.
  for (const [name, query, expected, ordered] of queries) {
    const plain = (await container.items.query(query).fetchAll()).resources;
    const want = canonical(expected, ordered);
    check(`${name}`, canonical(plain, ordered), want);
    const planned = (await container.items.query(query, { forceQueryPlan: true }).fetchAll()).resources;
    check(`${name} (query plan)`, canonical(planned, ordered), want);
    const pages = await pagesOf(container.items.query(query, { forceQueryPlan: true, maxItemCount: 2 }));
    check(`${name} (query plan, pages of 2)`,
      [pages.every((p) => p.length <= 2), canonical(pages.flat(), ordered)], [true, want]);
    const controlled = await pagesOf(container.items.query(query, { enableQueryControl: true, maxItemCount: 2 }));
    check(`${name} (query control, pages of 2)`,
      [controlled.every((p) => p.length <= 2), canonical(controlled.flat(), ordered)], [true, want]);
  }

  // Paging by continuation: a first page, then a new iterator from its token: every item once.
  const all = "SELECT VALUE c.id FROM c WHERE c.n >= @min ORDER BY c.n";
  const spec = { query: all, parameters: [{ name: "@min", value: 2 }] };
  const want = sortedBy(items, (x) => x.n).filter((x) => x.n >= 2).map((x) => x.id);
  const first = await container.items.query(spec, { maxItemCount: 5 }).fetchNext();
  check("first page of 5 with a continuation", [first.resources.length, typeof first.continuationToken], [5, "string"]);
  const rest = await pagesOf(container.items.query(spec, { maxItemCount: 5, continuationToken: first.continuationToken }));
  check("the pages after the continuation complete the result exactly once",
    [rest.every((p) => p.length <= 5), [...first.resources, ...rest.flat()]], [true, want]);
  // The same through the plan, with the SDK's own (composite) token in query-control mode.
  const qc = { enableQueryControl: true, maxItemCount: 5 };
  const qcFirst = await container.items.query(spec, qc).fetchNext();
  check("query control: a first page of 5 with a token", [qcFirst.resources.length, typeof qcFirst.continuationToken],
    [5, "string"]);
  const qcRest = await pagesOf(container.items.query(spec, { ...qc, continuationToken: qcFirst.continuationToken }));
  check("query control: resuming from its token completes the result exactly once",
    [...qcFirst.resources, ...qcRest.flat()], want);
  const pages = await pagesOf(container.items.query(spec, { maxItemCount: 4 }));
  check("fetchNext pages of 4 give the whole result once",
    [pages.map((p) => p.length), pages.flat()], [[4, 4, 4, 1], want]);

  // A query the engine refuses: its 400, by default and through the plan.
  await rejects("malformed query -> 400", container.items.query("SELECT FROM c ORDER").fetchAll(), 400);
  await rejects("malformed query through the plan -> 400",
    container.items.query("SELECT FROM c ORDER", { forceQueryPlan: true }).fetchAll(), 400);

  // The change feed of the whole container from the beginning: every live item once.
  const feed = container.items.getChangeFeedIterator({ changeFeedStartFrom: ChangeFeedStartFrom.Beginning() });
  const seen = [];
  while (feed.hasMoreResults) {
    const page = await feed.readNext();
    if (page.statusCode === 304) break;
    seen.push(...page.result.map((x) => x.id));
  }
  check("change feed from the beginning", [...seen].sort(), items.map((x) => x.id).sort());

  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => fail("unexpected error", `${e.code ?? ""} ${e.stack ?? e}`));
