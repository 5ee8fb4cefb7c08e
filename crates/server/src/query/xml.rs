//! JSON output to the query protocols' XML, typed by the service's hints.
//!
//! awsQuery: `<OpResponse xmlns><OpResult>members</OpResult><ResponseMetadata><RequestId>`;
//! lists are `<X><member>..</member></X>`, maps `<X><entry><key>..</key><value>..</value>
//! </entry></X>`, timestamps ISO 8601 with milliseconds and `Z`, doubles with a decimal point.
//! ec2Query: `<OpResponse xmlns><requestId>` then the members, lists as `<item>`.
//! Errors: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` and EC2's
//! `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
//!
//! Text is escaped with quick-xml; characters XML 1.0 cannot carry at all (most C0 controls)
//! become U+FFFD, and a carriage return is written as `&#xD;` so readers do not turn it into a
//! line feed.

use std::borrow::Cow;

use chrono::DateTime;
use flowwatch_model::ApiError;
use serde_json::{Number, Value};

use crate::hints::{Hints, Kind};
use crate::service::{Dialect, QueryBinding};

/// The body of a successful call of `op`. `output` is `None` for an operation without output.
pub(crate) fn success(
    binding: &QueryBinding,
    hints: &Hints,
    op: &str,
    output: Option<&Value>,
    request_id: &str,
) -> String {
    let mut w = Writer {
        out: String::new(),
        hints,
        item: match binding.dialect {
            Dialect::AwsQuery => "member",
            Dialect::Ec2 => "item",
        },
    };
    if binding.dialect == Dialect::Ec2 {
        w.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    w.out.push_str(&format!("<{op}Response xmlns=\""));
    w.text(binding.xmlns);
    w.out.push_str("\">");
    match binding.dialect {
        Dialect::AwsQuery => {
            if let Some(output) = output {
                w.open(&format!("{op}Result"));
                w.members(output, op);
                w.close(&format!("{op}Result"));
            }
            w.out.push_str("<ResponseMetadata>");
            w.element("RequestId", request_id);
            w.out.push_str("</ResponseMetadata>");
        }
        Dialect::Ec2 => {
            w.element("requestId", request_id);
            if let Some(output) = output {
                w.members(output, op);
            }
        }
    }
    w.close(&format!("{op}Response"));
    w.out
}

/// The body of an error.
pub(crate) fn error(binding: &QueryBinding, error: &ApiError, request_id: &str) -> String {
    let hints = Hints(&[]);
    let mut w = Writer {
        out: String::new(),
        hints: &hints,
        item: "member",
    };
    let fault = if error.code.is_sender_fault() {
        "Sender"
    } else {
        "Receiver"
    };
    match binding.dialect {
        Dialect::AwsQuery => {
            w.out.push_str("<ErrorResponse xmlns=\"");
            w.text(binding.xmlns);
            w.out.push_str("\"><Error>");
            w.element("Type", fault);
            w.element("Code", error.code.query_code());
            w.element("Message", &error.message);
            for (name, value) in &error.members {
                match value {
                    serde_json::Value::String(text) => w.element(name, text),
                    other => w.element(name, &other.to_string()),
                }
            }
            w.out.push_str("</Error>");
            w.element("RequestId", request_id);
            w.out.push_str("</ErrorResponse>");
        }
        Dialect::Ec2 => {
            w.out
                .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>");
            w.element("Code", error.code.query_code());
            w.element("Message", &error.message);
            w.out.push_str("</Error></Errors>");
            w.element("RequestID", request_id);
            w.out.push_str("</Response>");
        }
    }
    w.out
}

struct Writer<'h> {
    out: String,
    hints: &'h Hints,
    /// The element around each list item.
    item: &'static str,
}

impl Writer<'_> {
    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn element(&mut self, name: &str, text: &str) {
        self.open(name);
        self.text(text);
        self.close(name);
    }

    fn text(&mut self, s: &str) {
        let clean: Cow<'_, str> = if s.chars().any(not_xml) {
            s.chars()
                .map(|c| if not_xml(c) { '\u{FFFD}' } else { c })
                .collect::<String>()
                .into()
        } else {
            s.into()
        };
        let escaped = quick_xml::escape::escape(clean.as_ref());
        if escaped.contains('\r') {
            self.out.push_str(&escaped.replace('\r', "&#xD;"));
        } else {
            self.out.push_str(&escaped);
        }
    }

    /// The members of a structure held by `holder`.
    fn members(&mut self, value: &Value, holder: &str) {
        let Value::Object(members) = value else {
            return;
        };
        for (name, v) in members {
            // A name that cannot be an element cannot be a modelled member.
            if is_name(name) {
                let kind = self.hints.kind(holder, name);
                self.member(name, v, kind);
            }
        }
    }

    /// `<name>value</name>`; nothing for a null.
    fn member(&mut self, name: &str, v: &Value, kind: Kind) {
        if v.is_null() {
            return;
        }
        self.open(name);
        self.content(name, v, kind);
        self.close(name);
    }

    /// What goes inside the element of member `name`.
    fn content(&mut self, name: &str, v: &Value, kind: Kind) {
        match v {
            Value::Null => {}
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let text = number(n, kind);
                self.text(&text);
            }
            Value::String(s) => self.text(s),
            Value::Array(items) => {
                let item = match kind {
                    Kind::List(item) => *item,
                    _ => Kind::Plain,
                };
                let tag = self.item;
                for v in items {
                    self.open(tag);
                    self.content(name, v, item);
                    self.close(tag);
                }
            }
            Value::Object(entries) => match kind {
                Kind::Map {
                    key_name,
                    value_name,
                    value,
                } => {
                    for (k, v) in entries {
                        self.open("entry");
                        self.element(key_name, k);
                        self.open(value_name);
                        self.content(name, v, *value);
                        self.close(value_name);
                        self.close("entry");
                    }
                }
                _ => self.members(v, name),
            },
        }
    }
}

/// A number as text for its kind.
fn number(n: &Number, kind: Kind) -> String {
    let f = n.as_f64().unwrap_or(f64::NAN);
    match kind {
        Kind::Timestamp => iso8601(f).unwrap_or_else(|| n.to_string()),
        Kind::Integer if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
            format!("{}", f as i64)
        }
        Kind::Double if f.fract() == 0.0 && f.abs() < 1.0e16 => format!("{f:.1}"),
        _ => n.to_string(),
    }
}

/// Epoch seconds as `2024-01-01T00:00:00.000Z`.
pub(crate) fn iso8601(seconds: f64) -> Option<String> {
    let millis = (seconds * 1000.0).round();
    if !millis.is_finite() || millis.abs() > 1.0e17 {
        return None;
    }
    DateTime::from_timestamp_millis(millis as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Characters XML 1.0 does not allow in a document, escaped or not.
fn not_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Whether `s` can be an element name (the ASCII subset of XML names the models use).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::{cloudwatch, sns};
    use flowwatch_model::ErrorCode;
    use serde_json::json;

    const CW: QueryBinding = QueryBinding {
        version: "2010-08-01",
        xmlns: "http://monitoring.amazonaws.com/doc/2010-08-01/",
        dialect: Dialect::AwsQuery,
    };

    #[test]
    fn results_with_lists_timestamps_doubles_and_maps() {
        let out = json!({
            "Label": "SSHRejects",
            "Datapoints": [{"Timestamp": 1704067260, "Sum": 600.0, "Average": 2.5,
                            "Unit": "Count", "ExtendedStatistics": {"p99": 3}}],
        });
        let xml = success(
            &CW,
            &cloudwatch::HINTS,
            "GetMetricStatistics",
            Some(&out),
            "rid",
        );
        assert_eq!(
            xml,
            "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <GetMetricStatisticsResult><Datapoints><member><Average>2.5</Average>\
             <ExtendedStatistics><entry><key>p99</key><value>3.0</value></entry></ExtendedStatistics>\
             <Sum>600.0</Sum><Timestamp>2024-01-01T00:01:00.000Z</Timestamp><Unit>Count</Unit>\
             </member></Datapoints><Label>SSHRejects</Label></GetMetricStatisticsResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>\
             </GetMetricStatisticsResponse>"
        );
    }

    #[test]
    fn operations_without_output_have_no_result() {
        let xml = success(&CW, &cloudwatch::HINTS, "DeleteAlarms", None, "rid");
        assert_eq!(
            xml,
            "<DeleteAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteAlarmsResponse>"
        );
    }

    #[test]
    fn text_is_escaped_and_kept_exact() {
        let out = json!({"Metrics": [{"MetricName": "a<b>&\"c'\r\n\u{1}é", "Dimensions": [],
                                      "Namespace": "N", "Bad Name": "x"}], "NextToken": null});
        let xml = success(&CW, &cloudwatch::HINTS, "ListMetrics", Some(&out), "r&d");
        assert!(
            xml.contains(
                "<Metrics><member><Dimensions></Dimensions>\
                 <MetricName>a&lt;b&gt;&amp;&quot;c&apos;&#xD;\n\u{FFFD}é</MetricName>\
                 <Namespace>N</Namespace></member></Metrics></ListMetricsResult>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<RequestId>r&amp;d</RequestId>"), "{xml}");
        assert!(!xml.contains("NextToken"));
    }

    #[test]
    fn sns_maps_and_ec2_framing() {
        const SNS: QueryBinding = QueryBinding {
            version: "2010-03-31",
            xmlns: "http://sns.amazonaws.com/doc/2010-03-31/",
            dialect: Dialect::AwsQuery,
        };
        let out = json!({"Attributes": {"DisplayName": "x", "Policy": "{}"}});
        let xml = success(&SNS, &sns::HINTS, "GetTopicAttributes", Some(&out), "r");
        assert!(xml.contains(
            "<Attributes><entry><key>DisplayName</key><value>x</value></entry>\
             <entry><key>Policy</key><value>{}</value></entry></Attributes>"
        ));
        let ec2 = QueryBinding {
            version: "2016-11-15",
            xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/",
            dialect: Dialect::Ec2,
        };
        let out = json!({"flowLogIdSet": ["fl-1", "fl-2"]});
        let xml = success(&ec2, &Hints(&[]), "CreateFlowLogs", Some(&out), "r");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateFlowLogsResponse \
             xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>\
             <flowLogIdSet><item>fl-1</item><item>fl-2</item></flowLogIdSet></CreateFlowLogsResponse>"
        );
        let err = ApiError::new(ErrorCode::InvalidParameterValueException, "no <x>");
        assert_eq!(
            error(&ec2, &err, "r"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
             <Code>InvalidParameterValue</Code><Message>no &lt;x&gt;</Message></Error></Errors>\
             <RequestID>r</RequestID></Response>"
        );
    }

    #[test]
    fn errors_carry_the_query_code_and_fault() {
        let err = ApiError::new(ErrorCode::MissingRequiredParameterException, "Period & co");
        assert_eq!(
            error(&CW, &err, "rid"),
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>\
             <Type>Sender</Type><Code>MissingParameter</Code><Message>Period &amp; co</Message>\
             </Error><RequestId>rid</RequestId></ErrorResponse>"
        );
        let err = ApiError::new(ErrorCode::InternalServiceFault, "oops");
        assert!(
            error(&CW, &err, "r")
                .contains("<Type>Receiver</Type><Code>InternalServiceError</Code>")
        );
    }

    #[test]
    fn numbers_by_kind() {
        assert_eq!(number(&Number::from(60), Kind::Integer), "60");
        assert_eq!(
            number(&Number::from_f64(60.0).unwrap(), Kind::Integer),
            "60"
        );
        assert_eq!(number(&Number::from(3), Kind::Double), "3.0");
        assert_eq!(number(&Number::from_f64(0.1).unwrap(), Kind::Double), "0.1");
        assert_eq!(
            number(&Number::from_f64(1e300).unwrap(), Kind::Double),
            "1e+300"
        );
        assert_eq!(
            number(&Number::from_f64(1704067200.123).unwrap(), Kind::Timestamp),
            "2024-01-01T00:00:00.123Z"
        );
    }
}
