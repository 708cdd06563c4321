//! A JSON value as the core reads it. serde_json parses; the value is this, not
//! `serde_json::Value`: its objects are `BTreeMap`s, which cost the page's module about 5 KB.
//! The JSON read here is small (a config object, AWS answers, a stored copy), so an object
//! is its members in document order and a lookup a scan. A key given twice keeps its last
//! value, as in `serde_json`.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON number: whole numbers exactly, others as `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    U(u64),
    I(i64),
    F(f64),
}

impl Number {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::U(u) => Some(u),
            Number::I(i) => u64::try_from(i).ok(),
            Number::F(_) => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::U(u) => i64::try_from(u).ok(),
            Number::I(i) => Some(i),
            Number::F(_) => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Number::U(u) => u as f64,
            Number::I(i) => i as f64,
            Number::F(f) => f,
        })
    }
}

/// The key under which serde_json (feature `arbitrary_precision`) hands over a number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl Number {
    /// A JSON number's text as serde_json hands it over (fractions, exponents and integers
    /// too large for 64 bits; it reads plain integers itself, and has checked the grammar):
    /// whole numbers exactly when they fit, others as the `f64` this simple reading gives
    /// (correctly rounded for up to 15 digits and exponents to ±22, within 1e-14 beyond: the
    /// JSON read here has no fractions that need more; text that is no number reads as 0).
    /// Reading the text here, not with serde_json's float parser, keeps its 2.5 KB table of
    /// powers of ten out of the page's module.
    pub fn parse(text: &str) -> Number {
        let b = text.as_bytes();
        let negative = b.first() == Some(&b'-');
        let (mut mantissa, mut exp, mut exact, mut i) = (0u64, 0i32, true, usize::from(negative));
        let (mut fraction, mut full) = (false, false);
        while let Some(&c) = b.get(i) {
            match c {
                b'0'..=b'9' => {
                    let d = u64::from(c - b'0');
                    let grown = mantissa.checked_mul(10).and_then(|m| m.checked_add(d));
                    match grown.filter(|_| !full) {
                        Some(m) => {
                            mantissa = m;
                            exp -= i32::from(fraction);
                        }
                        // The first digit a u64 cannot hold and all after it: dropped (and
                        // the number is inexact unless they are zeros).
                        None => {
                            full = true;
                            exact &= d == 0;
                            exp += i32::from(!fraction);
                        }
                    }
                }
                b'.' => fraction = true,
                b'e' | b'E' => {
                    let e = crate::text::from(text, i + 1);
                    let e = e.strip_prefix('+').unwrap_or(e);
                    let huge = if e.starts_with('-') {
                        i32::MIN
                    } else {
                        i32::MAX
                    };
                    exp = exp.saturating_add(e.parse::<i32>().unwrap_or(huge));
                    break;
                }
                _ => break,
            }
            i += 1;
        }
        // Trailing zeros of the mantissa make a negative exponent whole again (1.50e1 is 15).
        while exp < 0 && mantissa != 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            exp += 1;
        }
        let whole = if exp >= 0 && exact && exp < 20 {
            10u64
                .checked_pow(exp as u32)
                .and_then(|p| mantissa.checked_mul(p))
        } else if mantissa == 0 {
            Some(0)
        } else {
            None
        };
        match (whole, negative) {
            (Some(u), false) => Number::U(u),
            (Some(0), true) => Number::U(0),
            (Some(u), true) if u <= i64::MAX as u64 + 1 => Number::I((u as i64).wrapping_neg()),
            _ => {
                // Dividing by an exact power of ten (10^22 at most) rounds once, as serde_json
                // and JSON.parse do, for a mantissa of up to 15 digits.
                let m = mantissa as f64;
                let f = match exp {
                    0.. => m * 10f64.powi(exp),
                    -22..0 => m / 10f64.powi(-exp),
                    _ => m / 1e22 / 10f64.powi((-22i32).saturating_sub(exp)),
                };
                Number::F(if negative { -f } else { f })
            }
        }
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        Number::U(u)
    }
}

/// A JSON object: its members in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(Vec<(String, Value)>);

impl Map {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// The value of `key` (its last, if given twice).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds a member (a later one wins over an earlier of the same key).
    pub fn insert(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

static NULL: Value = Value::Null;

impl Value {
    /// The member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
}

/// `v["key"]`: the member, or null (as `serde_json::Value` indexes).
impl std::ops::Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

/// `v[i]`: the element, or null.
impl std::ops::Index<usize> for Value {
    type Output = Value;
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

/// The test's and the demo's `serde_json::json!` values, as the core reads them.
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Number::U(u),
                (_, Some(i)) => Number::I(i),
                _ => Number::F(n.as_f64().unwrap_or_default()),
            }),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => Value::Object(Map(o
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect())),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::U(u)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::I(i)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::F(f)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            // serde_json's arbitrary_precision hands a number over as a map of one member,
            // its text under this key (serde_json's own Value reads it the same way). Read
            // as a Value, not a String: a String's type errors would bring float formatting.
            if let (true, Value::String(text)) = (out.is_empty() && k == NUMBER_TOKEN, &v) {
                return Ok(Value::Number(Number::parse(text)));
            }
            out.push((k, v));
        }
        Ok(Value::Object(Map(out)))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::{Number, Value};

    #[test]
    fn reads_json_as_serde_json_does() {
        let text =
            r#"{"a":1,"b":[true,null,-2,1.5,"x\u00e9"],"a":{"c":"d"},"e":18446744073709551615}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let expected = Value::from(serde_json::from_str::<serde_json::Value>(text).unwrap());
        // serde_json keeps the last "a" only; here both are members and the last one is read.
        assert_eq!(v["a"], expected["a"]);
        assert_eq!(v["b"], expected["b"]);
        assert_eq!(v["a"]["c"], "d");
        assert_eq!(v["b"][2], Value::Number(Number::I(-2)));
        assert_eq!(v["b"][3].as_f64(), Some(1.5));
        assert_eq!(v["e"].as_u64(), Some(u64::MAX));
        assert!(v["missing"].is_null() && v["b"][9].is_null());
        assert_eq!(v.as_object().unwrap().keys().count(), 4);
    }

    /// Numbers as JSON.stringify and AWS write them: whole ones exact (Cognito's Expiration
    /// is `1.732795284E9` seconds), others as Rust's own float parser reads them.
    #[test]
    fn numbers_are_read_from_their_text() {
        for (text, want) in [
            ("0", Number::U(0)),
            ("-0", Number::U(0)),
            ("42", Number::U(42)),
            ("-42", Number::I(-42)),
            ("18446744073709551615", Number::U(u64::MAX)),
            ("-9223372036854775808", Number::I(i64::MIN)),
            ("1.732795284E9", Number::U(1_732_795_284)),
            ("1.5e1", Number::U(15)),
            ("123.000", Number::U(123)),
            ("1e+21", Number::F(1e21)),
            ("1e3", Number::U(1000)),
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v, Value::Number(want), "{text}");
        }
        for text in [
            "1.5",
            "0.1",
            "-2.25",
            "3.14159",
            "1e-7",
            "123456.789",
            "1.5e300",
            "2e-300",
            "1e-400",
            "18446744073709551616",
            "2.5e-3",
            "-0.5",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let got = v.as_f64().unwrap();
            let want: f64 = text.parse().unwrap();
            assert!(
                got == want || ((got - want) / want).abs() < 1e-14 || (want == 0.0 && got == 0.0),
                "{text}: {got} against {want}"
            );
            assert_eq!(v.as_u64(), None, "{text} is not whole");
        }
    }
}
