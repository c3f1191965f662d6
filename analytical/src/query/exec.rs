//! Executor of the query subset over one merged record batch: filter, then projection or
//! grouped aggregation. Missing and null are the same value here (the columnar tier cannot tell
//! them apart); comparisons between different types are undefined and do not match, except
//! `= null` / `!= null`, which test for null.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use serde_json::{Map, Number, Value};

use super::parse::{Agg, CmpOp, Expr, ItemExpr, Operand, Path, Query, Select};
use crate::error::{AnalyticalError, Result};
use crate::schema::{Schema, ValueKind, COL_ID, COL_LSN, COL_PK, COL_TS};

/// Rows of a query result; `columns` gives the SELECT order (a `Map` is ordered by name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Map<String, Value>>,
}

/// A way to read one logical property: the first non-null of its physical columns.
struct Getter {
    arrays: Vec<(ArrayRef, bool)>, // (column, holds JSON text to parse)
}

impl Getter {
    fn value(&self, row: usize) -> Value {
        for (array, json) in &self.arrays {
            if array.is_null(row) {
                continue;
            }
            let any = array.as_any();
            if let Some(a) = any.downcast_ref::<StringArray>() {
                let s = a.value(row);
                return if *json {
                    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
                } else {
                    Value::String(s.to_string())
                };
            }
            if let Some(a) = any.downcast_ref::<Int64Array>() {
                return Value::from(a.value(row));
            }
            if let Some(a) = any.downcast_ref::<Float64Array>() {
                return Number::from_f64(a.value(row))
                    .map(Value::Number)
                    .unwrap_or(Value::Null);
            }
            if let Some(a) = any.downcast_ref::<BooleanArray>() {
                return Value::Bool(a.value(row));
            }
        }
        Value::Null
    }
}

struct Ctx<'a> {
    schema: &'a Schema,
    batch: &'a RecordBatch,
    getters: HashMap<String, Getter>,
}

impl<'a> Ctx<'a> {
    fn resolve(&mut self, path: &Path) -> Result<()> {
        if self.getters.contains_key(&path.dotted) {
            return Ok(());
        }
        let system = [COL_ID, COL_PK, COL_LSN, COL_TS];
        let mut arrays = Vec::new();
        if let Some(name) = system.iter().find(|s| **s == path.dotted) {
            if let Some(a) = self.batch.column_by_name(name) {
                arrays.push((a.clone(), *name == COL_PK));
            }
        } else {
            if self.schema.is_object_only(&path.dotted) {
                return Err(AnalyticalError::query(
                    path.pos,
                    format!(
                        "{} is an object; select or compare its leaf properties",
                        path.dotted
                    ),
                ));
            }
            for def in self.schema.columns_for_path(&path.dotted) {
                if let Some(a) = self.batch.column_by_name(&def.name) {
                    arrays.push((a.clone(), def.kind == ValueKind::Array));
                }
            }
        }
        self.getters.insert(path.dotted.clone(), Getter { arrays });
        Ok(())
    }

    fn get(&self, path: &Path, row: usize) -> Value {
        self.getters
            .get(&path.dotted)
            .map(|g| g.value(row))
            .unwrap_or(Value::Null)
    }

    fn operand(&self, op: &Operand, row: usize) -> Value {
        match op {
            Operand::Lit(v) => v.clone(),
            Operand::Path(p) => self.get(p, row),
        }
    }

    fn eval(&self, e: &Expr, row: usize) -> Option<bool> {
        match e {
            Expr::Cmp(l, op, r) => {
                let (a, b) = (self.operand(l, row), self.operand(r, row));
                if a.is_null() != b.is_null() {
                    return match op {
                        CmpOp::Eq => Some(false),
                        CmpOp::Ne => Some(true),
                        _ => None,
                    };
                }
                let ord = compare(&a, &b)?;
                Some(match op {
                    CmpOp::Eq => ord == Ordering::Equal,
                    CmpOp::Ne => ord != Ordering::Equal,
                    CmpOp::Lt => ord == Ordering::Less,
                    CmpOp::Le => ord != Ordering::Greater,
                    CmpOp::Gt => ord == Ordering::Greater,
                    CmpOp::Ge => ord != Ordering::Less,
                })
            }
            Expr::And(l, r) => match (self.eval(l, row), self.eval(r, row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Expr::Or(l, r) => match (self.eval(l, row), self.eval(r, row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::Not(inner) => self.eval(inner, row).map(|b| !b),
        }
    }
}

/// Same-type comparison; `None` (undefined) across types.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        _ => None,
    }
}

/// A total order for MIN/MAX and group ordering: null < bool < number < string < other.
fn total_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    rank(a)
        .cmp(&rank(b))
        .then_with(|| compare(a, b).unwrap_or_else(|| a.to_string().cmp(&b.to_string())))
}

enum Acc {
    Count(u64),
    Sum {
        int: Option<i64>,
        float: f64,
        any_float: bool,
    },
    Avg {
        sum: f64,
        n: u64,
    },
    Min(Option<Value>),
    Max(Option<Value>),
}

impl Acc {
    fn new(agg: Agg) -> Self {
        match agg {
            Agg::Count => Acc::Count(0),
            Agg::Sum => Acc::Sum {
                int: Some(0),
                float: 0.0,
                any_float: false,
            },
            Agg::Avg => Acc::Avg { sum: 0.0, n: 0 },
            Agg::Min => Acc::Min(None),
            Agg::Max => Acc::Max(None),
        }
    }

    /// `v` is `None` for COUNT(1).
    fn add(&mut self, v: Option<Value>) {
        match (self, v) {
            (Acc::Count(n), None) => *n += 1,
            (Acc::Count(n), Some(v)) if !v.is_null() => *n += 1,
            (
                Acc::Sum {
                    int,
                    float,
                    any_float,
                },
                Some(Value::Number(x)),
            ) => {
                match x.as_i64() {
                    Some(i) => *int = int.and_then(|s| s.checked_add(i)),
                    None => *any_float = true,
                }
                *float += x.as_f64().unwrap_or(0.0);
            }
            (Acc::Avg { sum, n }, Some(Value::Number(x))) => {
                *sum += x.as_f64().unwrap_or(0.0);
                *n += 1;
            }
            (Acc::Min(cur), Some(v))
                if is_orderable(&v) && cur.as_ref().is_none_or(|c| total_cmp(&v, c) == Ordering::Less) =>
            {
                *cur = Some(v);
            }
            (Acc::Max(cur), Some(v))
                if is_orderable(&v) && cur.as_ref().is_none_or(|c| total_cmp(&v, c) == Ordering::Greater) =>
            {
                *cur = Some(v);
            }
            _ => {}
        }
    }

    fn finish(self) -> Value {
        match self {
            Acc::Count(n) => Value::from(n),
            Acc::Sum {
                int: Some(i),
                any_float: false,
                ..
            } => Value::from(i),
            Acc::Sum { float, .. } => Number::from_f64(float).map(Value::Number).unwrap_or(Value::Null),
            Acc::Avg { n: 0, .. } => Value::Null,
            Acc::Avg { sum, n } => Number::from_f64(sum / n as f64)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Acc::Min(v) | Acc::Max(v) => v.unwrap_or(Value::Null),
        }
    }
}

fn is_orderable(v: &Value) -> bool {
    matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_))
}

/// Runs `q` over the merged rows in `batch`.
pub(crate) fn execute(q: &Query, schema: &Schema, batch: &RecordBatch) -> Result<QueryResult> {
    let mut ctx = Ctx {
        schema,
        batch,
        getters: HashMap::new(),
    };
    let mut paths: Vec<&Path> = q.group_by.iter().collect();
    if let Select::Items(items) = &q.select {
        for item in items {
            match &item.expr {
                ItemExpr::Path(p) | ItemExpr::Agg(_, Some(p)) => paths.push(p),
                ItemExpr::Agg(_, None) => {}
            }
        }
    }
    if let Some(f) = &q.filter {
        collect_paths(f, &mut paths);
    }
    for p in paths {
        ctx.resolve(p)?;
    }
    let rows: Vec<usize> = (0..batch.num_rows())
        .filter(|r| q.filter.as_ref().is_none_or(|f| ctx.eval(f, *r) == Some(true)))
        .collect();

    let items = match &q.select {
        Select::Star => {
            if !q.group_by.is_empty() {
                return Err(AnalyticalError::query(
                    0,
                    "SELECT * cannot be combined with GROUP BY",
                ));
            }
            return Ok(select_star(schema, batch, &rows));
        }
        Select::Items(items) => items,
    };

    // Output names: alias, else the last path segment, else $1, $2, ... for aggregates.
    let mut columns = Vec::with_capacity(items.len());
    let mut unnamed = 0;
    let mut seen = HashSet::new();
    for item in items {
        let name = match (&item.alias, &item.expr) {
            (Some(a), _) => a.clone(),
            (None, ItemExpr::Path(p)) => p.last.clone(),
            (None, ItemExpr::Agg(..)) => {
                unnamed += 1;
                format!("${unnamed}")
            }
        };
        if !seen.insert(name.clone()) {
            return Err(AnalyticalError::query(
                0,
                format!("duplicate output name {name}; use AS to rename"),
            ));
        }
        columns.push(name);
    }

    let aggregate = !q.group_by.is_empty() || items.iter().any(|i| matches!(i.expr, ItemExpr::Agg(..)));
    if !aggregate {
        let out = rows
            .iter()
            .map(|&r| {
                columns
                    .iter()
                    .zip(items)
                    .map(|(name, item)| {
                        let v = match &item.expr {
                            ItemExpr::Path(p) => ctx.get(p, r),
                            ItemExpr::Agg(..) => Value::Null,
                        };
                        (name.clone(), v)
                    })
                    .collect()
            })
            .collect();
        return Ok(QueryResult { columns, rows: out });
    }

    for item in items {
        if let ItemExpr::Path(p) = &item.expr {
            if !q.group_by.iter().any(|g| g.dotted == p.dotted) {
                return Err(AnalyticalError::query(
                    p.pos,
                    format!("{} must appear in GROUP BY or inside an aggregate", p.dotted),
                ));
            }
        }
    }

    let new_accs = || {
        items
            .iter()
            .filter_map(|i| match i.expr {
                ItemExpr::Agg(a, _) => Some(Acc::new(a)),
                ItemExpr::Path(_) => None,
            })
            .collect::<Vec<_>>()
    };
    let mut groups: Vec<(Vec<Value>, Vec<Acc>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    if q.group_by.is_empty() {
        groups.push((Vec::new(), new_accs()));
        index.insert(String::new(), 0);
    }
    for &r in &rows {
        let key: Vec<Value> = q.group_by.iter().map(|g| ctx.get(g, r)).collect();
        let key_text = if q.group_by.is_empty() {
            String::new()
        } else {
            Value::Array(key.clone()).to_string()
        };
        let slot = match index.get(&key_text) {
            Some(&i) => i,
            None => {
                groups.push((key, new_accs()));
                index.insert(key_text, groups.len() - 1);
                groups.len() - 1
            }
        };
        let Some((_, accs)) = groups.get_mut(slot) else {
            continue;
        };
        let mut accs_iter = accs.iter_mut();
        for item in items {
            if let ItemExpr::Agg(_, arg) = &item.expr {
                if let Some(acc) = accs_iter.next() {
                    acc.add(arg.as_ref().map(|p| ctx.get(p, r)));
                }
            }
        }
    }
    groups.sort_by(|a, b| {
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| total_cmp(x, y))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    let out = groups
        .into_iter()
        .map(|(key, accs)| {
            let mut accs = accs.into_iter();
            columns
                .iter()
                .zip(items)
                .map(|(name, item)| {
                    let v = match &item.expr {
                        ItemExpr::Agg(..) => accs.next().map(Acc::finish).unwrap_or(Value::Null),
                        ItemExpr::Path(p) => q
                            .group_by
                            .iter()
                            .position(|g| g.dotted == p.dotted)
                            .and_then(|i| key.get(i).cloned())
                            .unwrap_or(Value::Null),
                    };
                    (name.clone(), v)
                })
                .collect()
        })
        .collect();
    Ok(QueryResult { columns, rows: out })
}

fn collect_paths<'q>(e: &'q Expr, out: &mut Vec<&'q Path>) {
    match e {
        Expr::Cmp(l, _, r) => {
            for o in [l, r] {
                if let Operand::Path(p) = o {
                    out.push(p);
                }
            }
        }
        Expr::And(l, r) | Expr::Or(l, r) => {
            collect_paths(l, out);
            collect_paths(r, out);
        }
        Expr::Not(inner) => collect_paths(inner, out),
    }
}

fn select_star(schema: &Schema, batch: &RecordBatch, rows: &[usize]) -> QueryResult {
    let batch_schema = batch.schema();
    let getters: Vec<(String, Getter)> = batch_schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| {
            let json = f.name() == COL_PK
                || (f.data_type() == &DataType::Utf8
                    && schema
                        .columns()
                        .iter()
                        .any(|c| &c.name == f.name() && c.kind == ValueKind::Array));
            (
                f.name().clone(),
                Getter {
                    arrays: vec![(a.clone(), json)],
                },
            )
        })
        .collect();
    let columns = getters.iter().map(|(n, _)| n.clone()).collect();
    let out = rows
        .iter()
        .map(|&r| getters.iter().map(|(n, g)| (n.clone(), g.value(r))).collect())
        .collect();
    QueryResult { columns, rows: out }
}
