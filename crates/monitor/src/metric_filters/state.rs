//! The state the observer keeps for each filter of a group while it applies batches: open
//! minutes (for `defaultValue`), built metric keys, and the samples of the batch in progress.

use std::collections::BTreeMap;

use super::Counters;
use super::compiled::{CompiledFilter, KeyCache};
use crate::metrics::MetricStore;

#[derive(Debug)]
pub(super) struct FilterState {
    pub(super) filter: CompiledFilter,
    /// Open minutes (of event timestamps) → whether an event matched in it. Only for filters
    /// with a default value.
    pub(super) open: BTreeMap<i64, bool>,
    /// The metric keys of a filter with dimensions (derived state, not saved).
    pub(super) keys: KeyCache,
    /// The samples of the batch being applied, `(key, timestamp, value)` as in
    /// `Outcome::Publish`: published together at the end of the batch, one metric lookup per
    /// key (always empty between batches).
    pub(super) pending: Vec<(Option<usize>, i64, f64)>,
}

impl FilterState {
    pub(super) fn new(filter: CompiledFilter, open: BTreeMap<i64, bool>) -> Self {
        Self {
            filter,
            open,
            keys: KeyCache::default(),
            pending: Vec::new(),
        }
    }

    /// Publishes the batch's samples, grouped by metric key (in event order within a key).
    pub(super) fn publish_pending(&mut self, store: &mut MetricStore, counters: &mut Counters) {
        if self.pending.is_empty() {
            return;
        }
        // Stable, and linear when every sample goes to the same key.
        self.pending.sort_by_key(|(slot, _, _)| *slot);
        for run in self.pending.chunk_by(|a, b| a.0 == b.0) {
            let key = match run[0].0 {
                None => self.filter.fixed_key.as_ref(),
                Some(slot) => Some(self.keys.key(slot)),
            };
            let Some(key) = key else { continue };
            let samples = run.iter().map(|&(_, t, v)| (t, v));
            let (accepted, refused) = store.put_values(key, &self.filter.unit, samples);
            counters.published += accepted;
            counters.refused += refused;
        }
        self.pending.clear();
    }
}

/// Marks `minute` as having events (`matched`: one that matched) for a filter with a default
/// value; past `max_open` open minutes, the oldest is closed early.
impl FilterState {
    pub(super) fn open_minute(
        &mut self,
        minute: i64,
        matched: bool,
        max_open: usize,
        store: &mut MetricStore,
        counters: &mut Counters,
    ) {
        *self.open.entry(minute).or_insert(false) |= matched;
        if self.open.len() > max_open
            && let Some(oldest) = self.open.pop_first()
        {
            publish_defaults(store, counters, &self.filter, [oldest]);
        }
    }
}

/// Publishes the default value of `filter` for each closed minute in which nothing matched.
pub(super) fn publish_defaults(
    store: &mut MetricStore,
    counters: &mut Counters,
    filter: &CompiledFilter,
    closed: impl IntoIterator<Item = (i64, bool)>,
) {
    let (Some(default), Some(key)) = (filter.default_value, filter.fixed_key.as_ref()) else {
        return;
    };
    for (minute, matched) in closed {
        if matched {
            continue;
        }
        match store.put(key, minute, default, 1.0, &filter.unit) {
            Ok(()) => counters.defaults += 1,
            Err(_) => counters.refused += 1,
        }
    }
}
