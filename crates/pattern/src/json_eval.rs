//! Evaluating a [`JsonPattern`] against a parsed event.
//!
//! This is the one matching path that allocates: the event is parsed into a
//! [`serde_json::Value`] (once per event, and only for JSON patterns). A message that is not a
//! JSON object never matches.

use serde_json::Value as Json;

use crate::json::{Condition, JsonExpr, JsonPattern, Selector, Step, Test};
use crate::value::{CmpOp, Value, glob_match, parse_number};

impl JsonPattern {
    /// Parses `message` and evaluates the pattern; `Some(event)` when it matches.
    pub(crate) fn match_event(&self, message: &str) -> Option<Json> {
        let event: Json = serde_json::from_str(message).ok()?;
        if !event.is_object() {
            return None;
        }
        self.expr.eval(&event).then_some(event)
    }

    /// Whether `message` is a JSON object satisfying the pattern.
    pub fn matches(&self, message: &str) -> bool {
        self.match_event(message).is_some()
    }
}

impl JsonExpr {
    /// Evaluates against an already parsed event.
    pub fn eval(&self, event: &Json) -> bool {
        match self {
            Self::Condition(c) => c.eval(event),
            Self::And(items) => items.iter().all(|e| e.eval(event)),
            Self::Or(items) => items.iter().any(|e| e.eval(event)),
        }
    }
}

impl Condition {
    fn eval(&self, event: &Json) -> bool {
        match &self.test {
            Test::NotExists => !self.selector.any(event, &mut |_| true),
            Test::IsNull => self.selector.any(event, &mut Json::is_null),
            Test::IsTrue => self.selector.any(event, &mut |v| v == &Json::Bool(true)),
            Test::IsFalse => self.selector.any(event, &mut |v| v == &Json::Bool(false)),
            Test::Compare(op, value) => self.selector.any(event, &mut |v| compare(*op, value, v)),
        }
    }
}

impl Selector {
    /// Whether any value the selector reaches in `root` satisfies `pred` (with no wildcard, at
    /// most one value is reached).
    pub(crate) fn any(&self, root: &Json, pred: &mut dyn FnMut(&Json) -> bool) -> bool {
        walk(root, &self.steps, pred)
    }

    /// The single value a wildcard-free selector reaches.
    pub(crate) fn get<'j>(&self, root: &'j Json) -> Option<&'j Json> {
        let mut at = root;
        for step in &self.steps {
            at = match step {
                Step::Key(k) => at.as_object()?.get(k)?,
                Step::Index(i) => at.as_array()?.get(*i)?,
                Step::AnyKey | Step::AnyIndex => return None,
            };
        }
        Some(at)
    }
}

fn walk(at: &Json, steps: &[Step], pred: &mut dyn FnMut(&Json) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return pred(at);
    };
    match step {
        Step::Key(k) => at
            .as_object()
            .and_then(|o| o.get(k))
            .is_some_and(|v| walk(v, rest, pred)),
        Step::Index(i) => at
            .as_array()
            .and_then(|a| a.get(*i))
            .is_some_and(|v| walk(v, rest, pred)),
        Step::AnyKey => at
            .as_object()
            .is_some_and(|o| o.values().any(|v| walk(v, rest, pred))),
        Step::AnyIndex => at
            .as_array()
            .is_some_and(|a| a.iter().any(|v| walk(v, rest, pred))),
    }
}

/// Compares one selected JSON value. Arrays and objects never match; strings compare with
/// text values (with `*` wildcards) and regexes; numbers compare numerically (a string holding
/// a number compares as that number); `*` alone matches any string, number or boolean.
fn compare(op: CmpOp, value: &Value, json: &Json) -> bool {
    if value.is_any() {
        return op == CmpOp::Eq
            && matches!(json, Json::String(_) | Json::Number(_) | Json::Bool(_));
    }
    match (value, json) {
        (Value::Text(glob), Json::String(s)) => match op {
            CmpOp::Eq => glob_match(glob, s),
            CmpOp::Ne => !glob_match(glob, s),
            _ => false,
        },
        (Value::Regex(r), Json::String(s)) => match op {
            CmpOp::Eq => r.is_match(s),
            CmpOp::Ne => !r.is_match(s),
            _ => false,
        },
        (Value::Number(n), Json::Number(x)) => x.as_f64().is_some_and(|x| op.compare(x, n.value())),
        (Value::Number(n), Json::String(s)) => {
            parse_number(s).is_some_and(|x| op.compare(x, n.value()))
        }
        _ => false,
    }
}
