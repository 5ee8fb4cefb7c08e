//! Property tests: arbitrary records round-trip through text (default and random custom
//! formats) and Arrow; decoding arbitrary input never panics.

use std::net::IpAddr;

use flowwatch_flowlog::{
    Action, Field, FlowDirection, FlowRecord, FlowType, Kind, KnownAwsService, LogFormat,
    LogStatus, RejectReason, Scope, SublocationType, Token, Value, from_record_batch,
    to_record_batch,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// A value in owned form, set into a record with [`FlowRecord::set`].
#[derive(Debug, Clone)]
enum Owned {
    Int(u64),
    Str(String),
}

fn codes<T: std::fmt::Display + std::fmt::Debug + Clone + 'static>(
    all: &'static [T],
) -> BoxedStrategy<Owned> {
    select(all).prop_map(|c| Owned::Str(c.to_string())).boxed()
}

/// A valid value of `kind`; counts and times at most `max_int`.
fn value(kind: Kind, max_int: u64) -> BoxedStrategy<Owned> {
    let int = |max: u64| (0..=max).prop_map(Owned::Int).boxed();
    match kind {
        Kind::Version | Kind::Protocol | Kind::TcpFlags => int(255),
        Kind::Port => int(65535),
        Kind::Count | Kind::Time => prop_oneof![int(3), int(max_int)].boxed(),
        Kind::TrafficPath => (1..=8u64).prop_map(Owned::Int).boxed(),
        Kind::EncryptionStatus => int(3),
        Kind::Ip => any::<IpAddr>()
            .prop_map(|ip| Owned::Str(ip.to_string()))
            .boxed(),
        Kind::Text => "[^\\s\\p{Cc}]{1,12}"
            .prop_filter("a token", |s| Token::is_valid(s))
            .prop_map(Owned::Str)
            .boxed(),
        Kind::Action => codes(Action::ALL),
        Kind::LogStatus => codes(LogStatus::ALL),
        Kind::FlowType => codes(FlowType::ALL),
        Kind::SublocationType => codes(SublocationType::ALL),
        Kind::FlowDirection => codes(FlowDirection::ALL),
        Kind::RejectReason => codes(RejectReason::ALL),
        Kind::AwsService => prop_oneof![
            codes(KnownAwsService::ALL),
            "[A-Z][A-Z0-9_]{0,10}".prop_map(Owned::Str),
        ]
        .boxed(),
    }
}

/// A record with each field absent or holding a random valid value.
fn record(max_int: u64) -> impl Strategy<Value = FlowRecord> {
    let per_field: Vec<_> = Field::all()
        .map(|f| proptest::option::of(value(f.kind(), max_int)))
        .collect();
    per_field.prop_map(|values| {
        let mut r = FlowRecord::default();
        for (f, v) in Field::all().zip(values) {
            let v = match &v {
                Some(Owned::Int(n)) => Some(Value::Int(*n)),
                Some(Owned::Str(s)) => Some(Value::Str(s)),
                None => None,
            };
            r.set(f, v).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
        r
    })
}

/// A valid custom format: a shuffled subset of the VPC or of the Transit Gateway fields.
fn format() -> impl Strategy<Value = LogFormat> {
    let scoped =
        |other: Scope| -> Vec<Field> { Field::all().filter(|f| f.scope() != other).collect() };
    prop_oneof![
        Just(scoped(Scope::TransitGateway)),
        Just(scoped(Scope::Vpc))
    ]
    .prop_flat_map(|fields| {
        let n = fields.len();
        subsequence(fields, 1..=n).prop_shuffle()
    })
    .prop_map(|fields| LogFormat::new(fields).unwrap())
}

/// Lines built from plausible and implausible values, to get past the field count.
fn line_like(n: usize) -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("-".to_owned()),
        "[0-9]{1,21}",
        "[A-Za-z0-9:.\\-_]{0,12}",
        any::<IpAddr>().prop_map(|ip| ip.to_string()),
        select(
            &[
                "ACCEPT", "REJECT", "OK", "NODATA", "IPv6", "egress", "S3", "EC"
            ][..]
        )
        .prop_map(str::to_owned),
        ".{0,6}",
    ];
    proptest::collection::vec(word, n.saturating_sub(1)..=n + 1).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn default_format_round_trips(r in record(u64::MAX)) {
        let d = LogFormat::default_vpc();
        let line = d.encode(&r);
        let back = d.decode(&line).unwrap();
        prop_assert_eq!(&back, &r.project(d.fields().iter().copied()));
        prop_assert_eq!(d.encode(&back), line);
    }

    #[test]
    fn custom_formats_round_trip(f in format(), r in record(u64::MAX)) {
        prop_assert_eq!(LogFormat::parse(&f.to_string()).unwrap(), f.clone());
        let line = f.encode(&r);
        prop_assert_eq!(line.split(' ').count(), f.fields().len());
        let back = f.decode(&line).unwrap();
        prop_assert_eq!(&back, &r.project(f.fields().iter().copied()));
        prop_assert_eq!(f.encode(&back), line);
    }

    #[test]
    fn arrow_round_trips(f in format(), rs in proptest::collection::vec(record(i64::MAX as u64), 0..8)) {
        let batch = to_record_batch(&f, &rs).unwrap();
        prop_assert_eq!(batch.num_rows(), rs.len());
        let expected: Vec<FlowRecord> =
            rs.iter().map(|r| r.project(f.fields().iter().copied())).collect();
        prop_assert_eq!(from_record_batch(&batch).unwrap(), expected);
    }

    #[test]
    fn decoding_arbitrary_strings_never_panics(f in format(), s in ".{0,200}") {
        let _ = f.decode(&s);
        let _ = LogFormat::default_vpc().decode(&s);
        let _ = LogFormat::parse(&s);
    }

    #[test]
    fn decoding_line_like_input_never_panics_and_what_decodes_re_decodes(
        (f, s) in format().prop_flat_map(|f| { let n = f.fields().len(); (Just(f), line_like(n)) })
    ) {
        if let Ok(r) = f.decode(&s) {
            prop_assert_eq!(f.decode(&f.encode(&r)).unwrap(), r);
        }
    }

    #[test]
    fn format_like_strings_never_panic(s in "(\\$\\{[a-z\\-]{0,12}\\}? ?){0,5}") {
        if let Ok(f) = LogFormat::parse(&s) {
            prop_assert_eq!(f.to_string(), s);
        }
    }
}
