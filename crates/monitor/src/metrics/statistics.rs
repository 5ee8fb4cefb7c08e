//! Statistics a query asks for, and the datapoints it gets back (`spec/cloudwatch-api.md` §2,
//! GetMetricStatistics).

use std::collections::BTreeMap;

use serde::Serialize;

use super::bucket::Bucket;
use crate::error::{MonitorError, Result};

/// A statistic: one of CloudWatch's five `Statistic` values, or a percentile `pNN` / `pNN.NN`
/// (`ExtendedStatistic`).
#[derive(Debug, Clone, PartialEq)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// `p` in 0..=100; `name` is the text as asked (`p99.9`), the key of the answer.
    Percentile {
        name: String,
        p: f64,
    },
}

impl Statistic {
    /// Parses `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, or `p` followed by a number
    /// from 0 to 100 with at most 10 decimals.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || MonitorError::InvalidStatistic {
            statistic: text.to_owned(),
        };
        Ok(match text {
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Sum" => Self::Sum,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => {
                let number = text.strip_prefix('p').ok_or_else(invalid)?;
                let (int, frac) = number.split_once('.').unwrap_or((number, ""));
                let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
                if int.is_empty()
                    || int.len() > 3
                    || !digits(int)
                    || !digits(frac)
                    || frac.len() > 10
                    || (number.contains('.') && frac.is_empty())
                {
                    return Err(invalid());
                }
                let p: f64 = number.parse().map_err(|_| invalid())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(invalid());
                }
                Self::Percentile {
                    name: text.to_owned(),
                    p,
                }
            }
        })
    }

    /// The name as CloudWatch writes it.
    pub fn name(&self) -> &str {
        match self {
            Self::SampleCount => "SampleCount",
            Self::Average => "Average",
            Self::Sum => "Sum",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
            Self::Percentile { name, .. } => name,
        }
    }
}

/// One period's statistics. Only the requested statistics are filled; a percentile that cannot
/// be computed (negative values, statistic sets of unequal values) is left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    /// Start of the period, epoch milliseconds.
    pub timestamp_ms: i64,
    pub unit: String,
    pub sample_count: Option<f64>,
    pub average: Option<f64>,
    pub sum: Option<f64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// Percentiles by requested name (`p99` → value).
    pub extended_statistics: BTreeMap<String, f64>,
}

impl Datapoint {
    pub(crate) fn from_bucket(
        timestamp_ms: i64,
        unit: &str,
        bucket: &mut Bucket,
        stats: &[Statistic],
    ) -> Self {
        let mut d = Self {
            timestamp_ms,
            unit: unit.to_owned(),
            sample_count: None,
            average: None,
            sum: None,
            minimum: None,
            maximum: None,
            extended_statistics: BTreeMap::new(),
        };
        for stat in stats {
            match stat {
                Statistic::SampleCount => d.sample_count = Some(bucket.count),
                Statistic::Average => d.average = Some(bucket.sum / bucket.count),
                Statistic::Sum => d.sum = Some(bucket.sum),
                Statistic::Minimum => d.minimum = Some(bucket.min),
                Statistic::Maximum => d.maximum = Some(bucket.max),
                Statistic::Percentile { name, p } => {
                    if let Some(v) = bucket.percentile(*p) {
                        d.extended_statistics.insert(name.clone(), v);
                    }
                }
            }
        }
        d
    }

    /// The value of one statistic, if filled.
    pub fn get(&self, stat: &Statistic) -> Option<f64> {
        match stat {
            Statistic::SampleCount => self.sample_count,
            Statistic::Average => self.average,
            Statistic::Sum => self.sum,
            Statistic::Minimum => self.minimum,
            Statistic::Maximum => self.maximum,
            Statistic::Percentile { name, .. } => self.extended_statistics.get(name).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_parse() {
        assert_eq!(Statistic::parse("Sum"), Ok(Statistic::Sum));
        for ok in ["p0", "p50", "p99.9", "p100", "p0.0", "p99.1234567890"] {
            assert!(
                matches!(Statistic::parse(ok), Ok(Statistic::Percentile { .. })),
                "{ok}"
            );
        }
        for bad in [
            "sum",
            "p",
            "p100.1",
            "p101",
            "p-1",
            "p99.",
            "p.5",
            "P99",
            "p99.12345678901",
            "tm99",
        ] {
            assert!(Statistic::parse(bad).is_err(), "{bad}");
        }
        let Ok(Statistic::Percentile { p, name }) = Statistic::parse("p99.5") else {
            panic!("p99.5")
        };
        assert_eq!((p, name.as_str()), (99.5, "p99.5"));
    }
}
