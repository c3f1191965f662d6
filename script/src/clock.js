// The only clock a script has: Date.now() and new Date() give the moment the host gave (the
// execution's or the query's), dates with explicit arguments work as usual. Evaluated as one
// function expression and called with that moment, in Unix milliseconds.
(function (nowMs) {
  'use strict';
  const RealDate = Date;
  function FrozenDate(...args) {
    if (new.target === undefined) return new RealDate(nowMs).toString();
    return args.length === 0 ? new RealDate(nowMs) : new RealDate(...args);
  }
  FrozenDate.prototype = RealDate.prototype;
  FrozenDate.now = () => nowMs;
  FrozenDate.UTC = RealDate.UTC;
  FrozenDate.parse = RealDate.parse;
  globalThis.Date = FrozenDate;
})
