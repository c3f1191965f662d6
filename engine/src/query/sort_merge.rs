//! Sorting outside memory for an ORDER BY the index cannot serve: the record of one sorted
//! result as a run stores it, the `RunStore` a `Collector` hands its sorted runs to, and the
//! k-way merge of the runs (and the results still in memory) back into ORDER BY's order. The
//! merge compares exactly as the in-memory sort does (sort keys, then item key, then arrival),
//! so the result is the same whichever way it was sorted. Pure: the store that writes and reads
//! run files is the caller's (`account/sort_runs.rs`); this module never touches storage.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde_json::{json, Value};

use super::exec::Prepared;
use super::value::Val;
use crate::error::{Error, Result};
use strata_base::seal::hex;

/// One result of an ORDER BY sorted in memory: its sort keys, the key of the item it came from
/// (ties in the sort go by item key, so a lookup read in index order sorts as a key-order scan
/// does), the order it arrived in (rows of one item, through a JOIN), and the projected value.
pub(crate) struct Sorted {
    pub(crate) keys: Vec<Val>,
    pub(crate) item: Vec<u8>,
    pub(crate) seq: u64,
    pub(crate) value: Value,
}

impl Sorted {
    /// The record a run stores: `[[key…], "<hex item key>", seq, value]`, each key `[]` when
    /// undefined and `[v]` otherwise.
    pub(crate) fn into_record(self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .into_iter()
            .map(|k| Value::Array(k.into_iter().collect()))
            .collect();
        json!([keys, hex::encode(&self.item), self.seq, self.value])
    }

    /// The result a record stores; `None` for a record of another shape.
    pub(crate) fn from_record(record: Value) -> Option<Sorted> {
        let Value::Array(fields) = record else {
            return None;
        };
        let [Value::Array(keys), Value::String(item), Value::Number(seq), value] =
            <[Value; 4]>::try_from(fields).ok()?
        else {
            return None;
        };
        let keys = keys
            .into_iter()
            .map(|k| match k {
                Value::Array(mut k) if k.len() <= 1 => Some(k.pop()),
                _ => None,
            })
            .collect::<Option<Vec<Val>>>()?;
        Some(Sorted {
            keys,
            item: hex::decode(&item)?,
            seq: seq.as_u64()?,
            value,
        })
    }

    /// Bytes of the record's compact JSON, about: what a run's share of memory is counted in.
    pub(crate) fn record_bytes(&self) -> usize {
        let keys: usize = self
            .keys
            .iter()
            .map(|k| k.as_ref().map_or(2, |v| json_len(v) + 2))
            .sum();
        keys + self.item.len() * 2 + json_len(&self.value) + 32
    }
}

/// Length of `v`'s compact JSON, without building it.
fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    // Writing to a counter cannot fail, and a `Value` always serializes.
    let _ = serde_json::to_writer(&mut n, v);
    n.0
}

/// Records read back from one run, in the order they were written.
pub(crate) type RunReader = Box<dyn Iterator<Item = Result<Value>>>;

/// Where a collector's sorted runs go: the caller's sealed files. Dropping the store deletes
/// every run it wrote.
pub(crate) trait RunStore {
    /// Writes one run of records, in sort order.
    fn write_run(&mut self, records: &mut dyn Iterator<Item = Value>) -> Result<()>;
    /// Readers of every run written, each from its first record.
    fn open_runs(&mut self) -> Result<Vec<RunReader>>;
}

/// The next result of one source of the merge, with the source it came from.
struct Head<'p> {
    p: &'p Prepared,
    row: Sorted,
    source: usize,
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head<'_> {
    /// Reversed: `BinaryHeap` is a max-heap, the merge takes the least first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.p.sort_cmp(&other.row, &self.row)
    }
}

/// The k-way merge of sorted runs and of the sorted results still in memory (the last source),
/// yielding projected values in ORDER BY's order. Holds one result per source, and the store
/// (its runs are deleted when the merge is dropped).
pub(crate) struct Merge<'p> {
    p: &'p Prepared,
    heap: BinaryHeap<Head<'p>>,
    runs: Vec<RunReader>,
    tail: std::vec::IntoIter<Sorted>,
    _store: Box<dyn RunStore + 'p>,
    failed: bool,
}

impl<'p> Merge<'p> {
    /// Merges the runs of `store` with `tail` (sorted).
    pub(crate) fn new(
        p: &'p Prepared,
        mut store: Box<dyn RunStore + 'p>,
        tail: Vec<Sorted>,
    ) -> Result<Merge<'p>> {
        let runs = store.open_runs()?;
        let mut merge = Merge {
            p,
            heap: BinaryHeap::with_capacity(runs.len() + 1),
            runs,
            tail: tail.into_iter(),
            _store: store,
            failed: false,
        };
        for source in 0..=merge.runs.len() {
            merge.refill(source)?;
        }
        Ok(merge)
    }

    /// Pushes the next result of `source` (the tail when it is `runs.len()`) on the heap.
    fn refill(&mut self, source: usize) -> Result<()> {
        let next = match self.runs.get_mut(source) {
            Some(run) => match run.next().transpose()? {
                Some(record) => Some(
                    Sorted::from_record(record)
                        .ok_or_else(|| Error::Internal("a record of a sort run is malformed".into()))?,
                ),
                None => None,
            },
            None => self.tail.next(),
        };
        if let Some(row) = next {
            self.heap.push(Head {
                p: self.p,
                row,
                source,
            });
        }
        Ok(())
    }
}

impl Iterator for Merge<'_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        if self.failed {
            return None;
        }
        let head = self.heap.pop()?;
        if let Err(e) = self.refill(head.source) {
            self.failed = true;
            return Some(Err(e));
        }
        Some(Ok(head.row.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Runs kept in memory, as records, to test the merge alone.
    struct Memory(Rc<RefCell<Vec<Vec<Value>>>>);

    impl RunStore for Memory {
        fn write_run(&mut self, records: &mut dyn Iterator<Item = Value>) -> Result<()> {
            self.0.borrow_mut().push(records.collect());
            Ok(())
        }
        fn open_runs(&mut self) -> Result<Vec<RunReader>> {
            Ok(self
                .0
                .borrow()
                .iter()
                .map(|r| Box::new(r.clone().into_iter().map(Ok)) as RunReader)
                .collect())
        }
    }

    #[test]
    fn records_round_trip_with_undefined_keys() {
        let row = Sorted {
            keys: vec![
                None,
                Some(json!([])),
                Some(json!(null)),
                Some(json!({"a": 1.5e300})),
            ],
            item: vec![0, 1, 0xff],
            seq: u64::MAX,
            value: json!({"x": [1, "y"]}),
        };
        let bytes = row.record_bytes();
        let record = row.into_record();
        assert!(bytes >= record.to_string().len());
        let back = Sorted::from_record(record).unwrap();
        assert_eq!(
            back.keys,
            vec![
                None,
                Some(json!([])),
                Some(json!(null)),
                Some(json!({"a": 1.5e300}))
            ]
        );
        assert_eq!(
            (back.item, back.seq, back.value),
            (vec![0, 1, 0xff], u64::MAX, json!({"x": [1, "y"]}))
        );
        for bad in [
            json!(1),
            json!([[], "zz", 1, 2]),
            json!([[[1, 2]], "", 1, 2]),
            json!([[], "", -1, 2]),
        ] {
            assert!(Sorted::from_record(bad).is_none());
        }
    }

    /// The merge of runs of every size, in both directions and over mixed types, equals the
    /// sort in memory exactly (ties by item key, then arrival).
    #[test]
    fn merged_runs_equal_the_sort_in_memory() {
        let docs: Vec<Value> = (0..500u64)
            .map(|i| match i % 7 {
                0 => json!({"i": i, "k": i % 13}),
                1 => json!({"i": i, "k": format!("s{}", i % 5)}),
                2 => json!({"i": i}),
                3 => json!({"i": i, "k": null}),
                4 => json!({"i": i, "k": i % 2 == 0}),
                5 => json!({"i": i, "k": (i % 11) as f64 / 3.0}),
                _ => json!({"i": i, "k": [i % 3]}),
            })
            .collect();
        for sql in [
            "SELECT VALUE c.i FROM c ORDER BY c.k",
            "SELECT VALUE c.i FROM c ORDER BY c.k DESC",
            "SELECT c.i, c.k FROM c ORDER BY c.k DESC, c.i",
            "SELECT VALUE c.i FROM c ORDER BY c.k, c.i DESC",
        ] {
            let p = Prepared::new(sql, &[]).unwrap();
            let want = p.run(docs.iter().cloned()).unwrap();
            for budget in [1, 100, 5_000, 1 << 30] {
                let runs = Rc::new(RefCell::new(Vec::new()));
                let mut c = super::super::Collector::new(&p)
                    .unwrap()
                    .with_runs(Box::new(Memory(runs.clone())), budget);
                // Keys in descending order: ties must come out by item key, not arrival.
                for (n, d) in docs.iter().enumerate() {
                    let key = ((docs.len() - n) as u32).to_be_bytes();
                    c.push(&key, d.clone()).unwrap();
                }
                let got: Vec<Value> = c.finish_stream().unwrap().collect::<Result<_>>().unwrap();
                let mut reference = super::super::Collector::new(&p).unwrap();
                for (n, d) in docs.iter().enumerate() {
                    let key = ((docs.len() - n) as u32).to_be_bytes();
                    reference.push(&key, d.clone()).unwrap();
                }
                assert_eq!(got, reference.finish(), "{sql} at {budget} bytes");
                assert_eq!(got.len(), want.len());
                let written = runs.borrow().len();
                match budget {
                    1 => assert_eq!(written, docs.len(), "one run per result"),
                    1_073_741_824 => assert_eq!(written, 0, "all in memory"),
                    _ => assert!(written > 1, "{written} runs"),
                }
            }
        }
    }

    /// A damaged record, or a failing run, ends the merge with the error.
    #[test]
    fn a_failing_run_is_an_error() {
        struct Broken;
        impl RunStore for Broken {
            fn write_run(&mut self, _: &mut dyn Iterator<Item = Value>) -> Result<()> {
                Ok(())
            }
            fn open_runs(&mut self) -> Result<Vec<RunReader>> {
                let bad: RunReader = Box::new(
                    vec![
                        Ok(json!([[[1]], "00", 1, "a"])),
                        Err(Error::Internal("gone".into())),
                    ]
                    .into_iter(),
                );
                let odd: RunReader = Box::new(vec![Ok(json!("not a record"))].into_iter());
                Ok(vec![bad, odd])
            }
        }
        let p = Prepared::new("SELECT VALUE c.k FROM c ORDER BY c.k", &[]).unwrap();
        let merge = Merge::new(&p, Box::new(Broken), Vec::new());
        assert!(
            merge.is_err(),
            "the malformed record is found as the merge starts"
        );
        struct Late;
        impl RunStore for Late {
            fn write_run(&mut self, _: &mut dyn Iterator<Item = Value>) -> Result<()> {
                Ok(())
            }
            fn open_runs(&mut self) -> Result<Vec<RunReader>> {
                Ok(vec![Box::new(
                    vec![
                        Ok(json!([[[1]], "00", 1, "a"])),
                        Err(Error::Internal("gone".into())),
                    ]
                    .into_iter(),
                )])
            }
        }
        let got: Vec<Result<Value>> = Merge::new(&p, Box::new(Late), Vec::new()).unwrap().collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err(), "the error of the next record, not the value");
    }
}
