//! Type hints: what the JSON shapes leave unsaid and the other wire formats need.
//!
//! The engine speaks JSON (the awsJson shapes of `flowwatch_model`). CBOR and the query
//! protocols are translations of that JSON, and each needs a little more than JSON says:
//!
//! | need | CBOR | query (form in, XML out) |
//! |---|---|---|
//! | timestamps | tag 1 around epoch seconds | ISO 8601 in, ISO 8601 with milliseconds and `Z` out |
//! | doubles | a float even when the value is integral (the SDK's decoder takes no integer) | parsed from text |
//! | integers, booleans | — | parsed from text |
//! | lists | — | `X.member.N` (`X.N` for EC2) in, `<X><member>` (`<item>`) out |
//! | maps | — | `X.entry.N.key` / `.value` in, `<X><entry><key>` out |
//!
//! A service's table lists only the members that are not text or a structure: everything else
//! is text when it is a leaf and a structure when it has members. Entries are keyed by member
//! name and, where one name means two things in one service, by the member that holds it:
//! CloudWatch's `Value` is a double inside `MetricData` but text inside `Dimensions` and
//! `Tags`. The holder of a top-level member is the operation (so a hint can also be scoped to
//! one operation); the holder of a member of a list element or a map value is the list or
//! map member. Scoped entries win over unscoped ones; a member in no entry is [`Kind::Plain`].

pub(crate) mod cloudwatch;
pub(crate) mod ec2;
pub(crate) mod iam;
pub(crate) mod sns;

/// How a member's value is put on a wire that needs more than JSON says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text, or a structure whose members have their own hints (the default).
    Plain,
    /// A whole number (Smithy `integer` / `long`).
    Integer,
    /// A Smithy `double`: always a float in CBOR; `NaN` / `Infinity` / `-Infinity` are strings
    /// in JSON as in awsJson.
    Double,
    Boolean,
    /// Epoch seconds in JSON (a number, milliseconds as the fraction).
    Timestamp,
    /// A list whose items are of the given kind.
    List(&'static Kind),
    /// A map from text to values of `value`; `key_name` / `value_name` are the names the query
    /// protocols give the two halves of an entry (`key` / `value` unless the model renames them,
    /// as SNS's `MessageAttributes` does with `Name` / `Value`).
    Map {
        key_name: &'static str,
        value_name: &'static str,
        value: &'static Kind,
    },
}

impl Kind {
    /// A map with the default `key` / `value` entry names.
    pub(crate) const fn map(value: &'static Kind) -> Self {
        Self::Map {
            key_name: "key",
            value_name: "value",
            value,
        }
    }
}

/// One row of a hint table: `member` (inside `holder`, or anywhere when `None`) is a `kind`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hint {
    pub member: &'static str,
    pub holder: Option<&'static str>,
    pub kind: Kind,
}

/// A hint for `member` wherever it appears.
pub(crate) const fn any(member: &'static str, kind: Kind) -> Hint {
    Hint {
        member,
        holder: None,
        kind,
    }
}

/// A hint for `member` inside `holder` only (a structure member, a list or map member, or an
/// operation for top-level members).
pub(crate) const fn within(holder: &'static str, member: &'static str, kind: Kind) -> Hint {
    Hint {
        member,
        holder: Some(holder),
        kind,
    }
}

/// A service's hint table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hints(pub &'static [Hint]);

impl Hints {
    /// The kind of `member` held by `holder`.
    pub(crate) fn kind(&self, holder: &str, member: &str) -> Kind {
        let mut unscoped = None;
        for hint in self.0.iter().filter(|h| h.member == member) {
            match hint.holder {
                Some(h) if h == holder => return hint.kind,
                Some(_) => {}
                None => unscoped = Some(hint.kind),
            }
        }
        unscoped.unwrap_or(Kind::Plain)
    }
}

/// Shared item kinds for `Kind::List` / `Kind::Map`.
pub(crate) const PLAIN: &Kind = &Kind::Plain;
pub(crate) const DOUBLE: &Kind = &Kind::Double;
pub(crate) const TIMESTAMP: &Kind = &Kind::Timestamp;

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: Hints = Hints(&[
        any("Value", Kind::Plain),
        within("MetricData", "Value", Kind::Double),
        any("Period", Kind::Integer),
    ]);

    #[test]
    fn scoped_hints_win_and_unknown_members_are_plain() {
        assert_eq!(TABLE.kind("MetricData", "Value"), Kind::Double);
        assert_eq!(TABLE.kind("Dimensions", "Value"), Kind::Plain);
        assert_eq!(TABLE.kind("GetMetricStatistics", "Period"), Kind::Integer);
        assert_eq!(TABLE.kind("X", "Namespace"), Kind::Plain);
    }

    #[test]
    fn every_table_is_unambiguous() {
        for table in [cloudwatch::HINTS, sns::HINTS, ec2::HINTS, iam::HINTS] {
            for (i, a) in table.0.iter().enumerate() {
                for b in &table.0[i + 1..] {
                    assert!(
                        a.member != b.member || a.holder != b.holder,
                        "{} listed twice",
                        a.member
                    );
                }
            }
        }
    }
}
