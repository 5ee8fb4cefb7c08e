//! A metric filter compiled once: its pattern parsed, its value and dimension references parsed,
//! the metric key of a filter without dimensions built once.

use flowwatch_model::Scope;
use flowwatch_model::logs::MetricFilter;
use flowwatch_pattern::{FilterPattern, ValueRef};

use crate::error::{MonitorError, Result};
use crate::metrics::{DEFAULT_UNIT, MetricKey};

/// Where the metric value comes from.
#[derive(Debug, Clone, PartialEq)]
enum ValueSource {
    Literal(f64),
    Field(ValueRef),
}

/// Where a dimension's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum DimSource {
    Field(ValueRef),
    /// `@aws.account` of `emitSystemFieldDimensions`.
    Account,
    /// `@aws.region`.
    Region,
}

/// What one event does to one filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    NoMatch,
    /// Matched: add `value` to `key` (a borrowed key when the filter has no dimensions).
    Publish(Option<MetricKey>, f64),
    /// Matched, but the value is not a number: nothing published.
    NonNumeric,
    /// Matched, but a dimension could not be resolved (absent or empty): nothing published.
    Unresolved,
}

/// A stored metric filter, ready to apply.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    pub(crate) definition: MetricFilter,
    pattern: FilterPattern,
    value: ValueSource,
    dims: Vec<(String, DimSource)>,
    namespace: String,
    name: String,
    pub(crate) unit: String,
    pub(crate) default_value: Option<f64>,
    /// The key of a filter without dimensions.
    pub(crate) fixed_key: Option<MetricKey>,
}

impl CompiledFilter {
    /// Compiles the definition PutMetricFilter stored (its first and only transformation).
    pub fn compile(scope: &Scope, definition: MetricFilter) -> Result<Self> {
        let invalid = |reason: String| MonitorError::InvalidFilter {
            filter: definition.filter_name.clone(),
            reason,
        };
        let pattern =
            FilterPattern::parse(&definition.filter_pattern).map_err(|e| invalid(e.to_string()))?;
        let t = definition
            .metric_transformations
            .first()
            .ok_or_else(|| invalid("no metric transformation".into()))?;
        let namespace = t
            .metric_namespace
            .clone()
            .ok_or_else(|| invalid("no metric namespace".into()))?;
        let name = t
            .metric_name
            .clone()
            .ok_or_else(|| invalid("no metric name".into()))?;
        let value_text = t
            .metric_value
            .as_deref()
            .ok_or_else(|| invalid("no metric value".into()))?;
        let parse_ref = |text: &str| -> Result<ValueRef> {
            let r = ValueRef::parse(text).map_err(|e| invalid(e.to_string()))?;
            pattern.check_ref(&r).map_err(|e| invalid(e.to_string()))?;
            Ok(r)
        };
        let value = match value_text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => ValueSource::Literal(v),
            _ => ValueSource::Field(parse_ref(value_text)?),
        };
        let mut dims = Vec::new();
        for (dim, text) in t.dimensions.iter().flatten() {
            dims.push((dim.clone(), DimSource::Field(parse_ref(text)?)));
        }
        for system in definition.emit_system_field_dimensions.iter().flatten() {
            match system.as_str() {
                "@aws.account" => dims.push((system.clone(), DimSource::Account)),
                "@aws.region" => dims.push((system.clone(), DimSource::Region)),
                other => return Err(invalid(format!("unknown system field '{other}'"))),
            }
        }
        let default_value = t.default_value.filter(|_| dims.is_empty());
        let fixed_key = dims
            .is_empty()
            .then(|| MetricKey::new(scope, namespace.clone(), name.clone(), []));
        Ok(Self {
            unit: t.unit.clone().unwrap_or_else(|| DEFAULT_UNIT.to_owned()),
            definition,
            pattern,
            value,
            dims,
            namespace,
            name,
            default_value,
            fixed_key,
        })
    }

    /// The definition it was compiled from.
    pub fn definition(&self) -> &MetricFilter {
        &self.definition
    }

    /// Applies the filter to one message. Allocates only for what it publishes: a filter with a
    /// literal value and no dimensions only matches.
    pub(crate) fn apply(&self, scope: &Scope, message: &str) -> Outcome {
        if let (ValueSource::Literal(v), true) = (&self.value, self.dims.is_empty()) {
            return if self.pattern.matches(message) {
                Outcome::Publish(None, *v)
            } else {
                Outcome::NoMatch
            };
        }
        let Some(extracted) = self.pattern.extract(message) else {
            return Outcome::NoMatch;
        };
        let value = match &self.value {
            ValueSource::Literal(v) => *v,
            ValueSource::Field(r) => match extracted.resolve_number(r) {
                Some(v) if v.is_finite() => v,
                _ => return Outcome::NonNumeric,
            },
        };
        if self.dims.is_empty() {
            return Outcome::Publish(None, value);
        }
        let mut dims = Vec::with_capacity(self.dims.len());
        for (name, source) in &self.dims {
            let v = match source {
                DimSource::Account => scope.account.clone(),
                DimSource::Region => scope.region.clone(),
                DimSource::Field(r) => match extracted.resolve(r) {
                    Some(v) if !v.is_empty() => v.into_owned(),
                    _ => return Outcome::Unresolved,
                },
            };
            dims.push((name.clone(), v));
        }
        let key = MetricKey::new(scope, self.namespace.clone(), self.name.clone(), dims);
        Outcome::Publish(Some(key), value)
    }

    /// Whether the filter applies to a batch ingested at `ingestion_time` (filters are not
    /// retroactive: they see events ingested from their creation on).
    pub(crate) fn applies_at(&self, ingestion_time: i64) -> bool {
        ingestion_time >= self.definition.creation_time
    }
}
