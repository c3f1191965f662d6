//! Arrow plumbing: rows -> record batch, aligning old files to the grown schema, and merge on read
//! (latest version per (partition key, id) by LSN, deletes and TTL-expired items removed).
//! Pure in-memory functions; no I/O.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    UInt32Array,
};
use arrow_schema::{ArrowError, DataType, SchemaRef};

use crate::error::{AnalyticalError, Result};
use crate::schema::{Cell, Schema, ValueKind, COL_DELETED, COL_ID, COL_LSN, COL_PK, COL_TS};
use crate::ttl::{is_live, AnalyticalTtl};

/// One row to be written.
pub(crate) struct RowIn {
    pub id: String,
    pub pk: String,
    pub lsn: i64,
    pub ts: i64,
    pub deleted: bool,
    pub cells: Vec<(usize, Cell)>,
}

/// Builds a batch with `_deleted` in the schema's current shape.
pub(crate) fn build_batch(schema: &Schema, rows: &[RowIn]) -> Result<RecordBatch> {
    let n = rows.len();
    let ncols = schema.columns().len();
    let mut dense: Vec<Vec<Option<&Cell>>> = vec![vec![None; n]; ncols];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in &row.cells {
            if let Some(slot) = dense.get_mut(*c).and_then(|col| col.get_mut(r)) {
                *slot = Some(cell);
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.id.as_str()))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.pk.as_str()))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.lsn))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.ts))),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.deleted).collect::<Vec<_>>(),
        )),
    ];
    for (def, cells) in schema.columns().iter().zip(dense) {
        let array: ArrayRef = match def.kind {
            ValueKind::Bool => Arc::new(
                cells
                    .iter()
                    .map(|c| {
                        if let Some(Cell::Bool(b)) = c {
                            Some(*b)
                        } else {
                            None
                        }
                    })
                    .collect::<BooleanArray>(),
            ),
            ValueKind::Int64 => Arc::new(
                cells
                    .iter()
                    .map(|c| {
                        if let Some(Cell::Int(i)) = c {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect::<Int64Array>(),
            ),
            ValueKind::Float64 => Arc::new(
                cells
                    .iter()
                    .map(|c| match c {
                        Some(Cell::Float(f)) => Some(*f),
                        Some(Cell::Int(i)) => Some(*i as f64),
                        _ => None,
                    })
                    .collect::<Float64Array>(),
            ),
            ValueKind::String | ValueKind::Array => Arc::new(
                cells
                    .iter()
                    .map(|c| {
                        if let Some(Cell::Str(s)) = c {
                            Some(s.as_str())
                        } else {
                            None
                        }
                    })
                    .collect::<StringArray>(),
            ),
        };
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(schema.arrow_schema(true), arrays)?)
}

/// Reshapes a batch read from an older file to `target`: missing user columns become nulls,
/// int64 columns since promoted to float64 are cast. Anything else that differs is corruption.
pub(crate) fn align(batch: &RecordBatch, target: &SchemaRef) -> std::result::Result<RecordBatch, String> {
    let mut arrays = Vec::with_capacity(target.fields().len());
    for field in target.fields() {
        let array = match batch.column_by_name(field.name()) {
            Some(a) if a.data_type() == field.data_type() => Arc::clone(a),
            Some(a) if a.data_type() == &DataType::Int64 && field.data_type() == &DataType::Float64 => {
                let ints = a
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or_else(|| format!("column {} is not int64", field.name()))?;
                Arc::new(ints.iter().map(|v| v.map(|i| i as f64)).collect::<Float64Array>()) as ArrayRef
            }
            Some(a) => {
                return Err(format!(
                    "column {} has type {} but the schema says {}",
                    field.name(),
                    a.data_type(),
                    field.data_type()
                ))
            }
            None if field.is_nullable() => new_null_array(field.data_type(), batch.num_rows()),
            None => return Err(format!("system column {} is missing", field.name())),
        };
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::clone(target), arrays).map_err(|e| e.to_string())
}

fn typed<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            AnalyticalError::Arrow(ArrowError::SchemaError(format!("system column {name} missing")))
        })
}

/// Merge on read over aligned batches (all with `_deleted`): one row per (partition key, id), the one
/// with the highest LSN (a later row wins a tie); deleted and expired items removed. Rows come out
/// ordered by (partition key JSON, id). The result keeps the `_deleted` column (all false).
pub(crate) fn merge(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    ttl: AnalyticalTtl,
    now: i64,
) -> Result<RecordBatch> {
    let all = arrow_select::concat::concat_batches(schema, batches)?;
    let ids = typed::<StringArray>(&all, COL_ID)?;
    let pks = typed::<StringArray>(&all, COL_PK)?;
    let lsns = typed::<Int64Array>(&all, COL_LSN)?;
    let tss = typed::<Int64Array>(&all, COL_TS)?;
    let deleted = typed::<BooleanArray>(&all, COL_DELETED)?;
    let mut latest: HashMap<(&str, &str), usize> = HashMap::with_capacity(all.num_rows());
    for row in 0..all.num_rows() {
        let key = (pks.value(row), ids.value(row));
        match latest.get(&key) {
            Some(&prev) if lsns.value(prev) > lsns.value(row) => {}
            _ => {
                latest.insert(key, row);
            }
        }
    }
    let mut keep: Vec<((&str, &str), usize)> = latest
        .into_iter()
        .filter(|(_, row)| !deleted.value(*row) && is_live(ttl, tss.value(*row), now))
        .collect();
    keep.sort_by(|a, b| a.0.cmp(&b.0));
    let indices: Vec<u32> = keep
        .iter()
        .map(|(_, r)| u32::try_from(*r))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| AnalyticalError::BadRequest("more than 4 billion rows in one scan".into()))?;
    let indices = UInt32Array::from(indices);
    Ok(arrow_select::take::take_record_batch(&all, &indices)?)
}

/// Drops the `_deleted` column (the output of [`merge`] for readers).
pub(crate) fn without_deleted(batch: &RecordBatch) -> Result<RecordBatch> {
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() != COL_DELETED)
        .map(|(i, _)| i)
        .collect();
    Ok(batch.project(&keep)?)
}
