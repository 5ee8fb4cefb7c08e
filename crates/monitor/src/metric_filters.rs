//! Metric filters applied at ingest: [`MetricFilterObserver`] sees every durable batch (an
//! [`IngestObserver`] of the storage) and turns matching events into metric samples in its own
//! [`MetricStore`] (`spec/filter-patterns.md` §7).
//!
//! - **Values**: a literal (`"1"`) or a reference (`$packets`, `$7`, `$.latency`) resolved per
//!   event; a matched event whose value is not a number, or whose dimension is absent or empty,
//!   publishes nothing and is counted ([`Counters`]). A sample is stamped with the event's
//!   timestamp and lands in that minute.
//! - **defaultValue** (filters without dimensions only, as AWS requires): for every minute (of
//!   event timestamps) in which the group received events and none matched, one sample of the
//!   default is published at the start of the minute, once the minute is **closed**. The
//!   observer keeps a watermark `max(ingestion time seen) − close_delay` (advanced by every batch,
//!   whatever its group, and by [`MetricFilterObserver::tick`]); a minute is closed once it ends
//!   at or before the watermark. Events whose minute was already closed when they arrive still
//!   publish when they match, but do not make the minute publish a default (again).
//! - **Not retroactive**: a filter applies to batches ingested at or after its `creationTime`.
//! - **Exactly once**: the observer's whole state (filters, open minutes, watermark, store,
//!   counters) is a function of the batches it saw and the filter sets it was given, and
//!   [`snapshot`](IngestObserver::snapshot) saves all of it, so restore + replay after a crash
//!   counts every event once. Filters are part of the snapshot: on restore, the filters in effect
//!   at the checkpoint are back for the replayed batches (the engine should flush the storage
//!   after Put/DeleteMetricFilter so that the checkpoint carries the new set), and
//!   [`set_filters`](MetricFilterObserver::set_filters) with identical definitions keeps their
//!   open minutes.
//!
//! Snapshot format (version 1): the magic `FWMF1`, the length of the header as 8 bytes
//! little-endian, the header (JSON: watermark, counters, per group its scope, definitions and
//! open minutes), then the store ([`MetricStore::to_bytes`]).

mod compiled;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use flowwatch_model::Scope;
use flowwatch_model::logs::MetricFilter;
use flowwatch_pattern::{PatternSet, SetScratch};
use flowwatch_storage::{DurableBatch, IngestObserver};
use serde::{Deserialize, Serialize};

pub use compiled::CompiledFilter;
use compiled::Outcome;
use state::{FilterState, publish_defaults};

use crate::error::{MonitorError, Result};
use crate::metric_data::MetricDatumRecord;
use crate::metrics::{MINUTE_MS, MetricStore, MetricStoreConfig, minute_of};

const MAGIC: &[u8] = b"FWMF1";

/// Bounds and timing of the observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserverConfig {
    pub store: MetricStoreConfig,
    /// How long after its end a minute stays open for late events (default 60 s).
    pub close_delay_ms: i64,
    /// Most open minutes tracked per filter with a default value; past that the oldest is
    /// closed early (default 1440).
    pub max_open_minutes: usize,
}

impl Default for ObserverConfig {
    fn default() -> Self {
        Self {
            store: MetricStoreConfig::default(),
            close_delay_ms: MINUTE_MS,
            max_open_minutes: 1440,
        }
    }
}

/// What the observer did, for telemetry and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Samples published for matching events.
    pub published: u64,
    /// Samples of `defaultValue` published for closed minutes.
    pub defaults: u64,
    /// Matching events whose metric value was not a number.
    pub non_numeric: u64,
    /// Matching events with an absent or empty dimension value.
    pub unresolved_dimensions: u64,
    /// Samples the store refused (too many metrics).
    pub refused: u64,
}

#[derive(Debug)]
struct Group {
    scope: Scope,
    filters: Vec<FilterState>,
    /// The filters' patterns, in the same order, matched together.
    set: PatternSet,
}

impl Group {
    fn new(scope: Scope, filters: Vec<FilterState>) -> Self {
        let set = PatternSet::new(filters.iter().map(|f| f.filter.pattern().clone()).collect());
        Self {
            scope,
            filters,
            set,
        }
    }
}

#[derive(Debug)]
struct State {
    groups: BTreeMap<i64, Group>,
    /// Internal log groups whose events are PutMetricData datums, with their scope.
    metric_data_groups: BTreeMap<i64, Scope>,
    watermark_ms: i64,
    store: MetricStore,
    counters: Counters,
    /// Buffers reused by every batch's matching.
    scratch: SetScratch,
}

/// Applies the metric filters of every log group to durable batches; owns the metric store the
/// samples go to.
#[derive(Debug)]
pub struct MetricFilterObserver {
    config: ObserverConfig,
    state: Mutex<State>,
}

#[derive(Serialize, Deserialize)]
struct SavedFilter {
    definition: MetricFilter,
    open: Vec<(i64, bool)>,
}

#[derive(Serialize, Deserialize)]
struct SavedGroup {
    group_id: i64,
    account: String,
    region: String,
    filters: Vec<SavedFilter>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    watermark_ms: i64,
    counters: Counters,
    groups: Vec<SavedGroup>,
    /// (group id, account, region) of the PutMetricData groups.
    #[serde(default)]
    metric_data_groups: Vec<(i64, String, String)>,
}

impl MetricFilterObserver {
    pub fn new(config: ObserverConfig) -> Self {
        let store = MetricStore::new(config.store.clone());
        Self {
            config,
            state: Mutex::new(State {
                groups: BTreeMap::new(),
                metric_data_groups: BTreeMap::new(),
                watermark_ms: i64::MIN,
                store,
                counters: Counters::default(),
                scratch: SetScratch::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the metric filters of a log group (all or nothing; an empty list removes the
    /// group). A filter whose definition is unchanged keeps its open minutes.
    pub fn set_filters(
        &self,
        group_id: i64,
        scope: &Scope,
        filters: Vec<MetricFilter>,
    ) -> Result<()> {
        let compiled = filters
            .into_iter()
            .map(|f| CompiledFilter::compile(scope, f))
            .collect::<Result<Vec<_>>>()?;
        let mut st = self.lock();
        let mut old = st
            .groups
            .remove(&group_id)
            .map(|g| g.filters)
            .unwrap_or_default();
        if compiled.is_empty() {
            return Ok(());
        }
        let filters = compiled
            .into_iter()
            .map(|filter| {
                let open = old
                    .iter_mut()
                    .find(|o| o.filter.definition == filter.definition)
                    .map(|o| std::mem::take(&mut o.open))
                    .unwrap_or_default();
                FilterState::new(filter, open)
            })
            .collect();
        st.groups
            .insert(group_id, Group::new(scope.clone(), filters));
        Ok(())
    }

    /// Registers the internal log group whose events are PutMetricData datums
    /// ([`MetricDatumRecord`](crate::metric_data::MetricDatumRecord)) of `scope`.
    pub fn set_metric_data_group(&self, group_id: i64, scope: &Scope) {
        self.lock()
            .metric_data_groups
            .insert(group_id, scope.clone());
    }

    /// Advances the watermark to `now_ms − close_delay` (closing minutes, publishing defaults)
    /// and expires old metric data. Call about once a minute so quiet groups close their minutes.
    pub fn tick(&self, now_ms: i64) {
        let mut st = self.lock();
        self.advance(&mut st, now_ms);
    }

    /// Reads the metric store.
    pub fn with_store<R>(&self, f: impl FnOnce(&MetricStore) -> R) -> R {
        f(&self.lock().store)
    }

    pub fn counters(&self) -> Counters {
        self.lock().counters
    }

    fn advance(&self, st: &mut State, now_ms: i64) {
        let watermark = now_ms.saturating_sub(self.config.close_delay_ms);
        if watermark <= st.watermark_ms {
            return;
        }
        // Which minutes are closed depends only on the watermark's minute: walk the filters
        // only when that moves (at most once a minute), not on every batch.
        let moved =
            st.watermark_ms == i64::MIN || minute_of(watermark) != minute_of(st.watermark_ms);
        st.watermark_ms = watermark;
        st.store.expire(now_ms);
        if !moved {
            return;
        }
        let State {
            groups,
            store,
            counters,
            ..
        } = st;
        // Minutes ending at or before the watermark close: start ≤ watermark − 60 s.
        let first_open = watermark.saturating_sub(MINUTE_MS).saturating_add(1);
        for group in groups.values_mut() {
            for f in &mut group.filters {
                if f.open.is_empty() {
                    continue;
                }
                let still_open = f.open.split_off(&first_open);
                let closed = std::mem::replace(&mut f.open, still_open);
                publish_defaults(store, counters, &f.filter, closed);
            }
        }
    }

    /// Applies the group's filters to a batch, event by event: the group's [`PatternSet`] says
    /// which filters an event matches, and only those extract values and publish.
    fn apply(&self, st: &mut State, batch: &DurableBatch<'_>) {
        self.advance(st, batch.ingestion_time);
        let State {
            groups,
            metric_data_groups,
            store,
            counters,
            watermark_ms,
            scratch,
        } = st;
        if let Some(scope) = metric_data_groups.get(&batch.key.group_id) {
            for event in batch.events {
                let applied = serde_json::from_str::<MetricDatumRecord>(event.message)
                    .map_err(|e| MonitorError::InvalidSnapshot {
                        reason: format!("metric datum does not decode: {e}"),
                    })
                    .and_then(|record| record.apply(scope, store));
                match applied {
                    Ok(()) => counters.published += 1,
                    Err(error) => {
                        counters.refused += 1;
                        tracing::warn!(%error, "metric datum not stored");
                    }
                }
            }
            return;
        }
        let Some(Group {
            scope,
            filters,
            set,
        }) = groups.get_mut(&batch.key.group_id)
        else {
            return;
        };
        let first_open = watermark_ms.saturating_sub(MINUTE_MS).saturating_add(1);
        let max_open = self.config.max_open_minutes;
        let applies = |f: &FilterState| f.filter.applies_at(batch.ingestion_time);
        for f in filters.iter_mut() {
            if f.keys.is_full() {
                f.keys.clear();
            }
        }
        let mut last_minute = None;
        for event in batch.events {
            let minute = minute_of(event.timestamp);
            // Every event opens its minute for the filters with a default value; consecutive
            // events mostly share a minute, so this is done once per run of them.
            if last_minute != Some(minute) {
                last_minute = Some(minute);
                if minute >= first_open {
                    for f in filters.iter_mut() {
                        if f.filter.default_value.is_some() && applies(f) {
                            f.open_minute(minute, false, max_open, store, counters);
                        }
                    }
                }
            }
            set.matching(event.message, scratch);
            let found: &SetScratch = scratch;
            for &i in found.matched() {
                let f = &mut filters[i];
                if !applies(f) {
                    continue;
                }
                if f.filter.default_value.is_some() && minute >= first_open {
                    f.open_minute(minute, true, max_open, store, counters);
                }
                let matched = set.matched_event(i, event.message, found);
                match f.filter.evaluate(scope, &matched, &mut f.keys) {
                    Outcome::NonNumeric => counters.non_numeric += 1,
                    Outcome::Unresolved => counters.unresolved_dimensions += 1,
                    Outcome::Publish(slot, value) => f.pending.push((slot, event.timestamp, value)),
                    Outcome::PublishKey(key, value) => {
                        match store.put(&key, event.timestamp, value, 1.0, &f.filter.unit) {
                            Ok(()) => counters.published += 1,
                            Err(_) => counters.refused += 1,
                        }
                    }
                }
            }
        }
        for f in filters.iter_mut() {
            f.publish_pending(store, counters);
        }
    }

    fn encode(&self, st: &State) -> Vec<u8> {
        let header = Header {
            watermark_ms: st.watermark_ms,
            counters: st.counters,
            groups: st
                .groups
                .iter()
                .map(|(&group_id, g)| SavedGroup {
                    group_id,
                    account: g.scope.account.clone(),
                    region: g.scope.region.clone(),
                    filters: g
                        .filters
                        .iter()
                        .map(|f| SavedFilter {
                            definition: f.filter.definition.clone(),
                            open: f.open.iter().map(|(&m, &b)| (m, b)).collect(),
                        })
                        .collect(),
                })
                .collect(),
            metric_data_groups: st
                .metric_data_groups
                .iter()
                .map(|(&id, s)| (id, s.account.clone(), s.region.clone()))
                .collect(),
        };
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&st.store.to_bytes());
        out
    }

    fn decode(&self, bytes: &[u8]) -> Result<State> {
        let invalid = |reason: String| MonitorError::InvalidSnapshot { reason };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| invalid("unknown format".into()))?;
        let (len, rest) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| invalid("truncated".into()))?;
        let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
        if rest.len() < len {
            return Err(invalid("truncated".into()));
        }
        let (header, store) = rest.split_at(len);
        let header: Header = serde_json::from_slice(header).map_err(|e| invalid(e.to_string()))?;
        let store = MetricStore::from_bytes(self.config.store.clone(), store)?;
        let mut groups = BTreeMap::new();
        for g in header.groups {
            let scope = Scope {
                account: g.account,
                region: g.region,
            };
            let mut filters = Vec::new();
            for f in g.filters {
                filters.push(FilterState::new(
                    CompiledFilter::compile(&scope, f.definition)?,
                    f.open.into_iter().collect(),
                ));
            }
            groups.insert(g.group_id, Group::new(scope, filters));
        }
        let metric_data_groups = header
            .metric_data_groups
            .into_iter()
            .map(|(id, account, region)| (id, Scope { account, region }))
            .collect();
        Ok(State {
            groups,
            metric_data_groups,
            watermark_ms: header.watermark_ms,
            store,
            counters: header.counters,
            scratch: SetScratch::default(),
        })
    }
}

impl Default for MetricFilterObserver {
    fn default() -> Self {
        Self::new(ObserverConfig::default())
    }
}

impl IngestObserver for MetricFilterObserver {
    fn name(&self) -> &str {
        "metric-filters"
    }

    /// Restores the saved state, filters included; `None` keeps the filters and clears the
    /// rest. A snapshot that cannot be decoded is logged and treated as `None`.
    fn restore(&self, state: Option<&[u8]>) {
        let decoded = state.map(|bytes| self.decode(bytes));
        let mut st = self.lock();
        match decoded {
            Some(Ok(restored)) => *st = restored,
            other => {
                if let Some(Err(error)) = other {
                    tracing::error!(%error, "metric filter state not restored");
                }
                st.watermark_ms = i64::MIN;
                st.store = MetricStore::new(self.config.store.clone());
                st.counters = Counters::default();
                for g in st.groups.values_mut() {
                    g.filters.iter_mut().for_each(|f| f.open.clear());
                }
            }
        }
    }

    fn on_durable(&self, batch: &DurableBatch<'_>) {
        let mut st = self.lock();
        self.apply(&mut st, batch);
    }

    fn snapshot(&self) -> Vec<u8> {
        let st = self.lock();
        self.encode(&st)
    }
}
