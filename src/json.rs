//! Writing the few JSON objects the page gets (stats, drops, putRecords results) by hand:
//! parsing stays with serde_json, but its serializer (and its float formatting) stays out of
//! the page's module.

use crate::request::push_json_str;

/// `[[name, value], ...]` as the shell writes `localStorage` entries and a script tag's
/// attributes; anything else in it (or text that is not JSON) is left out.
pub fn string_pairs(text: Option<&str>) -> Vec<(String, String)> {
    let value: crate::value::Value = text
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let pairs = value.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::new();
    for p in pairs {
        if let (Some(a), Some(b)) = (p[0].as_str(), p[1].as_str()) {
            out.push((a.to_string(), b.to_string()));
        }
    }
    out
}

/// Builds one JSON object, nested objects allowed.
pub struct Writer {
    out: String,
    /// Whether the current object has a member yet.
    first: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            out: String::from("{"),
            first: true,
        }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_json_str(&mut self.out, k);
        self.out.push(':');
    }

    pub fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        crate::request::push_uint(&mut self.out, v);
    }

    pub fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        push_json_str(&mut self.out, v);
    }

    /// A member whose value is already JSON.
    pub fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.out.push_str(json);
    }

    /// Opens a nested object under `k`.
    pub fn open(&mut self, k: &str) {
        self.key(k);
        self.out.push('{');
        self.first = true;
    }

    pub fn close(&mut self) {
        self.out.push('}');
        self.first = false;
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pairs_read_back_and_anything_else_is_left_out() {
        let text = r#"[["a","1"],["b",2],"c",["d"],[],["e","5","x"]]"#;
        let pairs = super::string_pairs(Some(text));
        assert_eq!(pairs, [("a".into(), "1".into()), ("e".into(), "5".into())]);
        for bad in [None, Some("{"), Some("{}"), Some("null")] {
            assert!(super::string_pairs(bad).is_empty());
        }
    }

    use super::*;

    #[test]
    fn writes_objects_serde_json_reads_back() {
        let mut j = Writer::new();
        j.num("a", 1);
        j.open("b");
        j.str("c\"", "é\n");
        j.close();
        j.open("e");
        j.close();
        j.raw("d", "null");
        let v: serde_json::Value = serde_json::from_str(&j.finish()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": {"c\"": "é\n"}, "e": {}, "d": null})
        );
    }
}
