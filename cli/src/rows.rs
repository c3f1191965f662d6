//! Rows of a result (a listing, query items, one item) and their renderings: a terminal-sized
//! comfy-table, CSV (RFC 4180, via the csv crate) and JSON Lines. Called by `output` only; pure
//! formatting, no engine calls.

use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, ContentArrangement, Table};
use serde_json::{Map, Value};

/// Named columns and rows of JSON values, one value per column (missing ones are `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<Value>>>,
    /// Rows came from whole JSON values: JSON Lines prints those values unchanged.
    originals: Option<Vec<Value>>,
}

impl Rows {
    /// Fixed columns with one value per column in every row.
    pub fn table(columns: &[&str], rows: &[Vec<Value>]) -> Rows {
        Rows {
            columns: columns.iter().map(|c| (*c).to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().cloned().map(Some).collect())
                .collect(),
            originals: None,
        }
    }

    /// Whole JSON values (query results, items): one column per top-level property when every
    /// value is an object, else one `value` column. The columns come in the order of `leading`
    /// (a query's SELECT list), then of first appearance (the first item's property order, then
    /// properties only later items have).
    pub fn records(values: &[Value], leading: &[String]) -> Rows {
        let objects: Option<Vec<&Map<String, Value>>> = values.iter().map(Value::as_object).collect();
        let (columns, rows) = match objects {
            Some(objects) => {
                let mut columns: Vec<String> = leading.to_vec();
                for o in &objects {
                    for k in o.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
                let rows = objects
                    .iter()
                    .map(|o| columns.iter().map(|c| o.get(c).cloned()).collect())
                    .collect();
                (columns, rows)
            }
            None => (
                vec!["value".to_string()],
                values.iter().map(|v| vec![Some(v.clone())]).collect(),
            ),
        };
        Rows {
            columns,
            rows,
            originals: Some(values.to_vec()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A comfy-table sized to the terminal (dynamic arrangement); bold header when `color`.
    pub fn to_table(&self, color: bool) -> Table {
        let header = self.columns.iter().map(|c| {
            let cell = Cell::new(c);
            if color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        });
        let mut t = new_table(header);
        for row in &self.rows {
            t.add_row(row.iter().map(|v| v.as_ref().map(cell).unwrap_or_default()));
        }
        t
    }

    /// CSV with a header line; nested values as compact JSON, null and missing as empty fields.
    pub fn write_csv(&self, out: impl Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(&self.columns).map_err(io::Error::other)?;
        for row in &self.rows {
            w.write_record(row.iter().map(|v| v.as_ref().map(csv_field).unwrap_or_default()))
                .map_err(io::Error::other)?;
        }
        w.flush()
    }

    /// One compact JSON value per line: the original values, or one object per row.
    pub fn write_jsonl(&self, mut out: impl Write) -> io::Result<()> {
        match &self.originals {
            Some(values) => {
                for v in values {
                    writeln!(out, "{v}")?;
                }
            }
            None => {
                for row in &self.rows {
                    let obj: Map<String, Value> = self
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.clone(), v.clone().unwrap_or(Value::Null)))
                        .collect();
                    writeln!(out, "{}", Value::Object(obj))?;
                }
            }
        }
        out.flush()
    }
}

/// A table with this header in the CLI's house style, sized to the terminal.
pub fn new_table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<Cell>,
{
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

/// A JSON value as table-cell text: strings bare, null as "-", objects pretty-printed.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => {
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        }
        other => other.to_string(),
    }
}

/// A JSON value as a CSV field: strings bare, null empty, objects and arrays as compact JSON.
fn csv_field(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csv_of(r: &Rows) -> String {
        let mut buf = Vec::new();
        r.write_csv(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn jsonl_of(r: &Rows) -> String {
        let mut buf = Vec::new();
        r.write_jsonl(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn records_take_the_union_of_properties() {
        let r = Rows::records(&[json!({"a": 1}), json!({"b": "x", "a": 2})], &[]);
        assert_eq!(r.columns, ["a", "b"]);
        assert_eq!(r.rows[0], vec![Some(json!(1)), None]);
        let mixed = Rows::records(&[json!(1), json!({"a": 1})], &[]);
        assert_eq!(mixed.columns, ["value"]);
        let t = mixed.to_table(false).to_string();
        assert!(t.contains("value"), "{t}");
    }

    #[test]
    fn leading_columns_come_first_in_their_order() {
        // `SELECT c.zeta, c.alpha, c.mid`: the first result lacks zeta and mid.
        let leading = ["zeta".to_string(), "alpha".to_string(), "mid".to_string()];
        let r = Rows::records(&[json!({"alpha": 1}), json!({"zeta": 2, "alpha": 3})], &leading);
        assert_eq!(r.columns, ["zeta", "alpha", "mid"]);
        assert_eq!(r.rows[0], vec![None, Some(json!(1)), None]);
        assert_eq!(csv_of(&r), "zeta,alpha,mid\n,1,\n2,3,\n");
        // Without a SELECT list: the first item's order, then what later items add.
        let r = Rows::records(
            &[json!({"zeta": 1, "alpha": 2}), json!({"beta": 3, "zeta": 4})],
            &[],
        );
        assert_eq!(r.columns, ["zeta", "alpha", "beta"]);
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        let r = Rows::records(
            &[
                json!({"id": "1", "note": "a,b", "q": "say \"hi\"", "n": null, "o": {"k": [1]}}),
                json!({"id": "2", "note": "line1\nline2"}),
            ],
            &[],
        );
        // Columns in the first item's property order.
        assert_eq!(
            csv_of(&r),
            "id,note,q,n,o\n1,\"a,b\",\"say \"\"hi\"\"\",,\"{\"\"k\"\":[1]}\"\n2,\"line1\nline2\",,,\n"
        );
    }

    #[test]
    fn jsonl_prints_originals_or_objects() {
        let items = [json!({"id": "1", "x": [1, 2]}), json!(5)];
        assert_eq!(
            jsonl_of(&Rows::records(&items, &[])),
            "{\"id\":\"1\",\"x\":[1,2]}\n5\n"
        );
        let t = Rows::table(&["name", "n"], &[vec![json!("d"), json!(2)]]);
        assert_eq!(jsonl_of(&t), "{\"name\":\"d\",\"n\":2}\n");
        assert_eq!(csv_of(&t), "name,n\nd,2\n");
    }
}
