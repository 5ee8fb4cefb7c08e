//! Function calls: each Insights function mapped to DataFusion built-ins or to a [`TextFn`];
//! the ones not mapped yet fail naming the function.

use datafusion::arrow::datatypes::{DataType, TimeUnit as ArrowUnit};
use datafusion::functions::{core, crypto, datetime, encoding, math, string, unicode};
use datafusion::logical_expr::{Expr, cast, lit, try_cast, when};
use flowwatch_insights::ast::{Call, Duration, TimeUnit};
use flowwatch_insights::{Expr as Ast, ExprKind, FunctionKind, Literal, Span, functions};

use super::Lowering;
use super::expr::{as_bool, as_double, as_number, as_text, is_text};
use crate::error::Result;
use crate::udf::{TextFn, TextUdf};

/// A period the way `bin` runs it: the number is capped per unit (`bin(300s)` runs as
/// `bin(60s)`), calendar units truncate to the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Millis(i64),
    Calendar(&'static str),
}

pub(crate) fn period(d: Duration) -> Option<Period> {
    let cap = |max: u64| d.amount.clamp(1, max);
    let ms = |n: u64, unit: u64| Some(Period::Millis(i64::try_from(n * unit).ok()?));
    match d.unit {
        TimeUnit::Millisecond => ms(cap(1000), 1),
        TimeUnit::Second => ms(cap(60), 1_000),
        TimeUnit::Minute => ms(cap(60), 60_000),
        TimeUnit::Hour => ms(cap(24), 3_600_000),
        TimeUnit::Day | TimeUnit::Week => ms(d.amount.max(1), d.unit.millis()),
        TimeUnit::Month if d.amount <= 1 => Some(Period::Calendar("month")),
        TimeUnit::Quarter if d.amount <= 1 => Some(Period::Calendar("quarter")),
        TimeUnit::Year if d.amount <= 1 => Some(Period::Calendar("year")),
        _ => None,
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(ArrowUnit::Millisecond, None)
}

fn duration_arg(ast: &Ast) -> Option<Duration> {
    match &ast.kind {
        ExprKind::Literal(Literal::Duration(d)) => Some(*d),
        _ => None,
    }
}

fn int01(b: Expr) -> Expr {
    when(b, lit(1i64))
        .otherwise(lit(0i64))
        .expect("a when with one branch builds")
}

impl Lowering<'_> {
    /// `ts` floored to `period` (shifted by `offset` ms), as a timestamp.
    pub(crate) fn floor_time(&self, ts: Expr, p: &Period, offset: i64) -> Expr {
        let t = self.type_of(&ts);
        let ts = if matches!(t, DataType::Timestamp(..)) {
            ts
        } else {
            cast(as_number(ts, &t), timestamp_type())
        };
        match p {
            Period::Millis(ms) => {
                let t = cast(ts, DataType::Int64) - lit(offset);
                // Floor for negative times too: t - ((t % p) + p) % p.
                let floored = t.clone() - ((t % lit(*ms)) + lit(*ms)) % lit(*ms) + lit(offset);
                cast(floored, timestamp_type())
            }
            Period::Calendar(unit) => cast(
                datetime::date_trunc().call(vec![lit(*unit), ts]),
                timestamp_type(),
            ),
        }
    }

    fn period_of(&self, ast: &Ast, name: &str) -> Result<Period> {
        duration_arg(ast)
            .and_then(period)
            .ok_or_else(|| self.unsupported(format!("this period in {name}()"), ast.span))
    }

    pub(crate) fn call(&mut self, call: &Call, span: Span) -> Result<Expr> {
        let def = functions::lookup(&call.name);
        if let Some(def) = def
            && def.kind != FunctionKind::Scalar
        {
            return match def.kind {
                FunctionKind::Aggregate => self.aggregate_column(call, span),
                _ => {
                    // bin(period): @timestamp floored.
                    let p = match call.args.first() {
                        Some(arg) => self.period_of(arg, "bin")?,
                        None => return Err(self.unsupported("bin() without a period", span)),
                    };
                    let ts = self.lower_field_named(crate::input::TIMESTAMP);
                    Ok(self.floor_time(ts, &p, 0))
                }
            };
        }
        let name = def.map_or(call.name.as_str(), |d| d.name);
        // Functions with a period argument take it unlowered.
        match name {
            "datefloor" | "dateceil" => {
                let ts = self.lower(&call.args[0])?;
                let p = self.period_of(&call.args[1], name)?;
                let floor = self.floor_time(ts.clone(), &p, 0);
                if name == "datefloor" {
                    return Ok(floor);
                }
                let t = self.type_of(&ts);
                let ts_ms = as_number(ts, &t);
                let step = match p {
                    Period::Millis(ms) => ms,
                    Period::Calendar(_) => {
                        return Err(self.unsupported("dateceil() with a calendar period", span));
                    }
                };
                let floor_ms = cast(floor.clone(), DataType::Int64);
                return Ok(when(floor_ms.clone().eq(ts_ms), floor)
                    .otherwise(cast(floor_ms + lit(step), timestamp_type()))?);
            }
            _ => {}
        }
        let mut args = Vec::with_capacity(call.args.len());
        let mut types = Vec::with_capacity(call.args.len());
        for a in &call.args {
            let e = self.lower(a)?;
            types.push(self.type_of(&e));
            args.push(e);
        }
        let text = |i: usize| as_text(args[i].clone(), &types[i]);
        let num = |i: usize| as_number(args[i].clone(), &types[i]);
        let dbl = |i: usize| as_double(args[i].clone(), &types[i]);
        let texts = || -> Vec<Expr> { (0..args.len()).map(text).collect() };
        let text_fn = |f: TextFn, args: Vec<Expr>| -> Expr {
            TextUdf::call(f, args).expect("only parse compiles a regex")
        };
        let p = self.params;
        Ok(match name {
            // Numeric.
            "abs" => math::abs().call(vec![num(0)]),
            "ceil" => math::ceil().call(vec![dbl(0)]),
            "floor" => math::floor().call(vec![dbl(0)]),
            "greatest" => core::greatest().call((0..args.len()).map(dbl).collect()),
            "least" => core::least().call((0..args.len()).map(dbl).collect()),
            "log" => math::ln().call(vec![dbl(0)]),
            "sqrt" => math::sqrt().call(vec![dbl(0)]),
            "round" => {
                let mut a = vec![dbl(0)];
                if args.len() > 1 {
                    a.push(cast(num(1), DataType::Int64));
                }
                math::round().call(a)
            }
            "toNumber" | "toDouble" => dbl(0),
            "toInt" => try_cast(dbl(0), DataType::Int32),
            "toLong" => try_cast(dbl(0), DataType::Int64),
            // Datetime.
            "fromMillis" => cast(cast(num(0), DataType::Int64), timestamp_type()),
            "toMillis" => {
                let t = &types[0];
                if is_text(t) {
                    cast(cast(args[0].clone(), timestamp_type()), DataType::Int64)
                } else {
                    cast(num(0), DataType::Int64)
                }
            }
            "now" => lit(p.now_ms.div_euclid(1000)),
            "queryStartTime" => lit(p.start_ms),
            "queryEndTime" => lit(p.end_ms),
            "queryTimeRange" => lit(p.end_ms - p.start_ms),
            "formatDate" => {
                if args.len() > 2 {
                    return Err(self.unsupported("formatDate() with a time zone", span));
                }
                let ts = if matches!(types[0], DataType::Timestamp(..)) {
                    args[0].clone()
                } else {
                    cast(cast(num(0), DataType::Int64), timestamp_type())
                };
                datetime::to_char().call(vec![ts, text(1)])
            }
            // General.
            "ispresent" => args[0].clone().is_not_null(),
            "coalesce" => {
                let all_text = types.iter().all(is_text);
                let a = if all_text { args.clone() } else { texts() };
                core::coalesce().call(a)
            }
            "if" => self.if_then(args[0].clone(), args[1].clone(), args[2].clone())?,
            "case" => {
                let mut pairs = args.chunks_exact(2);
                let mut builder: Option<
                    datafusion::logical_expr::conditional_expressions::CaseBuilder,
                > = None;
                for pair in pairs.by_ref() {
                    let t = self.type_of(&pair[0]);
                    let cond = as_bool(pair[0].clone(), &t);
                    builder = Some(match builder {
                        None => when(cond, pair[1].clone()),
                        Some(mut b) => {
                            b.when(cond, pair[1].clone());
                            b
                        }
                    });
                }
                let default = pairs
                    .remainder()
                    .first()
                    .cloned()
                    .unwrap_or(lit(datafusion::common::ScalarValue::Null));
                match builder {
                    Some(mut b) => b.otherwise(default)?,
                    None => default,
                }
            }
            "isNumeric" => text_fn(TextFn::IsNumeric, vec![text(0)]),
            "messageSize" => string::octet_length().call(vec![text(0)]),
            // Hashing.
            "md5" => crypto::md5().call(vec![text(0)]),
            "sha256" => {
                encoding::encode().call(vec![crypto::sha256().call(vec![text(0)]), lit("hex")])
            }
            // IP addresses.
            "isValidIp" => text_fn(TextFn::IsValidIp, texts()),
            "isValidIpV4" => text_fn(TextFn::IsValidIpV4, texts()),
            "isValidIpV6" => text_fn(TextFn::IsValidIpV6, texts()),
            "isIpInSubnet" => text_fn(TextFn::IpInSubnet { family: None }, texts()),
            "isIpv4InSubnet" => text_fn(TextFn::IpInSubnet { family: Some(4) }, texts()),
            "isIpv6InSubnet" => text_fn(TextFn::IpInSubnet { family: Some(6) }, texts()),
            "ipv4ToNumber" => text_fn(TextFn::Ipv4ToNumber, texts()),
            "isPrivateIP" => text_fn(TextFn::IsPrivateIp, texts()),
            "isPublicIP" => text_fn(TextFn::IsPublicIp, texts()),
            "isReservedIP" => text_fn(TextFn::IsReservedIp, texts()),
            // String.
            "isempty" => {
                let v = text(0);
                int01(v.clone().is_null().or(v.eq(lit(""))))
            }
            "isblank" => {
                let v = text(0);
                int01(
                    v.clone()
                        .is_null()
                        .or(string::btrim().call(vec![v]).eq(lit(""))),
                )
            }
            "concat" => string::concat().call(texts()),
            "ltrim" => string::ltrim().call(texts()),
            "rtrim" => string::rtrim().call(texts()),
            "trim" => string::btrim().call(texts()),
            "strlen" => unicode::character_length().call(vec![text(0)]),
            "toupper" => string::upper().call(vec![text(0)]),
            "tolower" => string::lower().call(vec![text(0)]),
            "substr" => {
                let start = cast(num(1), DataType::Int64) + lit(1i64);
                if args.len() > 2 {
                    unicode::substr().call(vec![text(0), start, cast(num(2), DataType::Int64)])
                } else {
                    unicode::substr().call(vec![text(0), start])
                }
            }
            "replace" => string::replace().call(texts()),
            "regexReplace" => datafusion::functions::regex::regexp_replace().call(vec![
                text(0),
                text(1),
                text(2),
                lit("g"),
            ]),
            "strcontains" => {
                let (s, v) = (text(0), text(1));
                let ci = args.len() > 2;
                let (s, v) = if ci {
                    (string::lower().call(vec![s]), string::lower().call(vec![v]))
                } else {
                    (s, v)
                };
                int01(unicode::strpos().call(vec![s, v]).gt(lit(0i64)))
            }
            "startsWith" => int01(string::starts_with().call(vec![text(0), text(1)])),
            "endsWith" => int01(string::ends_with().call(vec![text(0), text(1)])),
            "urlencode" => text_fn(TextFn::UrlEncode, texts()),
            "urldecode" => text_fn(TextFn::UrlDecode, texts()),
            "base64encode" => encoding::encode().call(vec![text(0), lit("base64pad")]),
            "base64decode" => cast(
                encoding::decode().call(vec![text(0), lit("base64pad")]),
                DataType::Utf8,
            ),
            "parseDate" => text_fn(TextFn::ParseDate, texts()),
            "haversine" => {
                // Great-circle distance in km on a sphere of the Earth's mean radius.
                let rad = |i: usize| math::radians().call(vec![dbl(i)]);
                let (lat1, lon1, lat2, lon2) = (rad(0), rad(1), rad(2), rad(3));
                let half_sin_sq = |d: Expr| {
                    let s = math::sin().call(vec![d / lit(2.0)]);
                    s.clone() * s
                };
                let a = half_sin_sq(lat2.clone() - lat1.clone())
                    + math::cos().call(vec![lat1])
                        * math::cos().call(vec![lat2])
                        * half_sin_sq(lon2 - lon1);
                lit(2.0 * 6371.0088) * math::asin().call(vec![math::sqrt().call(vec![a])])
            }
            "jsonParse" => text_fn(TextFn::JsonParse, texts()),
            "jsonStringify" => text_fn(TextFn::JsonStringify, texts()),
            "jsonArraySize" => text_fn(TextFn::JsonArraySize, texts()),
            "jsonArrayContains" => text_fn(TextFn::JsonArrayContains, texts()),
            "split" => text_fn(TextFn::Split, texts()),
            "hexToAscii" => text_fn(TextFn::HexToAscii, texts()),
            "hexToDec" => text_fn(TextFn::HexToDec, texts()),
            "decToHex" => text_fn(TextFn::DecToHex, texts()),
            other => return Err(self.unsupported(format!("function `{other}`"), call.name_span)),
        })
    }

    pub(crate) fn lower_field_named(&self, name: &str) -> Expr {
        if self.has_column(name) {
            super::col_ident(name)
        } else {
            lit(datafusion::common::ScalarValue::Utf8(None))
        }
    }
}
