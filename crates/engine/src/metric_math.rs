//! Simple metric math for GetMetricData: query ids, numbers, `+ - * /`, unary minus,
//! parentheses, and `SUM`, `AVG`, `MIN`, `MAX` over an array of series (`SUM([m1, m2])`, per
//! timestamp) or over one series (`MAX(m1)`, a number). Arithmetic between two series keeps
//! the timestamps both have; between a series and a number, every point. A point whose result
//! is not finite (a division by zero) is left out, as CloudWatch does.

use std::collections::{BTreeMap, HashMap};

/// A time series: epoch milliseconds → value.
pub(crate) type Series = BTreeMap<i64, f64>;

#[derive(Debug, Clone)]
enum Value {
    Number(f64),
    Series(Series),
    Array(Vec<Series>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Ident(String),
    Op(char),
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() || c == '.' {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let number = &text[i..end];
            tokens.push(Token::Number(
                number
                    .parse()
                    .map_err(|_| format!("'{number}' is not a number"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Ident(text[i..end].to_owned()));
        } else if "+-*/()[],".contains(c) {
            tokens.push(Token::Op(c));
            chars.next();
        } else {
            return Err(format!("unexpected character '{c}' at position {i}"));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    series: &'a HashMap<String, Series>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, op: char) -> bool {
        if self.peek() == Some(&Token::Op(op)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: char) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(format!("expected '{op}'"))
        }
    }

    fn sum(&mut self) -> Result<Value, String> {
        let mut left = self.product()?;
        loop {
            if self.eat('+') {
                left = binary(left, self.product()?, |a, b| a + b)?;
            } else if self.eat('-') {
                left = binary(left, self.product()?, |a, b| a - b)?;
            } else {
                return Ok(left);
            }
        }
    }

    fn product(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        loop {
            if self.eat('*') {
                left = binary(left, self.unary()?, |a, b| a * b)?;
            } else if self.eat('/') {
                left = binary(left, self.unary()?, |a, b| a / b)?;
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Value, String> {
        if self.eat('-') {
            return binary(Value::Number(0.0), self.unary()?, |a, b| a - b);
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Value, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Number(n)) => {
                self.at += 1;
                Ok(Value::Number(n))
            }
            Some(Token::Op('(')) => {
                self.at += 1;
                let v = self.sum()?;
                self.expect(')')?;
                Ok(v)
            }
            Some(Token::Op('[')) => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    match self.sum()? {
                        Value::Series(s) => items.push(s),
                        Value::Array(a) => items.extend(a),
                        Value::Number(_) => return Err("an array holds time series".into()),
                    }
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect(']')?;
                Ok(Value::Array(items))
            }
            Some(Token::Ident(name)) => {
                self.at += 1;
                if self.eat('(') {
                    let argument = self.sum()?;
                    self.expect(')')?;
                    return function(&name, argument);
                }
                self.series
                    .get(&name)
                    .cloned()
                    .map(Value::Series)
                    .ok_or_else(|| format!("unknown metric id '{name}'"))
            }
            Some(Token::Op(c)) => Err(format!("unexpected '{c}'")),
            None => Err("the expression ends too early".into()),
        }
    }
}

fn aggregate(name: &str, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match name {
        "SUM" => values.iter().sum(),
        "AVG" => values.iter().sum::<f64>() / values.len() as f64,
        "MIN" => values.iter().copied().fold(f64::INFINITY, f64::min),
        _ => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn function(name: &str, argument: Value) -> Result<Value, String> {
    if !["SUM", "AVG", "MIN", "MAX"].contains(&name) {
        return Err(format!(
            "unsupported function {name}; supported: SUM, AVG, MIN, MAX"
        ));
    }
    match argument {
        Value::Series(s) => {
            let values: Vec<f64> = s.values().copied().collect();
            Ok(Value::Number(aggregate(name, &values).unwrap_or(f64::NAN)))
        }
        Value::Array(all) => {
            let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for s in &all {
                for (&t, &v) in s {
                    by_time.entry(t).or_default().push(v);
                }
            }
            Ok(Value::Series(
                by_time
                    .into_iter()
                    .filter_map(|(t, vs)| aggregate(name, &vs).map(|v| (t, v)))
                    .collect(),
            ))
        }
        Value::Number(n) => Ok(Value::Number(n)),
    }
}

fn binary(left: Value, right: Value, f: impl Fn(f64, f64) -> f64) -> Result<Value, String> {
    let keep = |s: Series| -> Series { s.into_iter().filter(|(_, v)| v.is_finite()).collect() };
    Ok(match (left, right) {
        (Value::Number(a), Value::Number(b)) => Value::Number(f(a, b)),
        (Value::Series(s), Value::Number(b)) => {
            Value::Series(keep(s.into_iter().map(|(t, a)| (t, f(a, b))).collect()))
        }
        (Value::Number(a), Value::Series(s)) => {
            Value::Series(keep(s.into_iter().map(|(t, b)| (t, f(a, b))).collect()))
        }
        (Value::Series(a), Value::Series(b)) => Value::Series(keep(
            a.into_iter()
                .filter_map(|(t, x)| b.get(&t).map(|&y| (t, f(x, y))))
                .collect(),
        )),
        _ => return Err("arithmetic on an array of time series is not supported".into()),
    })
}

/// Evaluates `expression` over the series of the queries by id. The result is a time series.
pub(crate) fn evaluate(
    expression: &str,
    series: &HashMap<String, Series>,
) -> Result<Series, String> {
    if expression.len() > 2048 {
        return Err("an expression has at most 2048 characters".into());
    }
    let mut parser = Parser {
        tokens: lex(expression)?,
        at: 0,
        series,
    };
    let value = parser.sum()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the expression".into());
    }
    match value {
        Value::Series(s) => Ok(s),
        Value::Number(_) => Err("the expression must return a time series, not a number".into()),
        Value::Array(_) => Err("the expression must return one time series, not an array".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> HashMap<String, Series> {
        HashMap::from([
            (
                "m1".to_owned(),
                Series::from([(0, 1.0), (60, 2.0), (120, 4.0)]),
            ),
            ("m2".to_owned(), Series::from([(0, 10.0), (120, 0.0)])),
        ])
    }

    #[test]
    fn arithmetic_keeps_common_timestamps_and_drops_non_finite_points() {
        let d = data();
        assert_eq!(
            evaluate("m1 + m2", &d).unwrap(),
            Series::from([(0, 11.0), (120, 4.0)])
        );
        assert_eq!(
            evaluate("(m1 * 100) / 2 - -1", &d).unwrap(),
            Series::from([(0, 51.0), (60, 101.0), (120, 201.0)])
        );
        assert_eq!(evaluate("m1 / m2", &d).unwrap(), Series::from([(0, 0.1)]));
    }

    #[test]
    fn functions_over_arrays_and_series() {
        let d = data();
        assert_eq!(
            evaluate("SUM([m1, m2])", &d).unwrap(),
            Series::from([(0, 11.0), (60, 2.0), (120, 4.0)])
        );
        assert_eq!(
            evaluate("m1 / MAX(m1)", &d).unwrap(),
            Series::from([(0, 0.25), (60, 0.5), (120, 1.0)])
        );
        assert_eq!(
            evaluate("MIN([m1, m2])", &d).unwrap(),
            Series::from([(0, 1.0), (60, 2.0), (120, 0.0)])
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let d = data();
        assert!(
            evaluate("m3 + 1", &d)
                .unwrap_err()
                .contains("unknown metric id 'm3'")
        );
        assert!(evaluate("FILL(m1, 0)", &d).is_err());
        assert!(evaluate("m1 +", &d).unwrap_err().contains("ends too early"));
        assert!(evaluate("1 + 2", &d).unwrap_err().contains("time series"));
        assert!(
            evaluate("m1 $ 2", &d)
                .unwrap_err()
                .contains("unexpected character")
        );
        assert!(evaluate("(m1", &d).unwrap_err().contains("expected ')'"));
    }
}
