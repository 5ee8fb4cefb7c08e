//! Many patterns against the same events: [`PatternSet`], for the metric filters of one log
//! group (up to 100 per group in AWS), which all see every ingested event.
//!
//! Matching each pattern on its own costs one tokenisation per space-delimited pattern and one
//! JSON parse per JSON pattern, for every event. A set instead:
//! - tokenises an event once (into a reused buffer of [`Span`]s) and checks each
//!   space-delimited pattern's conditioned fields by index;
//! - parses an event as JSON at most once for all its JSON patterns;
//! - decides each distinct field condition (a spec's conditions at one place, such as
//!   `action = REJECT` at token 12) at most once per event, however many patterns share it:
//!   the set keeps one table of [`Condition`]s, each pattern is a list of them, and an event's
//!   verdicts are memoised while it is matched;
//! - indexes the patterns on one exact-value condition each (an *anchor*: `destport = "22"`,
//!   `action = REJECT`, `protocol = 6`), so that an event is only checked against the patterns
//!   whose anchor its field holds, plus the patterns without an anchor. One hash lookup of a
//!   field's value decides every exact condition at that place.
//!
//! The result is the same as [`FilterPattern::matches`] on each pattern (the tests and the
//! `match_event` fuzz target compare the two). Only JSON patterns allocate per event.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value as Json;

use crate::FilterPattern;
use crate::Selector;
use crate::delimited::{DelimitedPattern, FieldSpec, FieldTest};
use crate::extract::{ValueRef, json_text};
use crate::tokens::{Place, Span, holds, split_into};
use crate::value::{CmpOp, Value, parse_number};

/// A set of parsed patterns matched together; see the module documentation.
#[derive(Debug, Clone)]
pub struct PatternSet {
    patterns: Vec<FilterPattern>,
    /// For each pattern, how it is checked if it is space-delimited.
    checks: Vec<Option<Checks>>,
    /// The distinct field conditions of the space-delimited patterns.
    conditions: Vec<Condition>,
    /// The verdicts every event starts from: [`FAILS`] for the conditions an index decides
    /// (its lookup turns the ones that hold into [`HOLDS`]), [`UNKNOWN`] for the others.
    initial: Vec<u8>,
    /// The patterns anchored on each condition.
    anchored: Vec<Vec<usize>>,
    /// The patterns without an anchor, checked on every event, as a bit set.
    always: Vec<u64>,
    /// The places anchors are at, each deciding the exact conditions there.
    indexes: Vec<AnchorIndex>,
    /// Whether any pattern is space-delimited (events must be tokenised).
    tokenise: bool,
}

/// A space-delimited pattern as a set checks it: how many tokens an event needs, and the
/// conditions (indices into [`PatternSet::conditions`]) that must all hold, those an index
/// decides first.
#[derive(Debug, Clone)]
struct Checks {
    min_tokens: usize,
    conditions: Vec<usize>,
}

/// The conditions of one field spec at one place (every test of at least one group).
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    place: Place,
    any_of: Vec<Vec<FieldTest>>,
}

impl Condition {
    /// The exact value the field must have, when that is the whole condition.
    fn exact(&self) -> Option<Exact> {
        let [group] = self.any_of.as_slice() else {
            return None;
        };
        let [test] = group.as_slice() else {
            return None;
        };
        if test.op != CmpOp::Eq || matches!(self.place, Place::Rest(_)) {
            return None;
        }
        match &test.value {
            Value::Text(text) if !text.contains('*') => Some(Exact::Text(text.clone())),
            // A token equal to the literal's text is a number too, so the numeric comparison
            // alone decides.
            Value::Number(n) => Some(Exact::Number(bits(n.value()))),
            _ => None,
        }
    }
}

/// The value an exact condition wants.
#[derive(Debug, Clone, PartialEq)]
enum Exact {
    Text(String),
    /// A number's key, see [`bits`].
    Number(u64),
}

/// The exact conditions at one place, by the value the field must have there.
#[derive(Debug, Clone)]
struct AnchorIndex {
    place: Place,
    /// `field = "text"` (no `*`): the field's text.
    texts: HashMap<String, Vec<usize>, BuildFnv>,
    /// `field = 22`: the field's numeric value (as bits, `-0` as `0`).
    numbers: HashMap<u64, Vec<usize>, BuildFnv>,
}

/// A condition's verdict for the event being matched.
const UNKNOWN: u8 = 0;
const HOLDS: u8 = 1;
const FAILS: u8 = 2;

/// Reusable buffers for [`PatternSet::matching`]: keep one per thread (or per caller) so that
/// matching allocates nothing once they have grown. Between two calls it holds what the last
/// one found: [`SetScratch::matched`], and the event's tokens (and parsed JSON) that
/// [`PatternSet::matched_event`] resolves values from.
#[derive(Debug, Default)]
pub struct SetScratch {
    spans: Vec<Span>,
    /// The verdict of each condition for this event.
    verdicts: Vec<u8>,
    /// The patterns to check, as a bit set.
    candidates: Vec<u64>,
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

/// A [`ValueRef`] looked up in one pattern once ([`FilterPattern::locate`]), so that reading
/// it from each event the pattern matches ([`MatchedEvent::value`]) searches nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Located(Where);

#[derive(Debug, Clone, PartialEq)]
enum Where {
    /// A token (or the rest of the line) of a space-delimited pattern's event.
    Place(Place),
    /// A path into a JSON pattern's event.
    Json(Selector),
    /// Not something this pattern extracts.
    Nowhere,
}

impl FilterPattern {
    /// Where `reference` is in the events this pattern matches.
    pub fn locate(&self, reference: &ValueRef) -> Located {
        Located(match (self, reference) {
            (Self::Delimited(d), ValueRef::Field(name)) => {
                d.place_of_field(name).map_or(Where::Nowhere, Where::Place)
            }
            (Self::Delimited(d), ValueRef::Position(n)) => {
                d.place_of_position(*n).map_or(Where::Nowhere, Where::Place)
            }
            (Self::Json(_), ValueRef::Json(selector)) => Where::Json(selector.clone()),
            _ => Where::Nowhere,
        })
    }
}

impl<'a> MatchedEvent<'a> {
    /// What [`crate::Extracted::resolve`] would give for this event.
    pub fn resolve(&self, reference: &ValueRef) -> Option<Cow<'a, str>> {
        self.value(&self.pattern.locate(reference))
    }

    /// What [`crate::Extracted::resolve_number`] would give for this event.
    pub fn resolve_number(&self, reference: &ValueRef) -> Option<f64> {
        self.number(&self.pattern.locate(reference))
    }

    /// The value at `at`, which [`FilterPattern::locate`] gave for this event's pattern: what
    /// [`MatchedEvent::resolve`] gives for the reference it located.
    pub fn value(&self, at: &Located) -> Option<Cow<'a, str>> {
        match &at.0 {
            Where::Place(place) => place
                .value(self.message, &self.scratch.spans)
                .map(Cow::Borrowed),
            Where::Json(selector) => json_text(selector.get(self.json()?)?),
            Where::Nowhere => None,
        }
    }

    /// The value at `at` as a number: what [`MatchedEvent::resolve_number`] gives.
    pub fn number(&self, at: &Located) -> Option<f64> {
        if let Where::Json(selector) = &at.0
            && let Some(Json::Number(n)) = selector.get(self.json()?)
        {
            return n.as_f64();
        }
        parse_number(&self.value(at)?)
    }

    fn json(&self) -> Option<&'a Json> {
        self.scratch.json.as_ref()?.as_ref()
    }
}

impl PatternSet {
    pub fn new(patterns: Vec<FilterPattern>) -> Self {
        let mut conditions: Vec<Condition> = Vec::new();
        let mut checks: Vec<Option<Checks>> = patterns
            .iter()
            .map(|p| match p {
                FilterPattern::Delimited(d) => Some(checks_of(d, &mut conditions)),
                _ => None,
            })
            .collect();
        let exact: Vec<Option<Exact>> = conditions.iter().map(Condition::exact).collect();
        // How many patterns need each condition: anchor each pattern on its rarest exact
        // condition, likely the most selective.
        let mut users = vec![0usize; conditions.len()];
        for c in checks.iter().flatten() {
            for &id in &c.conditions {
                users[id] += 1;
            }
        }
        let mut anchored = vec![Vec::new(); conditions.len()];
        let mut always = vec![0u64; patterns.len().div_ceil(64)];
        let mut anchor_places: Vec<Place> = Vec::new();
        for (i, c) in checks.iter().enumerate() {
            let anchor = c.as_ref().and_then(|c| {
                c.conditions
                    .iter()
                    .copied()
                    .filter(|&id| exact[id].is_some())
                    .min_by_key(|&id| users[id])
            });
            match anchor {
                Some(id) => {
                    anchored[id].push(i);
                    let place = conditions[id].place;
                    if !anchor_places.contains(&place) {
                        anchor_places.push(place);
                    }
                }
                None => always[i / 64] |= 1 << (i % 64),
            }
        }
        // Every exact condition at an anchor's place is decided by that place's lookup.
        let mut indexes: Vec<AnchorIndex> = anchor_places
            .iter()
            .map(|&place| AnchorIndex {
                place,
                texts: HashMap::default(),
                numbers: HashMap::default(),
            })
            .collect();
        let mut initial = vec![UNKNOWN; conditions.len()];
        for (id, want) in exact.iter().enumerate() {
            let Some(want) = want else { continue };
            let Some(index) = indexes.iter_mut().find(|x| x.place == conditions[id].place) else {
                continue;
            };
            initial[id] = FAILS;
            match want {
                Exact::Text(text) => index.texts.entry(text.clone()).or_default().push(id),
                Exact::Number(key) => index.numbers.entry(*key).or_default().push(id),
            }
        }
        // Check the conditions the lookups decide before the ones still to evaluate.
        for c in checks.iter_mut().flatten() {
            c.conditions.sort_by_key(|&id| initial[id] == UNKNOWN);
        }
        let tokenise = checks.iter().any(Option::is_some);
        Self {
            patterns,
            checks,
            conditions,
            initial,
            anchored,
            always,
            indexes,
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
            verdicts,
            candidates,
            matched,
            json,
        } = scratch;
        matched.clear();
        *json = None;
        if self.tokenise {
            split_into(message, spans);
        } else {
            spans.clear();
        }
        verdicts.clear();
        verdicts.extend_from_slice(&self.initial);
        candidates.clear();
        candidates.extend_from_slice(&self.always);
        let mut decide = |ids: &[usize]| {
            for &id in ids {
                verdicts[id] = HOLDS;
                for &p in &self.anchored[id] {
                    candidates[p / 64] |= 1 << (p % 64);
                }
            }
        };
        for index in &self.indexes {
            let Some(value) = index.place.value(message, spans) else {
                continue;
            };
            if let Some(found) = index.texts.get(value) {
                decide(found);
            }
            if !index.numbers.is_empty()
                && let Some(found) = parse_number(value).and_then(|x| index.numbers.get(&bits(x)))
            {
                decide(found);
            }
        }
        for (word_at, &word) in candidates.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let i = word_at * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let hit = match (&self.patterns[i], &self.checks[i]) {
                    (FilterPattern::Delimited(_), Some(c)) => {
                        spans.len() >= c.min_tokens
                            && c.conditions
                                .iter()
                                .all(|&id| self.holds(id, message, spans, verdicts))
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
        }
        matched
    }

    /// Whether condition `id` holds for the event, evaluated once per event.
    fn holds(&self, id: usize, message: &str, spans: &[Span], verdicts: &mut [u8]) -> bool {
        match verdicts[id] {
            HOLDS => true,
            FAILS => false,
            _ => {
                let c = &self.conditions[id];
                let ok = c
                    .place
                    .value(message, spans)
                    .is_some_and(|value| holds(&c.any_of, value));
                verdicts[id] = if ok { HOLDS } else { FAILS };
                ok
            }
        }
    }
}

/// A space-delimited pattern's checks, its conditions added to (or found in) the set's table.
fn checks_of(pattern: &DelimitedPattern, conditions: &mut Vec<Condition>) -> Checks {
    let layout = pattern.layout();
    let mut ids = Vec::new();
    for &(place, j) in &layout.checks {
        let FieldSpec::Field { any_of, .. } = &pattern.specs()[j] else {
            continue;
        };
        let condition = Condition {
            place,
            any_of: any_of.clone(),
        };
        let id = match conditions.iter().position(|c| *c == condition) {
            Some(id) => id,
            None => {
                conditions.push(condition);
                conditions.len() - 1
            }
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Checks {
        min_tokens: layout.min_tokens,
        conditions: ids,
    }
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
        assert_eq!(s.always, [0b11000]);
        let places: Vec<Place> = s.indexes.iter().map(|a| a.place).collect();
        assert_eq!(places, [Place::Index(6), Place::Index(12)]);
        let anchored_on = |ids: Option<&Vec<usize>>| -> Vec<usize> {
            ids.into_iter()
                .flatten()
                .flat_map(|&id| s.anchored[id].clone())
                .collect()
        };
        let dp = &s.indexes[0];
        assert_eq!(anchored_on(dp.texts.get("22")), [0]);
        assert_eq!(anchored_on(dp.numbers.get(&bits(443.0))), [1]);
        let act = &s.indexes[1];
        assert_eq!(anchored_on(act.texts.get("REJECT")), [2]);
        // `action = REJECT` is one condition of patterns 0, 1 and 2, decided by the lookup.
        assert_eq!(act.texts.get("REJECT").map(Vec::len), Some(1));
        assert_eq!(s.conditions.len(), 8);
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
    mod property {
        use proptest::prelude::*;

        use super::super::*;

        /// Conditions on the fields of a 6-token line, many shared between patterns.
        fn spec() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just(" = 22".to_owned()),
                Just(" = \"22\"".to_owned()),
                Just(" = 22.0".to_owned()),
                Just(" != 22".to_owned()),
                Just(" < 1024".to_owned()),
                Just(" = REJECT".to_owned()),
                Just(" = ACCEPT".to_owned()),
                Just(" = 1*".to_owned()),
                Just(" = 22 || NAME = 6".to_owned()),
                Just(" = %^[0-9]+$%".to_owned()),
            ]
        }

        fn pattern() -> impl Strategy<Value = String> {
            (
                prop::collection::vec(spec(), 0..7),
                any::<bool>(),
                0usize..7,
            )
                .prop_map(|(specs, ellipsis, at)| {
                    let mut fields: Vec<String> = specs
                        .iter()
                        .enumerate()
                        .map(|(i, cond)| {
                            let name = format!("f{i}");
                            format!("{name}{}", cond.replace("NAME", &name))
                        })
                        .collect();
                    if ellipsis {
                        fields.insert(at.min(fields.len()), "...".to_owned());
                    }
                    format!("[{}]", fields.join(", "))
                })
        }

        fn token() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("22".to_owned()),
                Just("22.0".to_owned()),
                Just("6".to_owned()),
                Just("1023".to_owned()),
                Just("REJECT".to_owned()),
                Just("ACCEPT".to_owned()),
                Just("[a b]".to_owned()),
                Just("\"22\"".to_owned()),
                Just("-0".to_owned()),
            ]
        }

        proptest! {
            #[test]
            fn set_agrees_with_each_pattern(
                patterns in prop::collection::vec(pattern(), 1..12),
                lines in prop::collection::vec(prop::collection::vec(token(), 0..9), 1..8),
            ) {
                // Patterns past AWS's limits (two regexes) are refused; the rest are the set.
                let parsed: Vec<FilterPattern> = patterns
                    .iter()
                    .filter_map(|p| FilterPattern::parse(p).ok())
                    .collect();
                let set = PatternSet::new(parsed.clone());
                let mut scratch = SetScratch::default();
                for line in lines {
                    let line = line.join(" ");
                    let want: Vec<usize> =
                        (0..parsed.len()).filter(|&i| parsed[i].matches(&line)).collect();
                    prop_assert_eq!(set.matching(&line, &mut scratch), want.as_slice(), "{}", line);
                }
            }
        }
    }
}
