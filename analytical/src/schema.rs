//! Schema inference: JSON documents -> flat, typed columns named by dotted paths.
//! Owns the column list and its growth rules (it only grows); knows nothing of files or keys.
//! Rules are specified in docs/analytical.md, "Schema rules".

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// At most this many user columns (typed columns in full-fidelity mode); values that would need
/// more are dropped and counted in [`crate::ApplyReport::dropped_values`].
pub const MAX_COLUMNS: usize = 1000;
/// At most this many path segments (nesting levels); deeper values are dropped and counted.
pub const MAX_DEPTH: usize = 127;

/// Column names the tier always writes. Top-level document properties with these names
/// (compared case-insensitively) are not stored as user columns: the change record carries them.
pub const SYSTEM_COLUMNS: [&str; 5] = [COL_ID, COL_PK, COL_LSN, COL_TS, COL_DELETED];
pub const COL_ID: &str = "id";
pub const COL_PK: &str = "_pk";
pub const COL_LSN: &str = "_lsn";
pub const COL_TS: &str = "_ts";
pub const COL_DELETED: &str = "_deleted";

/// How documents map to columns; fixed when the store is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaMode {
    /// One type per path, set by the first value seen; int and float mix (promoted to float64);
    /// values of any other type are dropped (stored as null).
    WellDefined,
    /// Every value kept, in a column per (path, type) named `path.<type>`.
    FullFidelity,
}

/// The type of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueKind {
    Bool,
    Int64,
    Float64,
    String,
    /// A JSON array, stored as its JSON text in a string column.
    Array,
}

impl ValueKind {
    /// The suffix of full-fidelity column names: `bool`, `int64`, `float64`, `string`, `array`.
    pub fn suffix(self) -> &'static str {
        match self {
            ValueKind::Bool => "bool",
            ValueKind::Int64 => "int64",
            ValueKind::Float64 => "float64",
            ValueKind::String => "string",
            ValueKind::Array => "array",
        }
    }

    /// The Arrow type of the column.
    pub fn data_type(self) -> DataType {
        match self {
            ValueKind::Bool => DataType::Boolean,
            ValueKind::Int64 => DataType::Int64,
            ValueKind::Float64 => DataType::Float64,
            ValueKind::String | ValueKind::Array => DataType::Utf8,
        }
    }
}

/// One user column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// The column name in Parquet/Arrow (first-seen spelling, plus `.<type>` in full-fidelity mode).
    pub name: String,
    /// The lower-cased dotted property path the column holds.
    pub path: String,
    pub kind: ValueKind,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PathEntry {
    /// First-seen spelling of the full dotted path.
    name: String,
    /// The path has held an object.
    object: bool,
    /// Scalar kinds seen (well-defined: at most one).
    kinds: Vec<ValueKind>,
}

/// One cell value of a row being built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// The inferred schema of a store. Persisted (encrypted) in the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schema {
    mode: SchemaMode,
    columns: Vec<ColumnDef>,
    paths: BTreeMap<String, PathEntry>,
    #[serde(skip)]
    index: HashMap<(String, ValueKind), usize>,
}

impl Schema {
    pub(crate) fn new(mode: SchemaMode) -> Self {
        Schema {
            mode,
            columns: Vec::new(),
            paths: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    /// Rebuilds the lookup index after deserialisation.
    pub(crate) fn reindex(&mut self) {
        self.index = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.path.clone(), c.kind), i))
            .collect();
    }

    pub fn mode(&self) -> SchemaMode {
        self.mode
    }

    /// The user columns, in creation order.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.columns
    }

    /// Whether `path` (lower-cased, dotted) has only ever held objects.
    pub(crate) fn is_object_only(&self, path: &str) -> bool {
        self.paths
            .get(path)
            .is_some_and(|e| e.object && e.kinds.is_empty())
    }

    /// The user columns holding the lower-cased dotted `path`.
    pub(crate) fn columns_for_path(&self, path: &str) -> Vec<&ColumnDef> {
        self.columns.iter().filter(|c| c.path == path).collect()
    }

    /// The Arrow schema of stored rows: system columns, then user columns.
    pub(crate) fn arrow_schema(&self, with_deleted: bool) -> SchemaRef {
        let mut fields = vec![
            Field::new(COL_ID, DataType::Utf8, false),
            Field::new(COL_PK, DataType::Utf8, false),
            Field::new(COL_LSN, DataType::Int64, false),
            Field::new(COL_TS, DataType::Int64, false),
        ];
        if with_deleted {
            fields.push(Field::new(COL_DELETED, DataType::Boolean, false));
        }
        fields.extend(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), true)),
        );
        Arc::new(ArrowSchema::new(fields))
    }

    /// Flattens `doc` into `row` (column index, value), growing the schema as the rules allow.
    /// Returns how many values were dropped (type conflicts, limits).
    pub(crate) fn flatten(&mut self, doc: &Map<String, Value>, row: &mut Vec<(usize, Cell)>) -> u64 {
        let mut dropped = 0;
        self.walk(doc, "", "", 1, row, &mut dropped);
        dropped
    }

    fn walk(
        &mut self,
        obj: &Map<String, Value>,
        prefix_lower: &str,
        prefix_name: &str,
        depth: usize,
        row: &mut Vec<(usize, Cell)>,
        dropped: &mut u64,
    ) {
        for (key, value) in obj {
            let key_lower = key.to_lowercase();
            if depth == 1 && SYSTEM_COLUMNS.contains(&key_lower.as_str()) {
                continue;
            }
            if value.is_null() {
                continue;
            }
            if depth > MAX_DEPTH {
                *dropped += 1;
                continue;
            }
            let lower = join(prefix_lower, &key_lower);
            let name = match self.paths.get(&lower) {
                Some(e) => e.name.clone(),
                None => join(prefix_name, key),
            };
            match value {
                Value::Object(child) => {
                    if self.mark_object(&lower, &name) {
                        self.walk(child, &lower, &name, depth + 1, row, dropped);
                    } else {
                        *dropped += 1;
                    }
                }
                scalar => {
                    let (kind, cell) = classify(scalar);
                    match self.column_for(&lower, &name, kind) {
                        Some((idx, target)) => row.push((idx, convert(cell, target))),
                        None => *dropped += 1,
                    }
                }
            }
        }
    }

    fn mark_object(&mut self, lower: &str, name: &str) -> bool {
        match self.paths.get_mut(lower) {
            None => {
                self.paths.insert(
                    lower.to_string(),
                    PathEntry {
                        name: name.to_string(),
                        object: true,
                        kinds: Vec::new(),
                    },
                );
                true
            }
            Some(entry) => match self.mode {
                SchemaMode::WellDefined => entry.kinds.is_empty(),
                SchemaMode::FullFidelity => {
                    entry.object = true;
                    true
                }
            },
        }
    }

    /// The column index for a value of `kind` at `lower`, and the kind it is stored as.
    fn column_for(&mut self, lower: &str, name: &str, kind: ValueKind) -> Option<(usize, ValueKind)> {
        match self.mode {
            SchemaMode::WellDefined => self.column_well_defined(lower, name, kind),
            SchemaMode::FullFidelity => self.column_full_fidelity(lower, name, kind),
        }
    }

    fn column_well_defined(
        &mut self,
        lower: &str,
        name: &str,
        kind: ValueKind,
    ) -> Option<(usize, ValueKind)> {
        let existing = self
            .paths
            .get(lower)
            .map(|e| (e.object, e.kinds.first().copied()));
        match existing {
            None => {
                let idx = self.add_column(lower, name.to_string(), kind)?;
                self.paths.insert(
                    lower.to_string(),
                    PathEntry {
                        name: name.to_string(),
                        object: false,
                        kinds: vec![kind],
                    },
                );
                Some((idx, kind))
            }
            Some((true, _)) | Some((false, None)) => None,
            Some((false, Some(have))) => {
                let idx = *self.index.get(&(lower.to_string(), have))?;
                match (have, kind) {
                    _ if have == kind => Some((idx, kind)),
                    (ValueKind::Float64, ValueKind::Int64) => Some((idx, ValueKind::Float64)),
                    (ValueKind::Int64, ValueKind::Float64) => {
                        // Promote the column; files written before are cast when read.
                        let col = self.columns.get_mut(idx)?;
                        col.kind = ValueKind::Float64;
                        self.index.remove(&(lower.to_string(), ValueKind::Int64));
                        self.index.insert((lower.to_string(), ValueKind::Float64), idx);
                        if let Some(e) = self.paths.get_mut(lower) {
                            e.kinds = vec![ValueKind::Float64];
                        }
                        Some((idx, ValueKind::Float64))
                    }
                    _ => None,
                }
            }
        }
    }

    fn column_full_fidelity(
        &mut self,
        lower: &str,
        name: &str,
        kind: ValueKind,
    ) -> Option<(usize, ValueKind)> {
        if let Some(idx) = self.index.get(&(lower.to_string(), kind)) {
            return Some((*idx, kind));
        }
        let idx = self.add_column(lower, format!("{name}.{}", kind.suffix()), kind)?;
        let entry = self.paths.entry(lower.to_string()).or_insert_with(|| PathEntry {
            name: name.to_string(),
            object: false,
            kinds: Vec::new(),
        });
        entry.kinds.push(kind);
        Some((idx, kind))
    }

    fn add_column(&mut self, lower: &str, name: String, kind: ValueKind) -> Option<usize> {
        if self.columns.len() >= MAX_COLUMNS {
            return None;
        }
        let idx = self.columns.len();
        self.columns.push(ColumnDef {
            name,
            path: lower.to_string(),
            kind,
        });
        self.index.insert((lower.to_string(), kind), idx);
        Some(idx)
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn classify(v: &Value) -> (ValueKind, Cell) {
    match v {
        Value::Bool(b) => (ValueKind::Bool, Cell::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => (ValueKind::Int64, Cell::Int(i)),
            None => (ValueKind::Float64, Cell::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => (ValueKind::String, Cell::Str(s.clone())),
        other => (ValueKind::Array, Cell::Str(other.to_string())),
    }
}

fn convert(cell: Cell, target: ValueKind) -> Cell {
    match (cell, target) {
        (Cell::Int(i), ValueKind::Float64) => Cell::Float(i as f64),
        (c, _) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(schema: &mut Schema, v: Value) -> (Vec<(String, Cell)>, u64) {
        let mut row = Vec::new();
        let Value::Object(m) = v else {
            panic!("test documents are objects")
        };
        let dropped = schema.flatten(&m, &mut row);
        let named = row
            .into_iter()
            .map(|(i, c)| (schema.columns()[i].name.clone(), c))
            .collect();
        (named, dropped)
    }

    fn names(schema: &Schema) -> Vec<(&str, ValueKind)> {
        schema
            .columns()
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect()
    }

    #[test]
    fn well_defined_first_type_wins_and_conflicts_drop() {
        let mut s = Schema::new(SchemaMode::WellDefined);
        let (row, dropped) = flat(
            &mut s,
            json!({"name": "a", "qty": 1, "tags": [1, 2], "addr": {"city": "X"}}),
        );
        assert_eq!(dropped, 0);
        assert_eq!(row.len(), 4);
        // New columns come in the document's property order.
        assert_eq!(
            names(&s),
            vec![
                ("name", ValueKind::String),
                ("qty", ValueKind::Int64),
                ("tags", ValueKind::Array),
                ("addr.city", ValueKind::String)
            ]
        );
        // name as number, addr as scalar, tags as string: all dropped; null stays null (not stored).
        let (row, dropped) = flat(
            &mut s,
            json!({"name": 5, "addr": "flat", "tags": "x", "qty": null}),
        );
        assert_eq!(dropped, 3);
        assert!(row.is_empty());
        assert_eq!(s.columns().len(), 4);
    }

    #[test]
    fn well_defined_int_float_promote() {
        let mut s = Schema::new(SchemaMode::WellDefined);
        flat(&mut s, json!({"price": 3}));
        let (row, dropped) = flat(&mut s, json!({"price": 2.5}));
        assert_eq!(dropped, 0);
        assert_eq!(row, vec![("price".to_string(), Cell::Float(2.5))]);
        assert_eq!(names(&s), vec![("price", ValueKind::Float64)]);
        let (row, _) = flat(&mut s, json!({"price": 7}));
        assert_eq!(row, vec![("price".to_string(), Cell::Float(7.0))]);
    }

    #[test]
    fn full_fidelity_typed_columns() {
        let mut s = Schema::new(SchemaMode::FullFidelity);
        flat(&mut s, json!({"price": 3}));
        flat(&mut s, json!({"price": 2.5}));
        flat(&mut s, json!({"price": "free"}));
        let (_, dropped) = flat(&mut s, json!({"price": {"eur": 4}, "ok": true, "l": [1]}));
        assert_eq!(dropped, 0);
        assert_eq!(
            names(&s),
            vec![
                ("price.int64", ValueKind::Int64),
                ("price.float64", ValueKind::Float64),
                ("price.string", ValueKind::String),
                ("price.eur.int64", ValueKind::Int64),
                ("ok.bool", ValueKind::Bool),
                ("l.array", ValueKind::Array)
            ]
        );
    }

    #[test]
    fn names_are_case_insensitive_first_spelling_wins() {
        let mut s = Schema::new(SchemaMode::WellDefined);
        flat(&mut s, json!({"Name": "a", "Addr": {"City": "x"}}));
        let (row, _) = flat(&mut s, json!({"NAME": "b", "addr": {"ZIP": "1"}}));
        assert_eq!(
            names(&s),
            vec![
                ("Name", ValueKind::String),
                ("Addr.City", ValueKind::String),
                ("Addr.ZIP", ValueKind::String)
            ]
        );
        assert_eq!(row.len(), 2);
        // System property names are never user columns, whatever their case.
        let (row, _) = flat(&mut s, json!({"ID": "dup", "_TS": 5}));
        assert!(row.is_empty());
    }

    #[test]
    fn limits_drop_excess() {
        let mut s = Schema::new(SchemaMode::WellDefined);
        let mut m = Map::new();
        for i in 0..(MAX_COLUMNS + 5) {
            m.insert(format!("p{i:05}"), json!(i));
        }
        let (row, dropped) = flat(&mut s, Value::Object(m));
        assert_eq!(row.len(), MAX_COLUMNS);
        assert_eq!(dropped, 5);
        assert_eq!(s.columns().len(), MAX_COLUMNS);

        let mut s = Schema::new(SchemaMode::WellDefined);
        let mut v = json!({"leaf": 1});
        for _ in 0..(MAX_DEPTH + 2) {
            v = json!({"n": v, "x": 1});
        }
        let (row, dropped) = flat(&mut s, v);
        assert!(dropped >= 1);
        let deepest = s
            .columns()
            .iter()
            .map(|c| c.path.split('.').count())
            .max()
            .unwrap_or(0);
        assert_eq!(deepest, MAX_DEPTH);
        assert_eq!(row.len(), MAX_DEPTH);
    }
}
