// The server-side API a stored procedure sees, after the managed service's: getContext(), its
// collection, request and response, and `__` (chain.js). Evaluated as one function expression;
// the sandbox calls it with the bridge to the host (one native function taking and returning
// JSON text), the collection's links and chain.js's factory, and gets back the function that invokes the
// procedure or trigger. Every operation runs at once on the host; its callback is queued and called, in
// order, after the procedure's function returns, as the managed service calls them later.
(function (host, selfLink, altLink, chain) {
  'use strict';
  const pending = [];
  let body = undefined;
  let requestBody = undefined;

  function failure(r) {
    const e = new Error(r.message);
    e.number = r.status;
    e.code = r.status;
    e.substatus = r.substatus;
    e.body = JSON.stringify({ code: r.status, message: r.message });
    return e;
  }

  function call(op, arg, callback) {
    if (callback !== undefined && callback !== null && typeof callback !== 'function') {
      throw new TypeError('the callback of a collection operation must be a function');
    }
    const r = JSON.parse(host(op, JSON.stringify(arg)));
    if (r.accepted === false) return false;
    const err = r.ok ? null : failure(r);
    let value = r.ok ? r.value : undefined;
    let responseOptions = {};
    if (r.ok && (op === 'query' || op === 'readAll')) {
      responseOptions = { continuation: value.continuation === null ? undefined : value.continuation };
      value = value.documents;
    }
    if (callback) {
      pending.push(() => callback.call(collection, err, value, responseOptions));
    } else if (err) {
      pending.push(() => { throw err; });
    }
    return true;
  }

  function lastSegment(link) {
    if (typeof link !== 'string' || link === '') {
      throw new TypeError('a document link is a non-empty string, such as doc._self');
    }
    const parts = link.split('/').filter((p) => p !== '');
    return parts[parts.length - 1];
  }

  function ifMatchOf(options) {
    if (typeof options.etag === 'string') return options.etag;
    const ac = options.accessCondition;
    if (ac && ac.type === 'IfMatch' && typeof ac.condition === 'string') return ac.condition;
    return null;
  }

  function split(options, callback) {
    return typeof options === 'function' ? [{}, options] : [options || {}, callback];
  }

  const collection = Object.freeze({
    getSelfLink() { return selfLink; },
    getAltLink() { return altLink; },
    readDocument(link, options, callback) {
      [options, callback] = split(options, callback);
      return call('read', { link: lastSegment(link) }, callback);
    },
    createDocument(link, doc, options, callback) {
      [options, callback] = split(options, callback);
      return call('create', { doc, autoId: !options.disableAutomaticIdGeneration }, callback);
    },
    replaceDocument(link, doc, options, callback) {
      [options, callback] = split(options, callback);
      return call('replace', { link: lastSegment(link), doc, ifMatch: ifMatchOf(options) }, callback);
    },
    upsertDocument(link, doc, options, callback) {
      [options, callback] = split(options, callback);
      return call('upsert', { doc, ifMatch: ifMatchOf(options) }, callback);
    },
    deleteDocument(link, options, callback) {
      [options, callback] = split(options, callback);
      return call('delete', { link: lastSegment(link), ifMatch: ifMatchOf(options) }, callback);
    },
    queryDocuments(link, query, options, callback) {
      [options, callback] = split(options, callback);
      const q = typeof query === 'string' ? { query } : (query || {});
      if (typeof q.query !== 'string') {
        throw new TypeError('a query is a string or {query, parameters: [{name, value}]}');
      }
      return call('query', {
        sql: q.query,
        parameters: q.parameters || [],
        continuation: options.continuation,
        pageSize: options.pageSize,
      }, callback);
    },
    readDocuments(link, options, callback) {
      [options, callback] = split(options, callback);
      return call('readAll', { continuation: options.continuation, pageSize: options.pageSize }, callback);
    },
  });

  const response = Object.freeze({
    setBody(v) { body = v; },
    getBody() { return body; },
    appendBody(s) { body = (body === undefined ? '' : String(body)) + String(s); },
  });
  const request = Object.freeze({
    getBody() { return requestBody; },
    getValue() { return requestBody; },
    // A pre-trigger changes the item the request writes.
    setBody(v) { requestBody = v; },
    setValue(v) { requestBody = v; },
  });
  const context = Object.freeze({
    getCollection() { return collection; },
    getResponse() { return response; },
    getRequest() { return request; },
  });
  globalThis.getContext = function getContext() { return context; };

  // One page of the partition's documents, for `__`: {documents, continuation}, {error}, or
  // {accepted: false} when the operation budget is spent.
  function readPage(continuation, pageSize) {
    const r = JSON.parse(host('readAll', JSON.stringify({ continuation, pageSize })));
    if (r.accepted === false) return { accepted: false };
    if (!r.ok) return { error: failure(r) };
    const next = r.value.continuation;
    return { documents: r.value.documents, continuation: next === null ? undefined : next };
  }
  globalThis.__ = chain(collection, readPage, (fn) => { pending.push(fn); });

  // console: accepted and dropped, unless the caller asked for the script log (console.js then
  // replaces it before the procedure runs).
  const dropped = function () {};
  globalThis.console = Object.freeze({ log: dropped, info: dropped, warn: dropped, error: dropped, debug: dropped });

  // A procedure's request body is its arguments; a trigger's is the item the request writes,
  // and a post-trigger's response body the item as written.
  return function invoke(fn, argsJson, requestJson, responseJson) {
    const args = JSON.parse(argsJson);
    requestBody = requestJson === undefined ? args : JSON.parse(requestJson);
    body = responseJson === undefined ? undefined : JSON.parse(responseJson);
    fn.apply(context, args);
    for (let i = 0; i < pending.length; i++) {
      pending[i]();
    }
    return JSON.stringify({
      body: body === undefined ? null : body,
      request: requestBody === undefined ? null : requestBody,
    });
  };
})
