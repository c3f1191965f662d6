// console for a procedure whose caller asked for the script log, as the managed service has it.
// Compiled only then, so executions without a log do not pay for it (api.js's console drops
// everything). Evaluated as one function expression and called with the log's sink: a native
// function taking one line and answering false once the log is full, after which calls are
// dropped unformatted.
(function (logSink) {
  'use strict';
  // One line per call, the arguments joined by spaces, strings as they are and other values as
  // JSON; a first string argument with further arguments is a format (%s, %d, %i, %f, %j, %o,
  // %O, %c, %%).
  let logOpen = true;
  function asText(v) {
    if (typeof v === 'string') return v;
    if (v === null || typeof v === 'object') {
      try {
        const j = JSON.stringify(v);
        if (j !== undefined) return j;
      } catch (e) {
        // A cycle: fall through to the value's own text.
      }
    }
    try {
      return String(v);
    } catch (e) {
      return Object.prototype.toString.call(v);
    }
  }
  function formatted(args) {
    if (args.length < 2 || typeof args[0] !== 'string') return args.map(asText).join(' ');
    let i = 1;
    const head = args[0].replace(/%[sdifjoOc%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const v = args[i++];
      switch (m) {
        case '%d': return String(Number(v));
        case '%i': return String(parseInt(v, 10));
        case '%f': return String(parseFloat(v));
        case '%c': return '';
        default: return asText(v);
      }
    });
    return [head].concat(args.slice(i).map(asText)).join(' ');
  }
  function write() {
    if (!logOpen) return;
    const args = Array.prototype.slice.call(arguments);
    let line;
    try {
      line = formatted(args);
    } catch (e) {
      // A value that cannot be a number (a Symbol for %d): each argument as text.
      line = args.map(asText).join(' ');
    }
    logOpen = logSink(line);
  }
  globalThis.console = Object.freeze({ log: write, info: write, warn: write, error: write, debug: write });
})
