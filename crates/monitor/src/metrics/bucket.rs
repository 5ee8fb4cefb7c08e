//! One minute of one metric (and unit): a statistic set plus what percentiles need.
//!
//! Percentiles are exact while a bucket holds at most [`EXACT_VALUES`] samples (the values
//! themselves are kept). Past that the bucket switches to a log-scale histogram (the DDSketch
//! scheme): a positive value `v` falls in bin `ceil(ln v / ln γ)` with `γ = (1 + α) / (1 − α)`,
//! `α` = [`RELATIVE_ERROR`] = 1 %, and a percentile is answered with the bin's centre
//! `2γ^i / (γ + 1)`, which is within 1 % (relative) of the true sample at that rank. At most
//! [`MAX_BINS`] bins are kept (a dynamic range of about 10^17 at 1 %); beyond that the lowest
//! bins are merged, so only the lowest percentiles of extremely spread data lose precision.
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

/// Log-scale histogram of non-negative values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sketch {
    zeros: u64,
    bins: BTreeMap<i32, u64>,
}

impl Sketch {
    fn add(&mut self, value: f64, count: u64) {
        if value <= 0.0 {
            self.zeros += count;
            return;
        }
        // ln of any accepted value (|v| ≤ 2^360) divided by ln γ fits an i32 easily.
        let index = (value.ln() / LN_GAMMA).ceil() as i32;
        *self.bins.entry(index).or_insert(0) += count;
        self.collapse();
    }

    /// Merges the lowest bins while there are too many.
    fn collapse(&mut self) {
        while self.bins.len() > MAX_BINS {
            let Some((low, n)) = self.bins.pop_first() else {
                return;
            };
            let next = self.bins.keys().next().copied().unwrap_or(low);
            *self.bins.entry(next).or_insert(0) += n;
        }
    }

    fn merge(&mut self, other: &Sketch) {
        self.zeros += other.zeros;
        for (&i, &n) in &other.bins {
            *self.bins.entry(i).or_insert(0) += n;
        }
        self.collapse();
    }

    /// The value at 1-based rank `rank`.
    fn at_rank(&self, rank: u64) -> f64 {
        if rank <= self.zeros {
            return 0.0;
        }
        let g = gamma();
        let mut seen = self.zeros;
        let mut last = 0.0;
        for (&i, &n) in &self.bins {
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
            Distribution::Sketch(s) => s.zeros + s.bins.values().sum::<u64>(),
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
            Distribution::Sketch(s) => s.bins.len() * 32,
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
    fn merging_keeps_exact_values_exact() {
        let mut a = bucket(&[5.0; 60]);
        a.merge(&bucket(&[1.0; 60]));
        assert!(matches!(a.dist, Distribution::Exact(ref v) if v.len() == 120));
        assert_eq!(a.percentile(50.0), Some(1.0));
        assert_eq!(a.percentile(50.9), Some(5.0));
    }
}
