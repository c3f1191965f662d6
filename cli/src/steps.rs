//! The demo's step log: one row per operation (status, request charge, etag, detail), printed
//! as JSON lines as it goes (`--output json`) or as one table at the end, with the total RU.
//! Formatting only; it must not call the engine.

use std::time::Instant;

use serde_json::{json, Value};

use crate::output::{self, Format};

/// One operation the demo performed.
#[derive(Debug, Clone)]
pub struct Step {
    pub operation: String,
    pub status: u16,
    pub charge: Option<f64>,
    pub etag: Option<String>,
    pub detail: String,
}

/// Collects steps and prints them in the chosen format.
pub struct StepLog {
    format: Format,
    steps: Vec<Step>,
    total_ru: f64,
    started: Instant,
}

impl StepLog {
    pub fn new(format: Format) -> StepLog {
        StepLog {
            format,
            steps: Vec::new(),
            total_ru: 0.0,
            started: Instant::now(),
        }
    }

    /// A free-form event (`event` + fields) in JSON; a plain line in table mode.
    pub fn note(&self, event: &str, text: &str, fields: Value) {
        if self.format.is_json() {
            let mut obj = json!({ "event": event });
            if let (Some(o), Value::Object(extra)) = (obj.as_object_mut(), fields) {
                o.extend(extra);
            }
            output::print_json_line(&obj);
        } else {
            println!("{text}");
        }
    }

    pub fn push(&mut self, step: Step) {
        self.total_ru += step.charge.unwrap_or(0.0);
        if self.format.is_json() {
            output::print_json_line(&json!({
                "event": "step",
                "step": self.steps.len() + 1,
                "operation": step.operation,
                "statusCode": step.status,
                "requestCharge": step.charge.map(round2),
                "etag": step.etag,
                "detail": step.detail,
            }));
        }
        self.steps.push(step);
    }

    /// Prints the table (table mode) or the summary line (JSON), with the total RU.
    pub fn finish(&self, ok: bool, extra: Value) {
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        if self.format.is_json() {
            let mut obj = json!({
                "event": "summary",
                "statusCode": if ok { 200 } else { 500 },
                "steps": self.steps.len(),
                "totalRequestCharge": round2(self.total_ru),
                "elapsedMs": elapsed_ms,
            });
            if let (Some(o), Value::Object(extra)) = (obj.as_object_mut(), extra) {
                o.extend(extra);
            }
            output::print_json_line(&obj);
        } else {
            let mut t = crate::rows::new_table(["#", "operation", "status", "RU", "etag", "detail"]);
            for (i, s) in self.steps.iter().enumerate() {
                t.add_row([
                    (i + 1).to_string(),
                    s.operation.clone(),
                    s.status.to_string(),
                    s.charge.map_or("-".into(), |c| format!("{c:.2}")),
                    s.etag.clone().unwrap_or_else(|| "-".into()),
                    s.detail.clone(),
                ]);
            }
            t.add_row([
                String::new(),
                "total".into(),
                String::new(),
                format!("{:.2}", self.total_ru),
                String::new(),
                format!("{} steps in {elapsed_ms} ms", self.steps.len()),
            ]);
            println!("{t}");
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
