//! Event selectors: which records a trail logs (PutEventSelectors / GetEventSelectors).
//!
//! A trail without selectors of its own logs every management event (CloudTrail's default:
//! one basic selector, `ReadWriteType` `All`, management events included). Basic selectors
//! choose management events by read/write type and may exclude the event sources CloudTrail
//! allows (`kms.amazonaws.com`, `rdsdata.amazonaws.com`); their data resources (S3 objects,
//! Lambda functions, DynamoDB tables) name services flowwatch does not have, so they are
//! validated and kept but match nothing. Advanced selectors choose management events by
//! `eventCategory`, `readOnly` and `eventSource` with CloudTrail's operators; a record is logged
//! when any selector matches, and a selector matches when all of its field selectors do.
//! Data events (PutLogEvents, Publish) are recorded in the audit group but not delivered to
//! trails yet, so an advanced selector of the `Data` category is refused with a message
//! saying so rather than accepted and ignored.

use flowwatch_model::cloudtrail::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector};
use flowwatch_model::{ApiError, ApiResult, ErrorCode};
use serde::{Deserialize, Serialize};

/// Selectors per trail (CloudTrail: 5 basic selectors; 500 conditions over advanced ones).
const MAX_SELECTORS: usize = 5;
const MAX_CONDITIONS: usize = 500;
/// Event sources basic selectors may exclude.
const EXCLUDABLE_SOURCES: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];
/// Data resource types of basic selectors.
const DATA_RESOURCE_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];

/// A trail's selectors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) enum Selectors {
    /// None put: every management event.
    #[default]
    Default,
    Basic(Vec<EventSelector>),
    Advanced(Vec<AdvancedEventSelector>),
}

/// What selectors look at in a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts {
    pub management: bool,
    pub read_only: bool,
    pub event_source: String,
}

impl Facts {
    /// The facts of a record as stored (its JSON); `None` when it is not a record.
    pub(crate) fn of_json(json: &str) -> Option<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fields {
            management_event: Option<bool>,
            read_only: Option<bool>,
            event_source: Option<String>,
        }
        let f: Fields = serde_json::from_str(json).ok()?;
        Some(Self {
            management: f.management_event.unwrap_or(true),
            read_only: f.read_only.unwrap_or(false),
            event_source: f.event_source.unwrap_or_default(),
        })
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidEventSelectorsException, message)
}

impl Selectors {
    /// Checks basic selectors as PutEventSelectors does.
    pub(crate) fn basic(selectors: Vec<EventSelector>) -> ApiResult<Self> {
        if selectors.is_empty() || selectors.len() > MAX_SELECTORS {
            return Err(invalid(format!(
                "A trail has 1 to {MAX_SELECTORS} event selectors; {} were given.",
                selectors.len()
            )));
        }
        let mut values = 0;
        for s in &selectors {
            if let Some(rw) = &s.read_write_type
                && !matches!(rw.as_str(), "ReadOnly" | "WriteOnly" | "All")
            {
                return Err(invalid(format!(
                    "ReadWriteType {rw} is not valid: use ReadOnly, WriteOnly or All."
                )));
            }
            for source in &s.exclude_management_event_sources {
                if !EXCLUDABLE_SOURCES.contains(&source.as_str()) {
                    return Err(invalid(format!(
                        "ExcludeManagementEventSources may name only {}; {source} was given.",
                        EXCLUDABLE_SOURCES.join(" and ")
                    )));
                }
            }
            for resource in &s.data_resources {
                let kind = resource.r#type.as_deref().unwrap_or("");
                if !DATA_RESOURCE_TYPES.contains(&kind) {
                    return Err(invalid(format!(
                        "DataResource type {kind:?} is not valid: use one of {}.",
                        DATA_RESOURCE_TYPES.join(", ")
                    )));
                }
                if resource.values.is_empty() {
                    return Err(invalid(format!(
                        "The DataResource of type {kind} needs at least one value."
                    )));
                }
                values += resource.values.len();
            }
        }
        if values > 250 {
            return Err(invalid(format!(
                "Event selectors name at most 250 data resource values; {values} were given."
            )));
        }
        Ok(Self::Basic(selectors))
    }

    /// Checks advanced selectors as PutEventSelectors does (management events only; see the
    /// module docs).
    pub(crate) fn advanced(selectors: Vec<AdvancedEventSelector>) -> ApiResult<Self> {
        if selectors.is_empty() {
            return Err(invalid("At least one advanced event selector is required."));
        }
        let mut conditions = 0;
        for s in &selectors {
            let label = s.name.as_deref().unwrap_or("(unnamed)");
            let category = s
                .field_selectors
                .iter()
                .find(|f| f.field == "eventCategory")
                .and_then(|f| f.equals.as_deref())
                .filter(|e| e.len() == 1)
                .map(|e| e[0].as_str());
            match category {
                Some("Management") => {}
                Some("Data") => {
                    return Err(invalid(format!(
                        "Advanced event selector {label}: data events are recorded by \
                         flowwatch but not delivered to trails yet; select Management events."
                    )));
                }
                Some(other) => {
                    return Err(invalid(format!(
                        "Advanced event selector {label}: eventCategory {other} is not \
                         supported; use Management."
                    )));
                }
                None => {
                    return Err(invalid(format!(
                        "Advanced event selector {label} needs a field selector eventCategory \
                         with Equals of exactly one value."
                    )));
                }
            }
            for f in &s.field_selectors {
                if !matches!(
                    f.field.as_str(),
                    "eventCategory" | "readOnly" | "eventSource"
                ) {
                    return Err(invalid(format!(
                        "Advanced event selector {label}: field {} is not valid for management \
                         events (use eventCategory, readOnly, eventSource).",
                        f.field
                    )));
                }
                let operators = operators(f);
                if operators.is_empty() || operators.iter().any(|(_, v)| v.is_empty()) {
                    return Err(invalid(format!(
                        "Advanced event selector {label}: field {} needs an operator with at \
                         least one value.",
                        f.field
                    )));
                }
                if f.field == "readOnly"
                    && operators
                        .iter()
                        .flat_map(|(_, v)| v.iter())
                        .any(|v| v != "true" && v != "false")
                {
                    return Err(invalid(format!(
                        "Advanced event selector {label}: readOnly takes true or false."
                    )));
                }
                conditions += operators.iter().map(|(_, v)| v.len()).sum::<usize>();
            }
        }
        if conditions > MAX_CONDITIONS {
            return Err(invalid(format!(
                "Advanced event selectors have at most {MAX_CONDITIONS} conditions; {conditions} \
                 were given."
            )));
        }
        Ok(Self::Advanced(selectors))
    }

    /// Whether a record with `facts` is logged.
    pub(crate) fn logs(&self, facts: &Facts) -> bool {
        match self {
            Self::Default => facts.management,
            Self::Basic(selectors) => {
                facts.management
                    && selectors.iter().any(|s| {
                        s.include_management_events.unwrap_or(true)
                            && match s.read_write_type.as_deref() {
                                Some("ReadOnly") => facts.read_only,
                                Some("WriteOnly") => !facts.read_only,
                                _ => true,
                            }
                            && !s
                                .exclude_management_event_sources
                                .contains(&facts.event_source)
                    })
            }
            Self::Advanced(selectors) => selectors.iter().any(|s| {
                s.field_selectors.iter().all(|f| {
                    let value = match f.field.as_str() {
                        "eventCategory" => {
                            if facts.management {
                                "Management"
                            } else {
                                "Data"
                            }
                        }
                        "readOnly" => {
                            if facts.read_only {
                                "true"
                            } else {
                                "false"
                            }
                        }
                        "eventSource" => facts.event_source.as_str(),
                        _ => return false,
                    };
                    field_matches(f, value)
                })
            }),
        }
    }

    /// The selectors as GetEventSelectors answers: (basic, advanced).
    pub(crate) fn shapes(
        &self,
    ) -> (
        Option<Vec<EventSelector>>,
        Option<Vec<AdvancedEventSelector>>,
    ) {
        match self {
            Self::Default => (
                Some(vec![EventSelector {
                    read_write_type: Some("All".into()),
                    include_management_events: Some(true),
                    data_resources: Vec::new(),
                    exclude_management_event_sources: Vec::new(),
                }]),
                None,
            ),
            Self::Basic(s) => (
                Some(
                    s.iter()
                        .map(|s| EventSelector {
                            read_write_type: Some(
                                s.read_write_type.clone().unwrap_or_else(|| "All".into()),
                            ),
                            include_management_events: Some(
                                s.include_management_events.unwrap_or(true),
                            ),
                            ..s.clone()
                        })
                        .collect(),
                ),
                None,
            ),
            Self::Advanced(s) => (None, Some(s.clone())),
        }
    }
}

/// The operators of a field selector that are present, each with its values.
fn operators(f: &AdvancedFieldSelector) -> Vec<(&'static str, &[String])> {
    [
        ("Equals", &f.equals),
        ("StartsWith", &f.starts_with),
        ("EndsWith", &f.ends_with),
        ("NotEquals", &f.not_equals),
        ("NotStartsWith", &f.not_starts_with),
        ("NotEndsWith", &f.not_ends_with),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_deref().map(|v| (name, v)))
    .collect()
}

/// Whether `value` passes every operator of `f`: a positive operator when one of its values
/// holds, a negative one when none does.
fn field_matches(f: &AdvancedFieldSelector, value: &str) -> bool {
    operators(f).into_iter().all(|(op, values)| {
        let any = |test: &dyn Fn(&str) -> bool| values.iter().any(|v| test(v));
        match op {
            "Equals" => any(&|v| value == v),
            "StartsWith" => any(&|v| value.starts_with(v)),
            "EndsWith" => any(&|v| value.ends_with(v)),
            "NotEquals" => !any(&|v| value == v),
            "NotStartsWith" => !any(&|v| value.starts_with(v)),
            _ => !any(&|v| value.ends_with(v)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwatch_model::cloudtrail::DataResource;

    fn facts(management: bool, read_only: bool, source: &str) -> Facts {
        Facts {
            management,
            read_only,
            event_source: source.into(),
        }
    }

    fn basic(rw: &str, management: bool, exclude: &[&str]) -> EventSelector {
        EventSelector {
            read_write_type: Some(rw.into()),
            include_management_events: Some(management),
            data_resources: Vec::new(),
            exclude_management_event_sources: exclude.iter().map(|s| (*s).into()).collect(),
        }
    }

    fn field(name: &str, op: &str, values: &[&str]) -> AdvancedFieldSelector {
        let v = Some(values.iter().map(|s| (*s).into()).collect());
        let mut f = AdvancedFieldSelector {
            field: name.into(),
            ..Default::default()
        };
        match op {
            "Equals" => f.equals = v,
            "StartsWith" => f.starts_with = v,
            "NotEquals" => f.not_equals = v,
            "NotStartsWith" => f.not_starts_with = v,
            "EndsWith" => f.ends_with = v,
            _ => f.not_ends_with = v,
        }
        f
    }

    #[test]
    fn the_default_logs_every_management_event() {
        let s = Selectors::Default;
        assert!(s.logs(&facts(true, true, "logs.amazonaws.com")));
        assert!(s.logs(&facts(true, false, "iam.amazonaws.com")));
        assert!(!s.logs(&facts(false, false, "logs.amazonaws.com")));
    }

    #[test]
    fn basic_selectors_choose_by_read_write_type_and_excluded_sources() {
        let write_only = Selectors::basic(vec![basic("WriteOnly", true, &[])]).unwrap();
        assert!(write_only.logs(&facts(true, false, "logs.amazonaws.com")));
        assert!(!write_only.logs(&facts(true, true, "logs.amazonaws.com")));
        let none = Selectors::basic(vec![basic("All", false, &[])]).unwrap();
        assert!(!none.logs(&facts(true, false, "logs.amazonaws.com")));
        let no_kms = Selectors::basic(vec![basic("All", true, &["kms.amazonaws.com"])]).unwrap();
        assert!(!no_kms.logs(&facts(true, false, "kms.amazonaws.com")));
        assert!(no_kms.logs(&facts(true, false, "sts.amazonaws.com")));
        // Either of two selectors.
        let both = Selectors::basic(vec![
            basic("ReadOnly", true, &[]),
            basic("WriteOnly", true, &[]),
        ])
        .unwrap();
        assert!(both.logs(&facts(true, true, "x")) && both.logs(&facts(true, false, "x")));
    }

    #[test]
    fn basic_selectors_are_validated() {
        let err = |s: Vec<EventSelector>| Selectors::basic(s).unwrap_err().code;
        assert_eq!(
            err(vec![basic("Sometimes", true, &[])]),
            ErrorCode::InvalidEventSelectorsException
        );
        assert_eq!(
            err(vec![basic("All", true, &["logs.amazonaws.com"])]),
            ErrorCode::InvalidEventSelectorsException
        );
        assert_eq!(
            err(vec![basic("All", true, &[]); 6]),
            ErrorCode::InvalidEventSelectorsException
        );
        let mut with_data = basic("All", true, &[]);
        with_data.data_resources = vec![DataResource {
            r#type: Some("AWS::Logs::Nothing".into()),
            values: vec!["x".into()],
        }];
        assert_eq!(
            err(vec![with_data.clone()]),
            ErrorCode::InvalidEventSelectorsException
        );
        with_data.data_resources[0].r#type = Some("AWS::S3::Object".into());
        let s = Selectors::basic(vec![with_data]).unwrap();
        assert!(s.logs(&facts(true, false, "logs.amazonaws.com")));
    }

    #[test]
    fn advanced_selectors_choose_management_events_by_their_fields() {
        let s = Selectors::advanced(vec![AdvancedEventSelector {
            name: Some("writes but not kms".into()),
            field_selectors: vec![
                field("eventCategory", "Equals", &["Management"]),
                field("readOnly", "Equals", &["false"]),
                field("eventSource", "NotEquals", &["kms.amazonaws.com"]),
            ],
        }])
        .unwrap();
        assert!(s.logs(&facts(true, false, "logs.amazonaws.com")));
        assert!(!s.logs(&facts(true, true, "logs.amazonaws.com")));
        assert!(!s.logs(&facts(true, false, "kms.amazonaws.com")));
        assert!(!s.logs(&facts(false, false, "logs.amazonaws.com")));
        let iam = Selectors::advanced(vec![AdvancedEventSelector {
            name: None,
            field_selectors: vec![
                field("eventCategory", "Equals", &["Management"]),
                field("eventSource", "StartsWith", &["iam.", "sts."]),
            ],
        }])
        .unwrap();
        assert!(iam.logs(&facts(true, true, "sts.amazonaws.com")));
        assert!(!iam.logs(&facts(true, true, "logs.amazonaws.com")));
    }

    #[test]
    fn advanced_selectors_are_validated() {
        let err = |fields: Vec<AdvancedFieldSelector>| {
            Selectors::advanced(vec![AdvancedEventSelector {
                name: Some("s".into()),
                field_selectors: fields,
            }])
            .unwrap_err()
        };
        let e = err(vec![field("readOnly", "Equals", &["true"])]);
        assert!(e.message.contains("eventCategory"), "{}", e.message);
        let e = err(vec![field("eventCategory", "Equals", &["Data"])]);
        assert!(e.message.contains("not delivered"), "{}", e.message);
        let e = err(vec![
            field("eventCategory", "Equals", &["Management"]),
            field("eventName", "Equals", &["PutLogEvents"]),
        ]);
        assert!(e.message.contains("eventName"), "{}", e.message);
        let e = err(vec![
            field("eventCategory", "Equals", &["Management"]),
            field("readOnly", "Equals", &["maybe"]),
        ]);
        assert_eq!(e.code, ErrorCode::InvalidEventSelectorsException);
    }

    #[test]
    fn facts_come_from_a_record() {
        let f = Facts::of_json(
            r#"{"eventSource":"logs.amazonaws.com","readOnly":true,"managementEvent":true}"#,
        )
        .unwrap();
        assert_eq!(f, facts(true, true, "logs.amazonaws.com"));
        assert!(Facts::of_json("not json").is_none());
    }
}
