//! The JavaScript boundary: values in and out, JS errors, the TypeScript types. What a value
//! means is read by the core from its JSON; here it is only turned into text and back.

use crate::config::Config;
use crate::error::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The page's types (config, stats, drops, records), generated from the core's tables.
#[wasm_bindgen(typescript_custom_section)]
const _: &str = include_str!("../types.d.ts");

/// A JavaScript `Error` whose `name` is the error kind and `code` the AWS code or kind;
/// config errors also carry `key`.
pub fn to_js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.name());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    if let Error::Config { key, .. } = e {
        let _ = js_sys::Reflect::set(&err, &"key".into(), &key.as_str().into());
    }
    err.into()
}

pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn function(obj: &JsValue, key: &str) -> Option<js_sys::Function> {
    get(obj, key).dyn_into().ok()
}

/// `JSON.stringify(v)`; `None` when it throws (a BigInt, a cycle) or gives nothing
/// (`undefined`, a function).
pub(crate) fn stringify(v: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(v).ok()?.as_string()
}

/// A JSON text the core wrote, as a JavaScript value.
pub(crate) fn json_to_js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// What of `credentials` stays JavaScript: the provider and logins functions, and the
/// logins object's JSON, read once at start (its tokens never go into the checked
/// [`Config`]).
#[derive(Default)]
pub struct JsCredentials {
    pub provider: Option<js_sys::Function>,
    pub logins: Option<js_sys::Function>,
    pub logins_json: Option<String>,
}

/// Reads a config object: its JSON for the core to check, and what stays JavaScript.
pub fn config_from_js(config: &JsValue) -> Result<(Config, JsCredentials), Error> {
    let credentials = get(config, "credentials");
    let logins = get(&credentials, "logins");
    let js = JsCredentials {
        provider: function(&credentials, "provider"),
        logins_json: stringify(&logins).filter(|l| l != "null"),
        logins: logins.dyn_into().ok(),
    };
    let mut functions = Vec::new();
    if js.provider.is_some() {
        functions.push("provider");
    }
    if js.logins.is_some() {
        functions.push("logins");
    }
    let config = Config::from_js_text(stringify(config).as_deref(), &functions)?;
    Ok((config, js))
}
