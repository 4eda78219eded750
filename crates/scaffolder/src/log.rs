//! A run's log: Backstage's event bodies (`{message, stepId?, status?}`) kept in order, with
//! every secret value masked before it is kept, and optionally sent on as they happen (the
//! live log of a task).

use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

/// Lines one run may log; past that they are dropped with one notice.
const MAX_EVENTS: usize = 10_000;

#[derive(Default)]
pub struct Log {
    pub events: Vec<Value>,
    secrets: Vec<String>,
    sink: Option<UnboundedSender<Value>>,
}

impl Log {
    /// A log that masks the string values of `secrets` and forwards each body to `sink`.
    pub fn new(secrets: &Value, sink: Option<UnboundedSender<Value>>) -> Self {
        let mut found = Vec::new();
        collect_strings(secrets, &mut found);
        // Longest first, so a secret that contains another is masked whole.
        found.sort_by_key(|s| std::cmp::Reverse(s.len()));
        found.retain(|s| !s.is_empty());
        Log {
            events: Vec::new(),
            secrets: found,
            sink,
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    fn push(&mut self, mut body: Map<String, Value>) {
        if self.events.len() >= MAX_EVENTS {
            return;
        }
        if let Some(Value::String(m)) = body.get("message") {
            let redacted = self.redact(m);
            body.insert("message".into(), Value::String(redacted));
        }
        let body = Value::Object(body);
        if let Some(sink) = &self.sink {
            let _ = sink.send(body.clone());
        }
        self.events.push(body);
        if self.events.len() == MAX_EVENTS {
            self.events
                .push(json!({"message": "Too many log lines; the rest are not kept"}));
        }
    }

    /// A line without a step (the run's start).
    pub fn line(&mut self, message: &str) {
        let mut m = Map::new();
        m.insert("message".into(), json!(message));
        self.push(m);
    }

    /// A line of a step.
    pub fn step_line(&mut self, step_id: &str, message: &str) {
        let mut m = Map::new();
        m.insert("stepId".into(), json!(step_id));
        m.insert("message".into(), json!(message));
        self.push(m);
    }

    /// A step's status change (`processing`, `completed`, `failed`, `skipped`).
    pub fn status(&mut self, step_id: &str, status: &str, message: &str) {
        let mut m = Map::new();
        m.insert("stepId".into(), json!(step_id));
        m.insert("status".into(), json!(status));
        m.insert("message".into(), json!(message));
        self.push(m);
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
