//! The `pattern` command: clusters text values into patterns, the shared text structures that
//! recur among them, and counts the values of each.
//!
//! A value is split into tokens at white space and at the punctuation that structures log
//! lines (`= , ; " ' ( ) [ ] { } < > |`); the separators are kept (white space collapsed to one
//! space), so `user=alice` and `user alice` are different structures. A token holding a digit
//! is *dynamic*: its kind is inferred ([`Kind`]: a number, a duration such as `327 ms` or
//! `2.5s`, an IP address, a UUID, a date or time, a hex string, else a plain token). Other
//! tokens are words and stay literal unless values of one cluster disagree on them.
//!
//! Values are clustered online, as Drain does: a value is compared with the clusters of its
//! shape (token count and separators); it joins the most similar one when more than half of
//! the positions holding a word agree, the positions that disagree becoming dynamic;
//! otherwise it starts a cluster. A pattern prints its dynamic positions as
//! `<Kind-N>`, N counting them from 1 (`[INFO] Request time: <Time-1> ms`), `<Token-N>` when
//! the kind cannot be inferred. Partial results (DataFusion aggregates per partition) are
//! merged by adding each cluster to the other side as a value of its count, so the result
//! does not depend on how the input was split, beyond the order values arrive in.
//!
//! [`PatternUdaf`] is the aggregate the lowering calls: a list of `{pattern, sampleCount,
//! ratio, severityLabel}` structs, most frequent first.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, StringArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use serde::{Deserialize, Serialize};

/// Clusters kept at most; past this a value joins the most similar cluster of its shape even
/// below the similarity threshold (a new cluster only when its shape has none), so memory
/// stays bounded by the shapes seen.
const MAX_CLUSTERS: usize = 10_000;
/// Clusters kept per shape: past this a value joins the most similar cluster of its shape, so
/// a value is compared with at most this many clusters (Drain bounds its tree's children the
/// same way).
const MAX_PER_SHAPE: usize = 100;
/// Share of word positions that must agree (more than this) for a value to join a cluster.
const SIMILARITY: f64 = 0.5;

/// The inferred kind of a dynamic token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Kind {
    Number,
    Time,
    IpAddress,
    Uuid,
    Date,
    Hex,
    Token,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Number => "Number",
            Kind::Time => "Time",
            Kind::IpAddress => "IPAddress",
            Kind::Uuid => "UUID",
            Kind::Date => "Date",
            Kind::Hex => "Hex",
            Kind::Token => "Token",
        }
    }
}

/// One position of a value or a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Slot {
    /// A word every value of the cluster has here.
    Lit(String),
    /// A dynamic token.
    Var(Kind),
}

/// A value split into slots: `seps[i]` comes before `slots[i]`, the last separator after the
/// last slot (`seps.len() == slots.len() + 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Shaped {
    slots: Vec<Slot>,
    seps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cluster {
    shape: Shaped,
    count: u64,
}

/// One pattern of a result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    /// The text with dynamic tokens as `<Kind-N>`.
    pub text: String,
    pub count: u64,
    /// `count` over all values clustered.
    pub ratio: f64,
    /// `Error`, `Warning`, `Info`, `Debug` or `Unknown`, from the pattern's words.
    pub severity: &'static str,
}

/// Values clustered so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Clusters {
    clusters: Vec<Cluster>,
    total: u64,
    /// Clusters by shape key (token count and separators).
    #[serde(skip)]
    by_shape: HashMap<String, Vec<usize>>,
}

fn is_punct(c: char) -> bool {
    matches!(
        c,
        '=' | ',' | ';' | '"' | '\'' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '|'
    )
}

const TIME_UNITS: &[&str] = &[
    "ns", "us", "µs", "ms", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute",
    "minutes", "h", "hr", "hrs", "hour", "hours", "d", "day", "days",
];

fn is_number(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_hex(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_uuid(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| is_hex(p))
}

fn is_ip(t: &str) -> bool {
    if t.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    // An IPv4 address with a port or a prefix length.
    t.split_once([':', '/']).is_some_and(|(ip, rest)| {
        ip.parse::<std::net::Ipv4Addr>().is_ok()
            && !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Dates and times: digits with at least two of `- : /` between them (`2024-05-01`,
/// `10:24:39,474` is split at the comma, `2024-05-01T10:24:39Z`).
fn is_date(t: &str) -> bool {
    let seps = t
        .bytes()
        .filter(|b| matches!(b, b'-' | b':' | b'/'))
        .count();
    seps >= 2
        && t.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && t.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b'-' | b':' | b'/' | b'.' | b'T' | b'Z' | b'+')
        })
}

/// The kind of a token holding a digit, `None` for a word.
fn kind_of(t: &str) -> Option<Kind> {
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if is_number(t) {
        Kind::Number
    } else if is_ip(t) {
        Kind::IpAddress
    } else if is_uuid(t) {
        Kind::Uuid
    } else if is_date(t) {
        Kind::Date
    } else if TIME_UNITS.iter().any(|u| {
        t.strip_suffix(u)
            .is_some_and(|n| is_number(n) && !n.ends_with('.'))
    }) {
        Kind::Time
    } else if (t.len() >= 8 && is_hex(t)) || t.strip_prefix("0x").is_some_and(is_hex) {
        Kind::Hex
    } else {
        Kind::Token
    })
}

/// Splits `value` into slots and separators (see the module docs).
fn shape(value: &str) -> Shaped {
    let mut slots = Vec::new();
    let mut seps = Vec::new();
    let mut sep = String::new();
    let mut rest = value;
    loop {
        // A separator: white space (one space) and punctuation.
        let mut space = false;
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, c)) if c.is_whitespace() => space = true,
                Some((_, c)) if is_punct(c) => {
                    if space {
                        sep.push(' ');
                        space = false;
                    }
                    sep.push(c);
                }
                Some((i, _)) => break i,
                None => break rest.len(),
            }
        };
        if space {
            sep.push(' ');
        }
        rest = &rest[end..];
        seps.push(std::mem::take(&mut sep));
        if rest.is_empty() {
            break;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || is_punct(c))
            .unwrap_or(rest.len());
        let token = &rest[..end];
        slots.push(match kind_of(token) {
            Some(kind) => Slot::Var(kind),
            None => Slot::Lit(token.to_owned()),
        });
        rest = &rest[end..];
    }
    // A number followed by a unit word is a duration (`327 ms`).
    for i in 1..slots.len() {
        if slots[i - 1] == Slot::Var(Kind::Number)
            && matches!(&slots[i], Slot::Lit(w) if TIME_UNITS.contains(&w.as_str()))
            && seps[i] == " "
        {
            slots[i - 1] = Slot::Var(Kind::Time);
        }
    }
    Shaped { slots, seps }
}

fn shape_key(shape: &Shaped) -> String {
    let mut key = shape.slots.len().to_string();
    for s in &shape.seps {
        key.push('\u{1}');
        key.push_str(s);
    }
    key
}

/// How well `value` fits `pattern` (same shape): the share of the positions where either
/// has a word at which both agree (a word agrees with the same word, and with a position the
/// cluster already found to vary). Dynamic tokens on both sides do not count: values made
/// mostly of numbers are told apart by their words.
fn similarity(pattern: &[Slot], value: &[Slot]) -> f64 {
    let mut words = 0usize;
    let mut agree = 0usize;
    for (p, v) in pattern.iter().zip(value) {
        match (p, v) {
            (Slot::Lit(a), Slot::Lit(b)) => {
                words += 1;
                agree += usize::from(a == b);
            }
            (Slot::Var(Kind::Token), Slot::Lit(_)) => {
                words += 1;
                agree += 1;
            }
            (Slot::Lit(_), Slot::Var(_)) | (Slot::Var(_), Slot::Lit(_)) => words += 1,
            (Slot::Var(_), Slot::Var(_)) => {}
        }
    }
    if words == 0 {
        1.0
    } else {
        agree as f64 / words as f64
    }
}

impl Clusters {
    /// Adds one value.
    pub(crate) fn add_value(&mut self, value: &str) {
        self.add(shape(value), 1);
    }

    fn add(&mut self, value: Shaped, count: u64) {
        self.total += count;
        let key = shape_key(&value);
        let candidates = self.by_shape.entry(key).or_default();
        let mut best: Option<(f64, usize)> = None;
        for &i in candidates.iter() {
            let score = similarity(&self.clusters[i].shape.slots, &value.slots);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        let full = self.clusters.len() >= MAX_CLUSTERS || candidates.len() >= MAX_PER_SHAPE;
        let chosen = best.and_then(|(score, i)| (score > SIMILARITY || full).then_some(i));
        match chosen {
            Some(i) => {
                let cluster = &mut self.clusters[i];
                cluster.count += count;
                for (p, v) in cluster.shape.slots.iter_mut().zip(value.slots) {
                    let merged = match (&*p, v) {
                        (Slot::Lit(a), Slot::Lit(b)) if *a == b => continue,
                        (Slot::Var(a), Slot::Var(b)) if *a == b => continue,
                        _ => Slot::Var(Kind::Token),
                    };
                    *p = merged;
                }
            }
            None => {
                candidates.push(self.clusters.len());
                self.clusters.push(Cluster {
                    shape: value,
                    count,
                });
            }
        }
    }

    /// Adds every cluster of `other` (a partial result) as values of their counts.
    pub(crate) fn merge(&mut self, other: Clusters) {
        for c in other.clusters {
            self.add(c.shape, c.count);
        }
    }

    /// The patterns, most frequent first (ties in the order they were found).
    pub(crate) fn patterns(&self) -> Vec<Pattern> {
        let mut out: Vec<Pattern> = self
            .clusters
            .iter()
            .map(|c| Pattern {
                text: render(&c.shape),
                count: c.count,
                ratio: c.count as f64 / self.total.max(1) as f64,
                severity: severity(&c.shape.slots),
            })
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.count));
        out
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("clusters serialise")
    }

    fn from_json(text: &str) -> Option<Self> {
        let mut clusters: Clusters = serde_json::from_str(text).ok()?;
        for (i, c) in clusters.clusters.iter().enumerate() {
            clusters
                .by_shape
                .entry(shape_key(&c.shape))
                .or_default()
                .push(i);
        }
        Some(clusters)
    }
}

fn render(shape: &Shaped) -> String {
    let mut out = String::new();
    let mut n = 0;
    for (sep, slot) in shape.seps.iter().zip(&shape.slots) {
        out.push_str(sep);
        match slot {
            Slot::Lit(w) => out.push_str(w),
            Slot::Var(kind) => {
                n += 1;
                let _ = write!(out, "<{}-{n}>", kind.name());
            }
        }
    }
    if let Some(last) = shape.seps.last() {
        out.push_str(last);
    }
    out.trim().to_owned()
}

fn severity(slots: &[Slot]) -> &'static str {
    for slot in slots {
        let Slot::Lit(w) = slot else { continue };
        let label = match w.to_ascii_lowercase().trim_end_matches(':') {
            "error" | "err" | "fatal" | "critical" | "crit" | "severe" | "panic" | "emerg"
            | "alert" | "exception" => "Error",
            "warn" | "warning" => "Warning",
            "info" | "notice" => "Info",
            "debug" | "trace" => "Debug",
            _ => continue,
        };
        return label;
    }
    "Unknown"
}

/// The fields of each pattern struct the aggregate returns.
pub(crate) const PATTERN_FIELD: &str = "pattern";
pub(crate) const COUNT_FIELD: &str = "sampleCount";
pub(crate) const RATIO_FIELD: &str = "ratio";
pub(crate) const SEVERITY_FIELD: &str = "severityLabel";

fn pattern_fields() -> Fields {
    Fields::from(vec![
        Field::new(PATTERN_FIELD, DataType::Utf8, false),
        Field::new(COUNT_FIELD, DataType::Int64, false),
        Field::new(RATIO_FIELD, DataType::Float64, false),
        Field::new(SEVERITY_FIELD, DataType::Utf8, false),
    ])
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(pattern_fields()),
        true,
    )))
}

/// `__pattern(value)`: the patterns of the (non-null) values, as a list of structs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PatternUdaf {
    signature: Signature,
}

impl PatternUdaf {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for PatternUdaf {
    fn name(&self) -> &str {
        "__pattern"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(list_type())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::<PatternAccumulator>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}_clusters", args.name),
            DataType::Utf8,
            true,
        ))])
    }
}

#[derive(Debug, Default)]
struct PatternAccumulator {
    clusters: Clusters,
}

/// Calls `f` with each non-null value of the first of `arrays`, as text.
fn each_text(arrays: &[ArrayRef], mut f: impl FnMut(&str) -> DfResult<()>) -> DfResult<()> {
    let Some(array) = arrays.first() else {
        return Ok(());
    };
    let texts = cast(array, &DataType::Utf8)?;
    let texts = texts
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8 gives a StringArray");
    texts.iter().flatten().try_for_each(&mut f)
}

impl Accumulator for PatternAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        each_text(values, |value| {
            self.clusters.add_value(value);
            Ok(())
        })
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let patterns = self.clusters.patterns();
        let n = patterns.len();
        let texts = StringArray::from_iter_values(patterns.iter().map(|p| p.text.as_str()));
        let counts = Int64Array::from_iter_values(
            patterns
                .iter()
                .map(|p| i64::try_from(p.count).unwrap_or(i64::MAX)),
        );
        let ratios = Float64Array::from_iter_values(patterns.iter().map(|p| p.ratio));
        let severities = StringArray::from_iter_values(patterns.iter().map(|p| p.severity));
        let structs = StructArray::try_new(
            pattern_fields(),
            vec![
                Arc::new(texts),
                Arc::new(counts),
                Arc::new(ratios),
                Arc::new(severities),
            ],
            None,
        )?;
        let DataType::List(item) = list_type() else {
            unreachable!("list_type is a list")
        };
        let list = ListArray::try_new(
            item,
            OffsetBuffer::from_lengths([n]),
            Arc::new(structs),
            None,
        )?;
        Ok(ScalarValue::List(Arc::new(list)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .clusters
                .clusters
                .iter()
                .map(|c| {
                    64 + c.shape.seps.iter().map(|s| s.len() + 24).sum::<usize>()
                        + c.shape
                            .slots
                            .iter()
                            .map(|s| match s {
                                Slot::Lit(w) => w.len() + 32,
                                Slot::Var(_) => 32,
                            })
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(Some(self.clusters.to_json()))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        each_text(states, |state| {
            let other = Clusters::from_json(state).ok_or_else(|| {
                datafusion::common::DataFusionError::Internal(
                    "a partial pattern state does not decode".into(),
                )
            })?;
            self.clusters.merge(other);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(values: &[&str]) -> Vec<(String, u64)> {
        let mut c = Clusters::default();
        for v in values {
            c.add_value(v);
        }
        c.patterns()
            .into_iter()
            .map(|p| (p.text, p.count))
            .collect()
    }

    #[test]
    fn the_documented_example_gives_a_time_token() {
        assert_eq!(
            patterns(&[
                "[INFO] Request time: 327 ms",
                "[INFO] Request time: 12 ms",
                "[INFO] Request time: 5 ms",
            ]),
            vec![("[INFO] Request time: <Time-1> ms".to_owned(), 3)]
        );
    }

    #[test]
    fn kinds_are_inferred() {
        let cases = [
            ("42", Some(Kind::Number)),
            ("-3.5", Some(Kind::Number)),
            ("327ms", Some(Kind::Time)),
            ("10.0.0.1", Some(Kind::IpAddress)),
            ("10.0.0.1:443", Some(Kind::IpAddress)),
            ("2001:db8::1", Some(Kind::IpAddress)),
            ("123e4567-e89b-12d3-a456-426614174000", Some(Kind::Uuid)),
            ("2024-05-01T10:24:39Z", Some(Kind::Date)),
            ("10:24:39", Some(Kind::Date)),
            ("deadbeef01", Some(Kind::Hex)),
            ("eni-0a1b2c3d", Some(Kind::Token)),
            ("REJECT", None),
        ];
        for (token, kind) in cases {
            assert_eq!(kind_of(token), kind, "{token}");
        }
    }

    #[test]
    fn differing_words_become_tokens_and_other_shapes_stay_apart() {
        let got = patterns(&[
            "user alice logged in from 10.0.0.1",
            "user bob logged in from 10.0.0.2",
            "user carol logged in from 10.0.0.3",
            "disk full on /dev/sda1",
        ]);
        assert_eq!(
            got,
            vec![
                ("user <Token-1> logged in from <IPAddress-2>".to_owned(), 3),
                ("disk full on <Token-1>".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn dissimilar_values_of_one_shape_are_separate_patterns() {
        let got = patterns(&["connection opened", "cache miss"]);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn flow_log_lines_cluster_by_action() {
        let got = patterns(&[
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1234 22 6 1 40 1 2 REJECT OK",
            "2 123456789012 eni-1 10.0.0.3 10.0.0.2 1235 22 6 1 40 1 2 REJECT OK",
            "2 123456789012 eni-2 10.0.0.4 10.0.0.2 1236 443 6 10 4000 1 2 ACCEPT OK",
        ]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, 2);
        assert!(got[0].0.ends_with("REJECT OK"), "{got:?}");
    }

    #[test]
    fn severity_comes_from_the_words() {
        let sev = |v: &str| severity(&shape(v).slots);
        assert_eq!(sev("2024-01-01 ERROR boom"), "Error");
        assert_eq!(sev("[WARN] slow"), "Warning");
        assert_eq!(sev("level=info msg=ok"), "Info");
        assert_eq!(sev("DEBUG: x"), "Debug");
        assert_eq!(sev("hello"), "Unknown");
    }

    #[test]
    fn merging_partial_results_counts_every_value() {
        let values = [
            "GET /a 200 12ms",
            "GET /b 200 3ms",
            "POST /a 500 40ms",
            "GET /c 404 1ms",
        ];
        let mut left = Clusters::default();
        let mut right = Clusters::default();
        for (i, v) in values.iter().enumerate() {
            if i % 2 == 0 {
                left.add_value(v);
            } else {
                right.add_value(v);
            }
        }
        let right = Clusters::from_json(&right.to_json()).unwrap();
        left.merge(right);
        let total: u64 = left.patterns().iter().map(|p| p.count).sum();
        assert_eq!(total, 4);
        assert!((left.patterns().iter().map(|p| p.ratio).sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_shape_holds_a_bounded_number_of_clusters() {
        let mut c = Clusters::default();
        for i in 0..1_000 {
            // One shape, words that never agree.
            c.add_value(&format!("w{}x y{}z", to_letters(i), to_letters(i + 7)));
        }
        assert_eq!(c.clusters.len(), MAX_PER_SHAPE);
        assert_eq!(c.patterns().iter().map(|p| p.count).sum::<u64>(), 1_000);
    }

    fn to_letters(mut n: usize) -> String {
        let mut s = String::new();
        loop {
            s.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
            if n == 0 {
                return s;
            }
        }
    }

    #[test]
    fn empty_and_odd_values_do_not_panic() {
        let got = patterns(&["", "   ", "=,;", "ünïcødé 12 ✓", "a\tb\nc"]);
        assert!(!got.is_empty());
        let total: u64 = got.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 5);
    }
}
