// The `__` object of the server-side API, after the managed service's JavaScript query API:
// `__` is the collection (its readDocument, createDocument, queryDocuments, … work as on
// getContext().getCollection()) plus the query functions filter, map, pluck, flatten, sortBy,
// sortByDescending and unwind, alone or as `__.chain()…value()`. Evaluated as one function
// expression that api.js calls with the collection, a synchronous read of one page of the
// partition's documents and the queue of callbacks; returns `__`. Owns only the pipeline over documents read through
// that page read: it must not reach the host any other way, nor write.
(function (collection, readPage, defer) {
  'use strict';

  // The order of a sort key, as a query's ORDER BY: undefined, null, false, true, numbers,
  // strings; other values (arrays, objects) after them, by their JSON text.
  function rank(v) {
    if (v === undefined) return 0;
    if (v === null) return 1;
    if (typeof v === 'boolean') return 2;
    if (typeof v === 'number') return Number.isNaN(v) ? 0 : 3;
    if (typeof v === 'string') return 4;
    return 5;
  }
  function compare(a, b) {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    if (ra === 2 || ra === 3) return a === b ? 0 : (a < b ? -1 : 1);
    if (ra === 4) return a === b ? 0 : (a < b ? -1 : 1);
    if (ra === 5) return compare(JSON.stringify(a), JSON.stringify(b));
    return 0;
  }

  function keyOf(predicate) {
    // A function of the document, a property name, or nothing (the document itself).
    if (predicate === undefined || predicate === null) return (doc) => doc;
    if (typeof predicate === 'function') return predicate;
    if (typeof predicate === 'string') return (doc) => (doc === null || doc === undefined ? undefined : doc[predicate]);
    throw new TypeError('sortBy and unwind take a function of the document, or a property name');
  }

  function flattenInto(out, v, shallow) {
    if (!Array.isArray(v)) {
      out.push(v);
      return;
    }
    for (const e of v) {
      if (Array.isArray(e) && !shallow) flattenInto(out, e, false);
      else out.push(e);
    }
  }

  // One step of a pipeline: what it does to the documents so far, and whether it needs them all
  // (a sort orders the partition, not one page).
  const steps = {
    filter(predicate) {
      if (typeof predicate !== 'function') throw new TypeError('filter takes a predicate function');
      return { all: false, run: (docs) => docs.filter((d) => predicate(d)) };
    },
    map(fn) {
      if (typeof fn !== 'function') throw new TypeError('map takes a transformation function');
      return { all: false, run: (docs) => docs.map((d) => fn(d)) };
    },
    pluck(name) {
      if (typeof name !== 'string') throw new TypeError('pluck takes a property name');
      return { all: false, run: (docs) => docs.map((d) => (d === null || d === undefined ? undefined : d[name])) };
    },
    flatten(isShallow) {
      return {
        all: false,
        run: (docs) => {
          const out = [];
          for (const d of docs) flattenInto(out, d, isShallow === true);
          return out;
        },
      };
    },
    // A self-join with an inner array: one [doc, element] (or resultSelector(doc, element)) per
    // element of collectionSelector(doc); a document whose selection is no array gives none.
    unwind(collectionSelector, resultSelector) {
      if (collectionSelector === undefined || collectionSelector === null) {
        throw new TypeError('unwind takes a collection selector: a function of the document, or a property name');
      }
      const select = keyOf(collectionSelector);
      if (resultSelector !== undefined && resultSelector !== null && typeof resultSelector !== 'function') {
        throw new TypeError('unwind\'s result selector is a function of (document, element)');
      }
      const project = resultSelector || ((d, e) => [d, e]);
      return {
        all: false,
        run: (docs) => {
          const out = [];
          for (const d of docs) {
            const inner = select(d);
            if (Array.isArray(inner)) for (const e of inner) out.push(project(d, e));
          }
          return out;
        },
      };
    },
    sortBy(predicate) {
      const key = keyOf(predicate);
      return { all: true, run: (docs) => sorted(docs, key, 1) };
    },
    sortByDescending(predicate) {
      const key = keyOf(predicate);
      return { all: true, run: (docs) => sorted(docs, key, -1) };
    },
  };

  function sorted(docs, key, sign) {
    const keyed = docs.map((d, i) => ({ d, k: key(d), i }));
    keyed.sort((a, b) => sign * compare(a.k, b.k) || a.i - b.i);
    return keyed.map((e) => e.d);
  }

  // Reads the documents the pipeline needs (one page; every page from `options.continuation` on
  // when it sorts), applies it, and queues the callback with (err, results, {continuation}).
  // Not accepted (the operation budget ran out): {isAccepted: false} and nothing queued. Without
  // a callback, an error is thrown and the results become the response body, as the service
  // does.
  function execute(pipeline, options, callback) {
    if (callback !== undefined && callback !== null && typeof callback !== 'function') {
      throw new TypeError('the callback of a query must be a function');
    }
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('the options of a query are an object ({pageSize, continuation})');
    }
    options = options || {};
    const all = pipeline.some((s) => s.all);
    let continuation = options.continuation;
    let docs = [];
    let err = null;
    do {
      const r = readPage(continuation, options.pageSize);
      if (r.accepted === false) return Object.freeze({ isAccepted: false });
      if (r.error) {
        err = r.error;
        break;
      }
      docs = docs.concat(r.documents);
      continuation = r.continuation;
    } while (all && continuation !== undefined);
    let results;
    if (!err) {
      results = docs;
      for (const s of pipeline) results = s.run(results);
    }
    const responseOptions = err ? {} : { continuation };
    defer(() => {
      if (callback) {
        callback.call(collection, err, results, responseOptions);
      } else if (err) {
        throw err;
      } else {
        getContext().getResponse().setBody(results);
      }
    });
    return Object.freeze({ isAccepted: true });
  }

  // `value(callback, options)` as the service documents it; `value(options, callback)` too.
  function valueArgs(a, b) {
    return typeof a === 'function' ? [b, a] : [a, b];
  }

  function chainOf(pipeline) {
    const c = {
      value(a, b) {
        const [options, callback] = valueArgs(a, b);
        return execute(pipeline, options, callback);
      },
    };
    for (const name of Object.keys(steps)) {
      c[name] = function (arg, second) {
        return chainOf(pipeline.concat([steps[name](arg, second)]));
      };
    }
    return Object.freeze(c);
  }

  const underscore = {};
  for (const name of Object.getOwnPropertyNames(collection)) {
    underscore[name] = collection[name];
  }
  underscore.chain = function () { return chainOf([]); };
  // `__.unwind(collectionSelector, resultSelector, [options], [callback])`: at the top level its
  // result selector is positional (null: the [document, element] tuple), so that a lone
  // function after the selector is never mistaken for the callback.
  underscore.unwind = function (collectionSelector, resultSelector, options, callback) {
    if (typeof options === 'function') [options, callback] = [callback, options];
    return execute([steps.unwind(collectionSelector, resultSelector)], options, callback);
  };
  for (const name of Object.keys(steps)) {
    if (name === 'unwind') continue;
    // `__.name(arg, [options], [callback])`: a one-step query.
    underscore[name] = function (arg, options, callback) {
      // flatten's first argument is optional: `__.flatten(callback)`, `__.flatten({pageSize})`.
      if (name === 'flatten' && arg !== undefined && typeof arg !== 'boolean') {
        [arg, options, callback] = [undefined, arg, options];
      }
      if (typeof options === 'function') [options, callback] = [callback, options];
      return execute([steps[name](arg)], options, callback);
    };
  }
  return Object.freeze(underscore);
})
