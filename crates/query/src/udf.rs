//! Scalar functions DataFusion does not have, evaluated row by row over strings: natural
//! sort keys, `parse` captures, IP address tests, JSON values and a few text conversions.
//!
//! Every function takes its arguments as text (other types are cast) and is one
//! [`TextFn`] variant; [`TextUdf`] adapts them to DataFusion. The aggregates DataFusion
//! does not have are here too, one file each (`histogram`).

mod date;
mod histogram;
mod ip;
pub mod json;
mod natural;
mod text;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Int64Builder, ListBuilder, StringArray,
    StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub(crate) use histogram::HistogramUdaf;
pub use natural::natural_key;

/// The functions, each a pure function of its text arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextFn {
    /// A binary key whose byte order is Insights' natural order of the text.
    NaturalKey,
    /// Group `group` of the first match of `regex` (a `parse` capture).
    Capture {
        regex: String,
        group: usize,
    },
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    /// `isIpInSubnet(ip, cidr)`; `v4`/`v6` restrict the family.
    IpInSubnet {
        family: Option<u8>,
    },
    IsPrivateIp,
    IsPublicIp,
    IsReservedIp,
    Ipv4ToNumber,
    IsNumeric,
    UrlEncode,
    UrlDecode,
    HexToAscii,
    HexToDec,
    DecToHex,
    JsonParse,
    /// The value at the path given by the other arguments (`json::key_step` / `index_step`).
    JsonPath,
    JsonStringify,
    JsonArraySize,
    JsonArrayContains,
    Split,
    /// The elements `unnest` expands, as a list.
    JsonElements,
    /// `parseDate(text, pattern[, tz])`: epoch milliseconds.
    ParseDate,
}

impl TextFn {
    fn name(&self) -> &'static str {
        match self {
            TextFn::NaturalKey => "__natural_key",
            TextFn::Capture { .. } => "__parse_capture",
            TextFn::IsValidIp => "isValidIp",
            TextFn::IsValidIpV4 => "isValidIpV4",
            TextFn::IsValidIpV6 => "isValidIpV6",
            TextFn::IpInSubnet { .. } => "isIpInSubnet",
            TextFn::IsPrivateIp => "isPrivateIP",
            TextFn::IsPublicIp => "isPublicIP",
            TextFn::IsReservedIp => "isReservedIP",
            TextFn::Ipv4ToNumber => "ipv4ToNumber",
            TextFn::IsNumeric => "isNumeric",
            TextFn::UrlEncode => "urlencode",
            TextFn::UrlDecode => "urldecode",
            TextFn::HexToAscii => "hexToAscii",
            TextFn::HexToDec => "hexToDec",
            TextFn::DecToHex => "decToHex",
            TextFn::JsonParse => "jsonParse",
            TextFn::JsonPath => "__json_path",
            TextFn::JsonStringify => "jsonStringify",
            TextFn::JsonArraySize => "jsonArraySize",
            TextFn::JsonArrayContains => "jsonArrayContains",
            TextFn::Split => "split",
            TextFn::JsonElements => "__unnest_elements",
            TextFn::ParseDate => "parseDate",
        }
    }

    fn return_type(&self) -> DataType {
        match self {
            TextFn::NaturalKey => DataType::Binary,
            TextFn::Capture { .. }
            | TextFn::UrlEncode
            | TextFn::UrlDecode
            | TextFn::HexToAscii
            | TextFn::DecToHex
            | TextFn::JsonParse
            | TextFn::JsonPath
            | TextFn::JsonStringify
            | TextFn::Split => DataType::Utf8,
            TextFn::Ipv4ToNumber
            | TextFn::HexToDec
            | TextFn::JsonArraySize
            | TextFn::JsonArrayContains
            | TextFn::ParseDate => DataType::Int64,
            TextFn::JsonElements => list_of_text(),
            _ => DataType::Boolean,
        }
    }
}

/// The type of a list of texts (what `unnest` expands).
fn list_of_text() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn value(array: &StringArray, row: usize) -> Option<&str> {
    array.is_valid(row).then(|| array.value(row))
}

/// One value computed by a [`TextFn`].
enum Out {
    Bool(Option<bool>),
    Int(Option<i64>),
    Str(Option<String>),
    Bytes(Option<Vec<u8>>),
    List(Vec<Option<String>>),
}

/// A [`TextFn`] as a DataFusion scalar function.
#[derive(Debug)]
pub struct TextUdf {
    func: TextFn,
    signature: Signature,
    regex: Option<regex::Regex>,
}

impl PartialEq for TextUdf {
    fn eq(&self, other: &Self) -> bool {
        self.func == other.func
    }
}

impl Eq for TextUdf {}

impl Hash for TextUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.func.hash(state);
    }
}

impl TextUdf {
    /// The function as an expression over `args`; fails on an invalid `parse` regex.
    pub fn call(func: TextFn, args: Vec<Expr>) -> Result<Expr, regex::Error> {
        let regex = match &func {
            TextFn::Capture { regex, .. } => Some(regex::Regex::new(regex)?),
            _ => None,
        };
        let udf = TextUdf {
            func,
            signature: Signature::variadic_any(Volatility::Immutable),
            regex,
        };
        Ok(ScalarUDF::new_from_impl(udf).call(args))
    }

    fn eval(&self, args: &[Option<&str>]) -> Out {
        let first = args.first().copied().flatten();
        let second = args.get(1).copied().flatten();
        match &self.func {
            TextFn::NaturalKey => Out::Bytes(first.map(natural_key)),
            TextFn::Capture { group, .. } => Out::Str(first.and_then(|s| {
                let caps = self.regex.as_ref()?.captures(s)?;
                caps.get(*group).map(|m| m.as_str().to_owned())
            })),
            TextFn::IsValidIp => Out::Bool(first.map(|s| ip::parse(s).is_some())),
            TextFn::IsValidIpV4 => Out::Bool(first.map(|s| ip::parse_v4(s).is_some())),
            TextFn::IsValidIpV6 => Out::Bool(first.map(|s| ip::parse_v6(s).is_some())),
            TextFn::IpInSubnet { family } => Out::Bool(match (first, second) {
                (Some(a), Some(c)) => Some(ip::in_subnet(a, c, *family)),
                _ => None,
            }),
            TextFn::IsPrivateIp => Out::Bool(first.map(ip::is_private)),
            TextFn::IsPublicIp => Out::Bool(first.map(ip::is_public)),
            TextFn::IsReservedIp => Out::Bool(first.map(ip::is_reserved)),
            TextFn::Ipv4ToNumber => Out::Int(
                first
                    .and_then(ip::parse_v4)
                    .map(|a| i64::from(u32::from(a))),
            ),
            TextFn::IsNumeric => Out::Bool(first.map(text::is_numeric)),
            TextFn::UrlEncode => Out::Str(first.map(text::url_encode)),
            TextFn::UrlDecode => Out::Str(first.and_then(text::url_decode)),
            TextFn::HexToAscii => Out::Str(first.and_then(text::hex_to_ascii)),
            TextFn::HexToDec => Out::Int(first.and_then(text::hex_to_dec)),
            TextFn::DecToHex => Out::Str(first.and_then(text::dec_to_hex)),
            TextFn::JsonParse => Out::Str(first.map(json::parse)),
            TextFn::JsonPath => Out::Str(first.and_then(|s| json::path(s, &args[1..]))),
            TextFn::JsonStringify => Out::Str(first.map(json::stringify)),
            TextFn::JsonArraySize => Out::Int(first.and_then(json::array_size)),
            TextFn::JsonArrayContains => {
                Out::Int(first.map(|s| second.map_or(0, |wanted| json::array_contains(s, wanted))))
            }
            TextFn::Split => Out::Str(match (first, second) {
                (Some(s), Some(d)) => Some(json::split(s, d)),
                _ => None,
            }),
            TextFn::JsonElements => Out::List(json::elements(first)),
            TextFn::ParseDate => Out::Int(match (first, second) {
                (Some(text), Some(pattern)) => {
                    date::parse_date(text, pattern, args.get(2).copied().flatten())
                }
                _ => None,
            }),
        }
    }
}

impl ScalarUDFImpl for TextUdf {
    fn name(&self) -> &str {
        self.func.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.func.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts: Vec<ArrayRef> = arrays
            .iter()
            .map(|a| cast(a, &DataType::Utf8))
            .collect::<Result<_, _>>()?;
        let strings: Vec<&StringArray> = texts
            .iter()
            .map(|a| {
                a.as_any()
                    .downcast_ref::<StringArray>()
                    .expect("cast to Utf8 gives a StringArray")
            })
            .collect();
        let mut row_args: Vec<Option<&str>> = Vec::with_capacity(strings.len());
        let out: ArrayRef = match self.func.return_type() {
            DataType::Binary => {
                let mut b = BinaryBuilder::new();
                for row in 0..rows {
                    row_args.clear();
                    row_args.extend(strings.iter().map(|a| value(a, row)));
                    if let Out::Bytes(v) = self.eval(&row_args) {
                        b.append_option(v);
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Utf8 => {
                let mut b = StringBuilder::new();
                for row in 0..rows {
                    row_args.clear();
                    row_args.extend(strings.iter().map(|a| value(a, row)));
                    if let Out::Str(v) = self.eval(&row_args) {
                        b.append_option(v);
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Int64 => {
                let mut b = Int64Builder::new();
                for row in 0..rows {
                    row_args.clear();
                    row_args.extend(strings.iter().map(|a| value(a, row)));
                    if let Out::Int(v) = self.eval(&row_args) {
                        b.append_option(v);
                    }
                }
                Arc::new(b.finish())
            }
            DataType::List(_) => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for row in 0..rows {
                    row_args.clear();
                    row_args.extend(strings.iter().map(|a| value(a, row)));
                    if let Out::List(items) = self.eval(&row_args) {
                        for item in items {
                            b.values().append_option(item);
                        }
                        b.append(true);
                    }
                }
                Arc::new(b.finish())
            }
            _ => {
                let mut b = BooleanBuilder::new();
                for row in 0..rows {
                    row_args.clear();
                    row_args.extend(strings.iter().map(|a| value(a, row)));
                    if let Out::Bool(v) = self.eval(&row_args) {
                        b.append_option(v);
                    }
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}
