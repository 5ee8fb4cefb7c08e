//! Many patterns against the same events: [`PatternSet`], for the metric filters of one log
//! group (up to 100 per group in AWS), which all see every ingested event.
//!
//! Matching each pattern on its own costs one tokenisation per space-delimited pattern and one
//! JSON parse per JSON pattern, for every event. A set instead:
//! - tokenises an event once (into a reused buffer of [`Span`]s) and checks each
//!   space-delimited pattern's conditioned fields by index;
//! - parses an event as JSON at most once for all its JSON patterns;
//! - indexes the patterns on one exact-value condition each (an *anchor*: `destport = "22"`,
//!   `action = REJECT`, `protocol = 6`), so that an event is only checked against the patterns
//!   whose anchor its field holds, plus the patterns without an anchor.
//!
//! The result is the same as [`FilterPattern::matches`] on each pattern (the tests and the
//! `match_event` fuzz target compare the two). Only JSON patterns allocate per event.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value as Json;

use crate::FilterPattern;
use crate::delimited::{DelimitedPattern, FieldSpec};
use crate::extract::{ValueRef, json_text};
use crate::tokens::{Layout, Place, Span, split_into};
use crate::value::{CmpOp, Value, parse_number};

/// A set of parsed patterns matched together; see the module documentation.
#[derive(Debug, Clone)]
pub struct PatternSet {
    patterns: Vec<FilterPattern>,
    /// For each pattern, its layout if it is space-delimited.
    layouts: Vec<Option<Layout>>,
    /// Patterns without an anchor, checked on every event (ascending).
    always: Vec<usize>,
    /// Anchored patterns, by the place of their anchor.
    anchors: Vec<AnchorIndex>,
    /// Whether any pattern is space-delimited (events must be tokenised).
    tokenise: bool,
}

/// The patterns anchored at one place, by the exact value the field must have there.
#[derive(Debug, Clone)]
struct AnchorIndex {
    place: Place,
    /// `field = "text"` (no `*`): the field's text.
    texts: HashMap<String, Vec<usize>, BuildFnv>,
    /// `field = 22`: the field's numeric value (as bits, `-0` as `0`).
    numbers: HashMap<u64, Vec<usize>, BuildFnv>,
}

/// One exact-value condition a pattern cannot match without.
#[derive(Debug, Clone, PartialEq)]
enum Anchor {
    Text(Place, String),
    Number(Place, u64),
}

impl Anchor {
    fn place(&self) -> Place {
        match self {
            Self::Text(place, _) | Self::Number(place, _) => *place,
        }
    }
}

/// Reusable buffers for [`PatternSet::matching`]: keep one per thread (or per caller) so that
/// matching allocates nothing once they have grown. Between two calls it holds what the last
/// one found: [`SetScratch::matched`], and the event's tokens (and parsed JSON) that
/// [`PatternSet::matched_event`] resolves values from.
#[derive(Debug, Default)]
pub struct SetScratch {
    spans: Vec<Span>,
    candidates: Vec<usize>,
    matched: Vec<usize>,
    /// The event parsed as a JSON object, when a JSON pattern needed it (`Some(None)`: it is
    /// not one).
    json: Option<Option<Json>>,
}

impl SetScratch {
    /// The indices (ascending) of the patterns the last event matched.
    pub fn matched(&self) -> &[usize] {
        &self.matched
    }
}

/// A pattern of a set and an event it matched, for resolving `$field`, `$N` and `$.path`
/// references without tokenising or parsing the event again.
#[derive(Debug, Clone, Copy)]
pub struct MatchedEvent<'a> {
    pattern: &'a FilterPattern,
    message: &'a str,
    scratch: &'a SetScratch,
}

impl<'a> MatchedEvent<'a> {
    /// What [`crate::Extracted::resolve`] would give for this event.
    pub fn resolve(&self, reference: &ValueRef) -> Option<Cow<'a, str>> {
        match (self.pattern, reference) {
            (FilterPattern::Delimited(d), ValueRef::Field(name)) => d
                .place_of_field(name)?
                .value(self.message, &self.scratch.spans)
                .map(Cow::Borrowed),
            (FilterPattern::Delimited(d), ValueRef::Position(n)) => d
                .place_of_position(*n)?
                .value(self.message, &self.scratch.spans)
                .map(Cow::Borrowed),
            (FilterPattern::Json(_), ValueRef::Json(selector)) => {
                json_text(selector.get(self.json()?)?)
            }
            _ => None,
        }
    }

    /// What [`crate::Extracted::resolve_number`] would give for this event.
    pub fn resolve_number(&self, reference: &ValueRef) -> Option<f64> {
        if let (FilterPattern::Json(_), ValueRef::Json(selector)) = (self.pattern, reference)
            && let Some(Json::Number(n)) = selector.get(self.json()?)
        {
            return n.as_f64();
        }
        parse_number(&self.resolve(reference)?)
    }

    fn json(&self) -> Option<&'a Json> {
        self.scratch.json.as_ref()?.as_ref()
    }
}

impl PatternSet {
    pub fn new(patterns: Vec<FilterPattern>) -> Self {
        let layouts: Vec<Option<Layout>> = patterns
            .iter()
            .map(|p| match p {
                FilterPattern::Delimited(d) => Some(d.layout()),
                _ => None,
            })
            .collect();
        let candidates: Vec<Vec<Anchor>> = patterns
            .iter()
            .zip(&layouts)
            .map(|(p, layout)| match (p, layout) {
                (FilterPattern::Delimited(d), Some(layout)) => anchors_of(d, layout),
                _ => Vec::new(),
            })
            .collect();
        // Anchor each pattern on its rarest condition in the set: the value fewest patterns
        // share is likely the most selective.
        let mut always = Vec::new();
        let mut anchors: Vec<AnchorIndex> = Vec::new();
        for (i, own) in candidates.iter().enumerate() {
            let rarest = own
                .iter()
                .min_by_key(|a| candidates.iter().filter(|other| other.contains(a)).count());
            let Some(anchor) = rarest else {
                always.push(i);
                continue;
            };
            let at = match anchors.iter().position(|x| x.place == anchor.place()) {
                Some(at) => at,
                None => {
                    anchors.push(AnchorIndex {
                        place: anchor.place(),
                        texts: HashMap::default(),
                        numbers: HashMap::default(),
                    });
                    anchors.len() - 1
                }
            };
            let index = &mut anchors[at];
            match anchor {
                Anchor::Text(_, text) => index.texts.entry(text.clone()).or_default().push(i),
                Anchor::Number(_, bits) => index.numbers.entry(*bits).or_default().push(i),
            }
        }
        let tokenise = layouts.iter().any(Option::is_some);
        Self {
            patterns,
            layouts,
            always,
            anchors,
            tokenise,
        }
    }

    pub fn patterns(&self) -> &[FilterPattern] {
        &self.patterns
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Pattern `index` and `message`, the event last passed to [`PatternSet::matching`] with
    /// `scratch`, which the pattern matched (otherwise what it resolves is meaningless).
    pub fn matched_event<'a>(
        &'a self,
        index: usize,
        message: &'a str,
        scratch: &'a SetScratch,
    ) -> MatchedEvent<'a> {
        MatchedEvent {
            pattern: &self.patterns[index],
            message,
            scratch,
        }
    }

    /// The indices (ascending) of the patterns that `message` matches (also kept in `scratch`,
    /// see [`SetScratch::matched`]).
    pub fn matching<'s>(&self, message: &str, scratch: &'s mut SetScratch) -> &'s [usize] {
        let SetScratch {
            spans,
            candidates,
            matched,
            json,
        } = scratch;
        matched.clear();
        candidates.clear();
        *json = None;
        if self.tokenise {
            split_into(message, spans);
        } else {
            spans.clear();
        }
        candidates.extend_from_slice(&self.always);
        for index in &self.anchors {
            let Some(value) = index.place.value(message, spans) else {
                continue;
            };
            if let Some(found) = index.texts.get(value) {
                candidates.extend_from_slice(found);
            }
            if !index.numbers.is_empty()
                && let Some(found) = parse_number(value).and_then(|x| index.numbers.get(&bits(x)))
            {
                candidates.extend_from_slice(found);
            }
        }
        candidates.sort_unstable();
        for &i in candidates.iter() {
            let hit = match (&self.patterns[i], &self.layouts[i]) {
                (FilterPattern::Delimited(d), Some(layout)) => {
                    d.matches_spans(layout, message, spans)
                }
                // Parsed once, for the first JSON pattern that needs it.
                (FilterPattern::Json(j), _) => json
                    .get_or_insert_with(|| {
                        serde_json::from_str::<Json>(message)
                            .ok()
                            .filter(Json::is_object)
                    })
                    .as_ref()
                    .is_some_and(|event| j.expr.eval(event)),
                (other, _) => other.matches(message),
            };
            if hit {
                matched.push(i);
            }
        }
        matched
    }
}

/// The exact-value conditions a space-delimited pattern cannot match without: a field whose
/// conditions are one `&&` group holding an `=` with a literal text (no `*`) or a number. A
/// last field that absorbs the rest of the line is not indexed.
fn anchors_of(pattern: &DelimitedPattern, layout: &Layout) -> Vec<Anchor> {
    let mut out = Vec::new();
    for &(place, j) in &layout.checks {
        if matches!(place, Place::Rest(_)) {
            continue;
        }
        let FieldSpec::Field { any_of, .. } = &pattern.specs()[j] else {
            continue;
        };
        let [group] = any_of.as_slice() else {
            continue;
        };
        for test in group.iter().filter(|t| t.op == CmpOp::Eq) {
            match &test.value {
                Value::Text(text) if !text.contains('*') => {
                    out.push(Anchor::Text(place, text.clone()));
                }
                // A token equal to the literal's text is a number too, so the numeric
                // comparison alone decides.
                Value::Number(n) => out.push(Anchor::Number(place, bits(n.value()))),
                _ => {}
            }
        }
    }
    out
}

/// The key of a numeric anchor: equal numbers (`0` and `-0` included) give equal keys.
fn bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// FNV-1a: the anchor keys are short field values; SipHash's protection against chosen keys
/// is not needed for keys that come from the set's own patterns.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

type BuildFnv = BuildHasherDefault<Fnv>;

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 49152 22 6 10 840 1700000000 1700000060 REJECT OK";

    fn set(patterns: &[&str]) -> PatternSet {
        PatternSet::new(
            patterns
                .iter()
                .map(|p| FilterPattern::parse(p).unwrap())
                .collect(),
        )
    }

    #[test]
    fn anchors_pick_the_rarest_exact_condition() {
        let s = set(&[
            "[v, a, e, s, d, sp, dp = \"22\", p = \"6\", pk, b, ws, we, act = REJECT, st]",
            "[v, a, e, s, d, sp, dp = 443, p = 6, pk, b, ws, we, act = REJECT, st]",
            "[v, a, e, s, d, sp, dp, p, pk, b > 100, ws, we, act = REJECT, st]",
            "[v, a, e, s = 10.*, d, sp, dp, p, pk, b, ws, we, act, st = OK]",
            "ERROR",
        ]);
        assert_eq!(s.always, [3, 4]);
        let places: Vec<Place> = s.anchors.iter().map(|a| a.place).collect();
        assert_eq!(places, [Place::Index(6), Place::Index(12)]);
        assert_eq!(
            s.anchors[0].texts.get("22").map(Vec::as_slice),
            Some(&[0][..])
        );
        assert_eq!(
            s.anchors[0].numbers.get(&bits(443.0)).map(Vec::as_slice),
            Some(&[1][..])
        );
        assert_eq!(
            s.anchors[1].texts.get("REJECT").map(Vec::as_slice),
            Some(&[2][..])
        );
        let mut scratch = SetScratch::default();
        assert_eq!(s.matching(FLOW, &mut scratch), [0, 2]);
        assert_eq!(
            s.matching(&FLOW.replace(" 22 ", " 443.0 "), &mut scratch),
            [1, 2]
        );
        assert_eq!(
            s.matching(&FLOW.replace("198.51", "10.1"), &mut scratch),
            [0, 2, 3]
        );
        assert!(s.matching("ERROR", &mut scratch) == [4]);
    }

    #[test]
    fn agrees_with_matching_one_by_one() {
        let patterns = [
            "",
            "ERROR",
            "?REJECT ?ACCEPT",
            "%eni-0a1b%",
            "[]",
            "[a]",
            "[a = 2]",
            "[a = 2, ...]",
            "[..., st = OK]",
            "[..., act = REJECT || act = ACCEPT, st]",
            "[v, ..., dp = 22, p, pk, b, ws, we, act, st]",
            "[v, a, e, s, d, sp, dp = 22 && dp != 23, p = 6, ...]",
            "[v, a, e, s, d, sp, dp = \"22\", p = \"6\", pk, b, ws, we, act = \"REJECT\", st]",
            "[v, a, e, s, d, sp, dp, p, pk, b, ws, we, rest = \"REJECT OK\"]",
            "[v, a, e, s, d, sp, dp, p, pk, b, ws, we, act, st, extra]",
            "[v = 2, a = 123456789012, e = eni-*, ...]",
            "[x = \"\", ...]",
            "{ $.a = 1 }",
            "{ $.eventName = \"ConsoleLogin\" || $.b NOT EXISTS }",
        ];
        let s = set(&patterns);
        let parsed: Vec<FilterPattern> = patterns
            .iter()
            .map(|p| FilterPattern::parse(p).unwrap())
            .collect();
        let events = [
            "",
            " ",
            "2",
            "2 x",
            FLOW,
            &FLOW.replace(" 22 ", " 22.0 "),
            &FLOW.replace(" OK", " OK trailing"),
            &FLOW.replace("REJECT", "ACCEPT"),
            "[] \"\" x",
            "ERROR 2 123456789012 eni-0a1b",
            r#"{"a": 1}"#,
            r#"{"a": "1", "eventName": "ConsoleLogin"}"#,
            r#"{"b": 2}"#,
            "[1, 2]",
        ];
        let mut scratch = SetScratch::default();
        for event in events {
            let want: Vec<usize> = (0..parsed.len())
                .filter(|&i| parsed[i].matches(event))
                .collect();
            assert_eq!(s.matching(event, &mut scratch), want, "{event:?}");
        }
    }
}
