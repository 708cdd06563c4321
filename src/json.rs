//! Writing the few JSON objects the page gets (stats, drops, putRecords results) by hand:
//! parsing stays with serde_json, but its serializer (and its float formatting) stays out of
//! the page's module.

use crate::request::push_json_str;

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
        self.out.push_str(&v.to_string());
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
