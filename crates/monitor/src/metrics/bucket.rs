//! One minute of one metric (and unit): a statistic set plus what percentiles need.
//!
//! Percentiles are exact while a bucket holds at most [`EXACT_VALUES`] samples (the values
//! themselves are kept). Past that the bucket switches to a log-scale histogram (the DDSketch
//! scheme): a positive value `v` falls in bin `ceil(ln v / ln γ)` with `γ = (1 + α) / (1 − α)`,
//! `α` = [`RELATIVE_ERROR`] = 1 %, and a percentile is answered with the bin's centre
//! `2γ^i / (γ + 1)`, which is within 1 % (relative) of the true sample at that rank. The bins
//! span at most [`MAX_BINS`] indexes (a dynamic range of about 10^17 at 1 %); values further
//! below the highest count in the lowest bin, so only the lowest percentiles of extremely
//! spread data lose precision.
//! Zero has its own counter. As in CloudWatch, percentiles are unavailable once a negative value
//! or a statistic set that does not describe identical values (or a fractional count) arrives.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Samples kept exactly per bucket before switching to the histogram.
pub const EXACT_VALUES: usize = 64;
/// Relative error of a percentile read from the histogram.
pub const RELATIVE_ERROR: f64 = 0.01;
/// Most histogram bins per bucket.
pub const MAX_BINS: usize = 2048;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

/// `ln γ`, the divisor of a value's bin index (checked against [`gamma`] in the tests).
const LN_GAMMA: f64 = 0.020_000_666_706_669_435;

/// Statistics of the samples of one period (a minute in the store, or several merged at query
/// time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Bucket {
    #[serde(with = "super::bits")]
    pub(crate) count: f64,
    #[serde(with = "super::bits")]
    pub(crate) sum: f64,
    #[serde(with = "super::bits")]
    pub(crate) min: f64,
    #[serde(with = "super::bits")]
    pub(crate) max: f64,
    pub(crate) dist: Distribution,
}

/// What a bucket knows about the distribution of its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Distribution {
    /// Every sample, unsorted.
    Exact(#[serde(with = "super::bits::vec")] Vec<f64>),
    /// The log-scale histogram.
    Sketch(Sketch),
    /// Percentiles cannot be computed (a negative value, or a statistic set of unequal values).
    Unavailable,
}

/// Log-scale histogram of non-negative values: the counts of bins `offset..offset + len`,
/// dense (a sample costs a logarithm and an index, not a tree search), spanning at most
/// [`MAX_BINS`] bins; a value further below the highest bin counts in the lowest one. The first
/// and last bins are never empty, so equal histograms are equal values. Stored as the map of
/// its non-empty bins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "SketchBins", into = "SketchBins")]
pub(crate) struct Sketch {
    zeros: u64,
    offset: i32,
    counts: Vec<u64>,
}

/// How a [`Sketch`] is stored: its non-empty bins by index.
#[derive(Serialize, Deserialize)]
struct SketchBins {
    zeros: u64,
    bins: BTreeMap<i32, u64>,
}

impl From<SketchBins> for Sketch {
    fn from(stored: SketchBins) -> Self {
        let mut sketch = Sketch {
            zeros: stored.zeros,
            ..Sketch::default()
        };
        for (index, n) in stored.bins {
            sketch.add_at(index, n);
        }
        sketch
    }
}

impl From<Sketch> for SketchBins {
    fn from(sketch: Sketch) -> Self {
        SketchBins {
            zeros: sketch.zeros,
            bins: sketch.bins().collect(),
        }
    }
}

impl Sketch {
    fn add(&mut self, value: f64, count: u64) {
        if value <= 0.0 {
            self.zeros += count;
            return;
        }
        // ln of any accepted value (|v| ≤ 2^360) divided by ln γ fits an i32 easily.
        let index = (value.ln() / LN_GAMMA).ceil() as i32;
        self.add_at(index, count);
    }

    /// Adds `n` to bin `index`, widening the span, and folding the lowest bins into the lowest
    /// kept one when the span would pass [`MAX_BINS`].
    fn add_at(&mut self, index: i32, n: u64) {
        if n == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(n);
            return;
        }
        let top = self.offset + self.counts.len() as i32 - 1;
        let hi = top.max(index);
        let lo = self.offset.min(index).max(hi - MAX_BINS as i32 + 1);
        if lo > self.offset {
            let cut = ((lo - self.offset) as usize).min(self.counts.len());
            let folded: u64 = self.counts.drain(..cut).sum();
            self.offset = lo;
            if self.counts.is_empty() {
                self.counts.push(0);
            }
            self.counts[0] += folded;
        } else if lo < self.offset {
            let grow = (self.offset - lo) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = lo;
        }
        let top = self.offset + self.counts.len() as i32 - 1;
        if hi > top {
            self.counts
                .resize(self.counts.len() + (hi - top) as usize, 0);
        }
        self.counts[(index.max(lo) - self.offset) as usize] += n;
    }

    /// The non-empty bins, lowest first.
    fn bins(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        (self.offset..)
            .zip(self.counts.iter().copied())
            .filter(|&(_, n)| n > 0)
    }

    /// Samples counted.
    fn len(&self) -> u64 {
        self.zeros + self.counts.iter().sum::<u64>()
    }

    fn merge(&mut self, other: &Sketch) {
        self.zeros += other.zeros;
        for (i, n) in other.bins() {
            self.add_at(i, n);
        }
    }

    /// The value at 1-based rank `rank`.
    fn at_rank(&self, rank: u64) -> f64 {
        if rank <= self.zeros {
            return 0.0;
        }
        let g = gamma();
        let mut seen = self.zeros;
        let mut last = 0.0;
        for (i, n) in self.bins() {
            last = 2.0 * g.powi(i) / (g + 1.0);
            seen += n;
            if seen >= rank {
                break;
            }
        }
        last
    }
}

impl Bucket {
    pub(crate) fn empty() -> Self {
        Self {
            count: 0.0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            dist: Distribution::Exact(Vec::new()),
        }
    }

    /// Adds `count` samples of `value` (`count` ≥ 1 is the usual case; PutMetricData's
    /// `Counts` may say otherwise).
    pub(crate) fn add(&mut self, value: f64, count: f64) {
        self.count += count;
        self.sum += value * count;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.add_to_dist(value, count);
    }

    /// Adds `n` samples of `value`: the same bucket as `n` calls of `add(value, 1.0)` (the sum
    /// is accumulated one sample at a time so that it rounds the same way).
    pub(crate) fn add_repeated(&mut self, value: f64, n: u64) {
        for _ in 0..n {
            self.count += 1.0;
            self.sum += value;
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.add_to_dist(value, n as f64);
    }

    /// Adds a statistic set. Percentiles survive only when it describes identical values.
    pub(crate) fn add_set(&mut self, count: f64, sum: f64, min: f64, max: f64) {
        self.count += count;
        self.sum += sum;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
        if min == max && (sum - min * count).abs() <= f64::EPSILON * sum.abs().max(1.0) {
            self.add_to_dist(min, count);
        } else {
            self.dist = Distribution::Unavailable;
        }
    }

    fn add_to_dist(&mut self, value: f64, count: f64) {
        if value < 0.0 || count.fract() != 0.0 || count < 0.0 {
            self.dist = Distribution::Unavailable;
            return;
        }
        let n = count as u64;
        match &mut self.dist {
            Distribution::Unavailable => {}
            Distribution::Exact(values) if values.len() as u64 + n <= EXACT_VALUES as u64 => {
                values.extend(std::iter::repeat_n(value, n as usize));
            }
            Distribution::Exact(values) => {
                let mut sketch = Sketch::default();
                for &v in values.iter() {
                    sketch.add(v, 1);
                }
                sketch.add(value, n);
                self.dist = Distribution::Sketch(sketch);
            }
            Distribution::Sketch(sketch) => sketch.add(value, n),
        }
    }

    /// Merges another bucket into this one (query time: minutes into a period). Exact values
    /// stay exact however many there are, so a period's percentiles are exact whenever each of
    /// its minutes is.
    pub(crate) fn merge(&mut self, other: &Bucket) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let dist = std::mem::replace(&mut self.dist, Distribution::Unavailable);
        self.dist = match (dist, &other.dist) {
            (Distribution::Unavailable, _) | (_, Distribution::Unavailable) => {
                Distribution::Unavailable
            }
            (Distribution::Exact(mut a), Distribution::Exact(b)) => {
                a.extend_from_slice(b);
                Distribution::Exact(a)
            }
            (Distribution::Exact(a), Distribution::Sketch(b)) => {
                let mut s = b.clone();
                a.iter().for_each(|&v| s.add(v, 1));
                Distribution::Sketch(s)
            }
            (Distribution::Sketch(mut s), Distribution::Exact(b)) => {
                b.iter().for_each(|&v| s.add(v, 1));
                Distribution::Sketch(s)
            }
            (Distribution::Sketch(mut s), Distribution::Sketch(b)) => {
                s.merge(b);
                Distribution::Sketch(s)
            }
        };
    }

    /// The `p`-th percentile (0 ≤ p ≤ 100) by nearest rank: the smallest sample with at least
    /// `p` % of the samples at or below it (p99 = the maximum of the lowest 99 %). `None` when
    /// unavailable.
    pub(crate) fn percentile(&mut self, p: f64) -> Option<f64> {
        let n = match &self.dist {
            Distribution::Unavailable => return None,
            Distribution::Exact(v) => v.len() as u64,
            Distribution::Sketch(s) => s.len(),
        };
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
        Some(match &mut self.dist {
            Distribution::Exact(values) => {
                values.sort_by(f64::total_cmp);
                values[(rank - 1) as usize]
            }
            // The extremes are known exactly.
            Distribution::Sketch(_) if rank == n => self.max,
            Distribution::Sketch(_) if rank == 1 => self.min,
            Distribution::Sketch(s) => s.at_rank(rank).clamp(self.min, self.max),
            Distribution::Unavailable => return None,
        })
    }

    /// Approximate heap bytes, for the store's memory accounting.
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.dist {
            Distribution::Exact(v) => v.capacity() * 8,
            Distribution::Sketch(s) => s.counts.capacity() * 8,
            Distribution::Unavailable => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(values: &[f64]) -> Bucket {
        let mut b = Bucket::empty();
        values.iter().for_each(|&v| b.add(v, 1.0));
        b
    }

    #[test]
    fn ln_gamma_is_the_log_of_gamma() {
        assert_eq!(LN_GAMMA.to_bits(), gamma().ln().to_bits());
    }

    #[test]
    fn repeated_values_make_the_bucket_single_adds_make() {
        for n in [1u64, 3, 64, 65, 200] {
            for start in [0usize, 10, 63, 64, 100] {
                let mut one_by_one = bucket(&vec![0.1; start]);
                let mut at_once = one_by_one.clone();
                (0..n).for_each(|_| one_by_one.add(0.7, 1.0));
                at_once.add_repeated(0.7, n);
                assert_eq!(one_by_one, at_once, "{start} then {n}");
            }
        }
    }

    #[test]
    fn exact_percentiles_use_nearest_rank() {
        let mut b = bucket(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(b.percentile(50.0), Some(2.0));
        assert_eq!(b.percentile(75.0), Some(3.0));
        assert_eq!(b.percentile(75.1), Some(4.0));
        assert_eq!(b.percentile(0.0), Some(1.0));
        assert_eq!(b.percentile(100.0), Some(4.0));
    }

    #[test]
    fn sketch_percentiles_are_within_the_stated_error() {
        let values: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let mut b = bucket(&values);
        assert!(matches!(b.dist, Distribution::Sketch(_)));
        for p in [1.0, 10.0, 50.0, 90.0, 99.0, 99.9] {
            let want = (p / 100.0 * 10_000.0_f64).ceil();
            let got = b.percentile(p).expect("percentile");
            assert!(
                (got - want).abs() <= want * RELATIVE_ERROR,
                "p{p}: {got} vs {want}"
            );
        }
        assert_eq!(b.percentile(100.0), Some(10_000.0));
        assert_eq!(b.percentile(0.0), Some(1.0));
    }

    #[test]
    fn negative_values_and_mixed_sets_disable_percentiles() {
        let mut b = bucket(&[1.0, -1.0]);
        assert_eq!(b.percentile(50.0), None);
        let mut b = Bucket::empty();
        b.add_set(3.0, 6.0, 2.0, 2.0);
        assert_eq!(b.percentile(50.0), Some(2.0));
        b.add_set(2.0, 3.0, 1.0, 2.0);
        assert_eq!(b.percentile(50.0), None);
        assert_eq!((b.count, b.sum, b.min, b.max), (5.0, 9.0, 1.0, 2.0));
    }

    #[test]
    fn a_sketch_spans_at_most_max_bins_and_keeps_its_samples() {
        let mut s = Sketch::default();
        // Far apart, in both directions, with repeats.
        for (value, n) in [
            (1.0, 3),
            (1e-200, 1),
            (1e200, 2),
            (5.0, 1),
            (1e-250, 4),
            (0.0, 2),
        ] {
            s.add(value, n);
            assert!(s.counts.len() <= MAX_BINS);
            assert!(s.counts.first().is_some_and(|&n| n > 0));
            assert!(s.counts.last().is_some_and(|&n| n > 0));
        }
        assert_eq!(s.len(), 13);
        assert_eq!(s.zeros, 2);
        // The top of the range is kept exactly; what fell below it is in the lowest bin.
        let top = (1e200f64.ln() / LN_GAMMA).ceil() as i32;
        assert_eq!(s.offset, top - MAX_BINS as i32 + 1);
        assert_eq!(s.counts[0], 9);
        assert_eq!(*s.counts.last().unwrap(), 2);
    }

    #[test]
    fn a_sketch_is_stored_as_its_bins_and_read_back_equal() {
        let mut b = bucket(&(1..=500).map(|i| f64::from(i) * 1.5).collect::<Vec<_>>());
        b.add(0.0, 3.0);
        let Distribution::Sketch(s) = &b.dist else {
            panic!("not a sketch");
        };
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["zeros"], 3);
        assert!(json["bins"].as_object().is_some_and(|m| !m.is_empty()));
        let back: Sketch = serde_json::from_value(json).unwrap();
        assert_eq!(&back, s);
        // Merging a sketch into an empty one gives the same sketch.
        let mut merged = Sketch::default();
        merged.merge(s);
        assert_eq!(&merged, s);
    }

    #[test]
    fn merging_keeps_exact_values_exact() {
        let mut a = bucket(&[5.0; 60]);
        a.merge(&bucket(&[1.0; 60]));
        assert!(matches!(a.dist, Distribution::Exact(ref v) if v.len() == 120));
        assert_eq!(a.percentile(50.0), Some(1.0));
        assert_eq!(a.percentile(50.9), Some(5.0));
    }
}
