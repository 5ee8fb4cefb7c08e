//! A metric filter compiled once: its pattern parsed, its value and dimension references parsed,
//! the metric key of a filter without dimensions built once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};

use flowwatch_model::Scope;
use flowwatch_model::logs::MetricFilter;
use flowwatch_pattern::{FilterPattern, Located, MatchedEvent, ValueRef};

use crate::error::{MonitorError, Result};
use crate::metrics::{DEFAULT_UNIT, MetricKey};

/// Where the metric value comes from.
#[derive(Debug, Clone, PartialEq)]
enum ValueSource {
    Literal(f64),
    /// A reference (`$bytes`), located in the filter's pattern once.
    Field(Located),
}

/// Where a dimension's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum DimSource {
    /// A reference (`$source`), located in the filter's pattern once.
    Field(Located),
    /// `@aws.account` of `emitSystemFieldDimensions`.
    Account,
    /// `@aws.region`.
    Region,
}

/// What a matching event does to one filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Add `value` to the filter's metric: its fixed key (`None`) or a key of its [`KeyCache`].
    Publish(Option<usize>, f64),
    /// Add `value` to this key (a new dimension combination while the cache is full).
    PublishKey(MetricKey, f64),
    /// The value is not a number: nothing published.
    NonNumeric,
    /// A dimension could not be resolved (absent or empty): nothing published.
    Unresolved,
}

/// Most metric keys a filter with dimensions keeps built; past that, new combinations are built
/// for each event until the observer clears the cache (at the start of a batch).
pub(crate) const MAX_CACHED_KEYS: usize = 4096;

/// The metric keys a filter with dimensions has published to, by the hash of their dimension
/// values, so that an event whose values were seen before builds no key (no allocation).
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    /// Dimension values (in the filter's order) and the key built from them.
    keys: Vec<(Vec<String>, MetricKey)>,
    by_hash: HashMap<u64, Vec<usize>>,
}

impl KeyCache {
    pub(crate) fn key(&self, slot: usize) -> &MetricKey {
        &self.keys[slot].1
    }

    pub(crate) fn is_full(&self) -> bool {
        self.keys.len() >= MAX_CACHED_KEYS
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.by_hash.clear();
    }
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
        let parse_ref = |text: &str| -> Result<Located> {
            let r = ValueRef::parse(text).map_err(|e| invalid(e.to_string()))?;
            pattern.check_ref(&r).map_err(|e| invalid(e.to_string()))?;
            Ok(pattern.locate(&r))
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

    /// The parsed filter pattern.
    pub fn pattern(&self) -> &FilterPattern {
        &self.pattern
    }

    /// Applies the filter to an event its pattern matched (the observer matches all the
    /// filters of a group at once with a [`flowwatch_pattern::PatternSet`]). Values are read
    /// from the event as the set already split (or parsed) it; a metric key is built only for a
    /// dimension combination `keys` has not seen.
    pub(crate) fn evaluate(
        &self,
        scope: &Scope,
        event: &MatchedEvent<'_>,
        keys: &mut KeyCache,
    ) -> Outcome {
        let value = match &self.value {
            ValueSource::Literal(v) => *v,
            ValueSource::Field(at) => match event.number(at) {
                Some(v) if v.is_finite() => v,
                _ => return Outcome::NonNumeric,
            },
        };
        if self.dims.is_empty() {
            return Outcome::Publish(None, value);
        }
        let dim = |source: &DimSource| -> Option<Cow<'_, str>> {
            let v = match source {
                DimSource::Account => Cow::Borrowed(scope.account.as_str()),
                DimSource::Region => Cow::Borrowed(scope.region.as_str()),
                DimSource::Field(at) => event.value(at)?,
            };
            (!v.is_empty()).then_some(v)
        };
        let mut hasher = DefaultHasher::new();
        for (_, source) in &self.dims {
            let Some(v) = dim(source) else {
                return Outcome::Unresolved;
            };
            hasher.write(v.as_bytes());
            hasher.write_u8(0xff);
        }
        let hash = hasher.finish();
        let seen = keys.by_hash.get(&hash).and_then(|slots| {
            slots.iter().copied().find(|&slot| {
                let values = &keys.keys[slot].0;
                self.dims
                    .iter()
                    .zip(values)
                    .all(|((_, source), v)| dim(source).is_some_and(|d| d == v.as_str()))
            })
        });
        if let Some(slot) = seen {
            return Outcome::Publish(Some(slot), value);
        }
        let values: Vec<String> = self
            .dims
            .iter()
            .map(|(_, source)| dim(source).map(Cow::into_owned).unwrap_or_default())
            .collect();
        let key = MetricKey::new(
            scope,
            self.namespace.clone(),
            self.name.clone(),
            self.dims
                .iter()
                .zip(&values)
                .map(|((name, _), v)| (name.clone(), v.clone())),
        );
        if keys.is_full() {
            return Outcome::PublishKey(key, value);
        }
        keys.keys.push((values, key));
        let slot = keys.keys.len() - 1;
        keys.by_hash.entry(hash).or_default().push(slot);
        Outcome::Publish(Some(slot), value)
    }

    /// Whether the filter applies to a batch ingested at `ingestion_time` (filters are not
    /// retroactive: they see events ingested from their creation on).
    pub(crate) fn applies_at(&self, ingestion_time: i64) -> bool {
        ingestion_time >= self.definition.creation_time
    }
}
