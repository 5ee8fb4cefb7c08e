//! Form parameters to the JSON input of an operation, typed by the service's hints.
//!
//! `Dimensions.member.1.Name=InstanceId` is the member `Name` of the first item of the list
//! `Dimensions` (`Dimensions.1.Name` in the EC2 dialect); `Attributes.entry.1.key=a` /
//! `Attributes.entry.1.value=b` is the map entry `a: b`; any other dotted name is a structure
//! member. Leaves become text unless the hints say integer, double, boolean or timestamp
//! (ISO 8601 in, epoch seconds out, as awsJson carries it). List indexes start at 1; they are
//! ordered, not required to be contiguous, and never allocated ahead of the items. An empty
//! value for a list or map is an empty list or map (botocore sends `AlarmNames=` for `[]`).

use std::collections::BTreeMap;

use flowwatch_model::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use crate::hints::{Hints, Kind};
use crate::service::Dialect;

/// Deepest member path accepted (CloudWatch's deepest has 9 segments).
const MAX_SEGMENTS: usize = 32;

/// A parameter tree under construction.
#[derive(Debug)]
enum Node {
    Leaf(String, Kind),
    Struct(BTreeMap<String, Node>),
    List(BTreeMap<u32, Node>),
    Map(BTreeMap<u32, Entry>),
}

#[derive(Debug, Default)]
struct Entry {
    key: Option<String>,
    value: Option<Node>,
}

/// Where in the form the conversion is, for its error messages and hints.
struct Ctx<'a> {
    hints: &'a Hints,
    dialect: Dialect,
    /// The whole parameter name, for errors.
    param: &'a str,
    value: &'a str,
}

fn malformed(param: &str, why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQueryParameter,
        format!("The parameter {param} is malformed: {why}."),
    )
}

/// The JSON input of operation `op` from its form parameters (without `Action`/`Version`).
pub(crate) fn to_json<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    op: &str,
    hints: &Hints,
    dialect: Dialect,
) -> Result<Value, ApiError> {
    let mut root = BTreeMap::new();
    for (param, value) in params {
        let segments: Vec<&str> = param.split('.').collect();
        if segments.len() > MAX_SEGMENTS {
            return Err(malformed(param, "too many levels"));
        }
        if segments.iter().any(|s| s.is_empty()) {
            return Err(malformed(param, "empty member name"));
        }
        let ctx = Ctx {
            hints,
            dialect,
            param,
            value,
        };
        let kind = hints.kind(op, segments[0]);
        let slot = root.entry(segments[0].to_owned());
        place_in(slot, &ctx, segments[0], kind, &segments[1..])?;
    }
    Ok(Value::Object(
        root.into_iter()
            .map(|(k, node)| Ok((k, convert(node)?)))
            .collect::<Result<Map<_, _>, ApiError>>()?,
    ))
}

/// Puts the value at `rest` below the member `name` (of `kind`) held in `slot`.
fn place_in<K: Ord>(
    slot: std::collections::btree_map::Entry<'_, K, Node>,
    ctx: &Ctx<'_>,
    name: &str,
    kind: Kind,
    rest: &[&str],
) -> Result<(), ApiError> {
    use std::collections::btree_map::Entry as Slot;
    match slot {
        Slot::Vacant(v) => {
            let mut node = fresh(kind, rest);
            place(&mut node, ctx, name, kind, rest)?;
            v.insert(node);
            Ok(())
        }
        Slot::Occupied(mut o) => place(o.get_mut(), ctx, name, kind, rest),
    }
}

/// The empty node a member of `kind` reached by `rest` starts as.
fn fresh(kind: Kind, rest: &[&str]) -> Node {
    match kind {
        Kind::List(_) => Node::List(BTreeMap::new()),
        Kind::Map { .. } => Node::Map(BTreeMap::new()),
        _ if rest.is_empty() => Node::Leaf(String::new(), kind),
        _ => Node::Struct(BTreeMap::new()),
    }
}

fn place(
    node: &mut Node,
    ctx: &Ctx<'_>,
    name: &str,
    kind: Kind,
    rest: &[&str],
) -> Result<(), ApiError> {
    let conflict = || malformed(ctx.param, "it is given both as a value and with members");
    if rest.is_empty() {
        // A leaf: `X=value`, or `X=` for an empty list or map.
        return match node {
            Node::Leaf(text, _) => {
                ctx.value.clone_into(text);
                Ok(())
            }
            Node::List(items) if items.is_empty() && ctx.value.is_empty() => Ok(()),
            Node::Map(entries) if entries.is_empty() && ctx.value.is_empty() => Ok(()),
            _ => Err(conflict()),
        };
    }
    match kind {
        Kind::List(item) => {
            let Node::List(items) = node else {
                return Err(conflict());
            };
            let rest = match (ctx.dialect, rest) {
                (Dialect::AwsQuery, ["member", rest @ ..]) => rest,
                (Dialect::Ec2, rest) => rest,
                _ => {
                    return Err(malformed(
                        ctx.param,
                        &format!("{name} is a list: {name}.member.N"),
                    ));
                }
            };
            let (index, rest) = index(ctx, name, rest)?;
            place_in(items.entry(index), ctx, name, *item, rest)
        }
        Kind::Map {
            key_name,
            value_name,
            value,
        } => {
            let Node::Map(entries) = node else {
                return Err(conflict());
            };
            let expected = || {
                malformed(
                    ctx.param,
                    &format!(
                        "{name} is a map: {name}.entry.N.{key_name} and {name}.entry.N.{value_name}"
                    ),
                )
            };
            let ["entry", rest @ ..] = rest else {
                return Err(expected());
            };
            let (index, rest) = index(ctx, name, rest)?;
            let entry = entries.entry(index).or_default();
            match rest {
                [k] if *k == key_name => {
                    entry.key = Some(ctx.value.to_owned());
                    Ok(())
                }
                [v, rest @ ..] if *v == value_name => {
                    let node = entry.value.get_or_insert_with(|| fresh(*value, rest));
                    place(node, ctx, name, *value, rest)
                }
                _ => Err(expected()),
            }
        }
        _ => {
            let Node::Struct(members) = node else {
                return Err(conflict());
            };
            let member = rest[0];
            let kind = ctx.hints.kind(name, member);
            place_in(
                members.entry(member.to_owned()),
                ctx,
                member,
                kind,
                &rest[1..],
            )
        }
    }
}

/// The 1-based list or map index that starts `rest`.
fn index<'r>(
    ctx: &Ctx<'_>,
    name: &str,
    rest: &'r [&'r str],
) -> Result<(u32, &'r [&'r str]), ApiError> {
    match rest {
        [n, rest @ ..] => match n.parse::<u32>() {
            Ok(i) if i >= 1 && n.bytes().all(|b| b.is_ascii_digit()) => Ok((i, rest)),
            _ => Err(malformed(
                ctx.param,
                &format!("the index after {name} must be a number from 1"),
            )),
        },
        [] => Err(malformed(ctx.param, &format!("no index after {name}"))),
    }
}

fn convert(node: Node) -> Result<Value, ApiError> {
    Ok(match node {
        Node::Leaf(text, kind) => super::scalar::from_text(&text, kind)?,
        Node::Struct(members) => Value::Object(
            members
                .into_iter()
                .map(|(k, n)| Ok((k, convert(n)?)))
                .collect::<Result<_, ApiError>>()?,
        ),
        Node::List(items) => {
            Value::Array(items.into_values().map(convert).collect::<Result<_, _>>()?)
        }
        Node::Map(entries) => {
            let mut map = Map::new();
            for (i, entry) in entries {
                let (Some(key), Some(value)) = (entry.key, entry.value) else {
                    return Err(ApiError::new(
                        ErrorCode::InvalidQueryParameter,
                        format!("Map entry {i} needs both its key and its value."),
                    ));
                };
                map.insert(key, convert(value)?);
            }
            Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::{cloudwatch, sns};
    use serde_json::json;

    fn cw(op: &str, form: &[(&str, &str)]) -> Result<Value, ApiError> {
        to_json(
            form.iter().copied(),
            op,
            &cloudwatch::HINTS,
            Dialect::AwsQuery,
        )
    }

    #[test]
    fn lists_structures_numbers_and_timestamps() {
        let got = cw(
            "GetMetricStatistics",
            &[
                ("Namespace", "VPC/FlowLogs"),
                ("Dimensions.member.2.Name", "B"),
                ("Dimensions.member.1.Name", "A"),
                ("Dimensions.member.1.Value", "123"),
                ("Dimensions.member.2.Value", "b"),
                ("StartTime", "2024-01-01T00:00:00Z"),
                ("EndTime", "2024-01-01T01:00:00.500+01:00"),
                ("Period", "60"),
                ("Statistics.member.1", "Sum"),
                ("Statistics.member.10", "Maximum"),
            ],
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "Namespace": "VPC/FlowLogs",
                "Dimensions": [{"Name": "A", "Value": "123"}, {"Name": "B", "Value": "b"}],
                "StartTime": 1704067200,
                "EndTime": 1704067200.5,
                "Period": 60,
                "Statistics": ["Sum", "Maximum"],
            })
        );
    }

    #[test]
    fn one_member_name_two_types() {
        let got = cw(
            "PutMetricData",
            &[
                ("Namespace", "App"),
                ("MetricData.member.1.MetricName", "Errors"),
                ("MetricData.member.1.Value", "1"),
                ("MetricData.member.1.Dimensions.member.1.Name", "Env"),
                ("MetricData.member.1.Dimensions.member.1.Value", "42"),
                ("MetricData.member.1.Timestamp", "2024-01-01T00:00:00Z"),
                ("MetricData.member.1.StorageResolution", "60"),
                ("MetricData.member.1.Values.member.1", "2.5"),
                ("MetricData.member.1.StatisticValues.Sum", "3"),
            ],
        )
        .unwrap();
        let datum = &got["MetricData"][0];
        assert_eq!(datum["Value"], json!(1.0));
        assert!(datum["Value"].is_f64());
        assert_eq!(datum["Dimensions"][0]["Value"], "42");
        assert_eq!(datum["Timestamp"], 1704067200);
        assert_eq!(datum["StorageResolution"], 60);
        assert_eq!(datum["Values"], json!([2.5]));
        assert_eq!(datum["StatisticValues"]["Sum"], json!(3.0));
    }

    #[test]
    fn deep_structures_booleans_and_empty_lists() {
        let got = cw(
            "GetMetricData",
            &[
                ("MetricDataQueries.member.1.Id", "m1"),
                ("MetricDataQueries.member.1.ReturnData", "true"),
                ("MetricDataQueries.member.1.MetricStat.Period", "300"),
                (
                    "MetricDataQueries.member.1.MetricStat.Metric.Namespace",
                    "N",
                ),
                (
                    "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name",
                    "D",
                ),
                ("AlarmNames", ""),
            ],
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "MetricDataQueries": [{"Id": "m1", "ReturnData": true, "MetricStat": {
                    "Period": 300, "Metric": {"Namespace": "N", "Dimensions": [{"Name": "D"}]}}}],
                "AlarmNames": [],
            })
        );
    }

    #[test]
    fn maps_with_default_and_renamed_entry_names() {
        let got = to_json(
            [
                ("Name", "t"),
                ("Attributes.entry.1.key", "DisplayName"),
                ("Attributes.entry.1.value", "My topic"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "core"),
                ("MessageAttributes.entry.1.Name", "color"),
                ("MessageAttributes.entry.1.Value.DataType", "String"),
                ("MessageAttributes.entry.1.Value.StringValue", "blue"),
                ("ReturnSubscriptionArn", "false"),
            ],
            "CreateTopic",
            &sns::HINTS,
            Dialect::AwsQuery,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "Name": "t",
                "Attributes": {"DisplayName": "My topic"},
                "Tags": [{"Key": "team", "Value": "core"}],
                "MessageAttributes": {"color": {"DataType": "String", "StringValue": "blue"}},
                "ReturnSubscriptionArn": false,
            })
        );
    }

    #[test]
    fn ec2_lists_have_no_member_segment() {
        const HINTS: Hints = Hints(&[crate::hints::any(
            "ResourceId",
            Kind::List(crate::hints::PLAIN),
        )]);
        let got = to_json(
            [("ResourceId.2", "eni-2"), ("ResourceId.1", "eni-1")],
            "CreateFlowLogs",
            &HINTS,
            Dialect::Ec2,
        )
        .unwrap();
        assert_eq!(got, json!({"ResourceId": ["eni-1", "eni-2"]}));
    }

    #[test]
    fn malformed_forms_are_client_errors() {
        for (form, code) in [
            (
                vec![("Dimensions.1.Name", "x")],
                ErrorCode::InvalidQueryParameter,
            ),
            (
                vec![("Dimensions.member.0.Name", "x")],
                ErrorCode::InvalidQueryParameter,
            ),
            (
                vec![("Dimensions.member.-1", "x")],
                ErrorCode::InvalidQueryParameter,
            ),
            (
                vec![("Dimensions.member.99999999999", "x")],
                ErrorCode::InvalidQueryParameter,
            ),
            (
                vec![("Dimensions.member", "x")],
                ErrorCode::InvalidQueryParameter,
            ),
            (vec![("Dimensions", "x")], ErrorCode::InvalidQueryParameter),
            (
                vec![("A", "1"), ("A.B", "2")],
                ErrorCode::InvalidQueryParameter,
            ),
            (
                vec![("A.B", "2"), ("A", "1")],
                ErrorCode::InvalidQueryParameter,
            ),
            (vec![("A..B", "2")], ErrorCode::InvalidQueryParameter),
            (
                vec![("Period", "1.5")],
                ErrorCode::InvalidParameterValueException,
            ),
            (
                vec![("Threshold", "inf")],
                ErrorCode::InvalidParameterValueException,
            ),
            (
                vec![("ActionsEnabled", "yes")],
                ErrorCode::InvalidParameterValueException,
            ),
            (
                vec![("StartTime", "yesterday")],
                ErrorCode::InvalidParameterValueException,
            ),
        ] {
            let err = cw("PutMetricAlarm", &form).unwrap_err();
            assert_eq!(err.code, code, "{form:?}: {err}");
        }
        let deep = vec!["A"; 40].join(".");
        assert!(cw("X", &[(deep.as_str(), "v")]).is_err());
        let err = to_json(
            [("Attributes.entry.1.key", "k")],
            "CreateTopic",
            &sns::HINTS,
            Dialect::AwsQuery,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidQueryParameter);
    }
}
