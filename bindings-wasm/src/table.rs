//! The handle table: the core objects JS refers to by index, and the text form of errors.

use std::cell::RefCell;
use std::sync::Arc;

use dev_health_entitlements as core;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;

/// A core object held for JS.
pub(crate) enum Obj {
    Keyring(core::Keyring),
    Verifier(core::Verifier),
    License(core::License),
    Revocations(core::RevocationList),
    Catalog(Arc<core::Catalog>),
    Entitlements(core::Entitlements),
    #[cfg(feature = "full")]
    Sessions(core::SessionVerifier),
}

thread_local! {
    /// Slots; `None` is free for reuse. wasm32 has one thread: the table is the module's.
    static TABLE: RefCell<Vec<Option<Obj>>> = const { RefCell::new(Vec::new()) };
}

/// Stores `obj` and returns its handle (the lowest free slot).
pub(crate) fn put(obj: Obj) -> u32 {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let slot = match table.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                table.push(None);
                table.len() - 1
            }
        };
        if let Some(entry) = table.get_mut(slot) {
            *entry = Some(obj);
        }
        // Handles are u32 on the JS side; wasm32 addresses fit.
        slot as u32
    })
}

/// Runs `f` on the object behind `handle`; `None` when the handle is free or `f` refuses the
/// object's kind. `f` must not call [`put`] or [`with`] (the table is borrowed meanwhile).
pub(crate) fn with<R>(handle: u32, f: impl FnOnce(&mut Obj) -> Option<R>) -> Option<R> {
    TABLE.with(|table| {
        table
            .borrow_mut()
            .get_mut(handle as usize)
            .and_then(Option::as_mut)
            .and_then(f)
    })
}

/// Runs `f` on the object of one kind behind a handle: `get!(h, Catalog, |c| c.name())`.
macro_rules! get {
    ($handle:expr, $kind:ident, |$obj:ident| $body:expr) => {
        $crate::table::with($handle, |o| match o {
            $crate::table::Obj::$kind($obj) => Some($body),
            #[allow(unreachable_patterns)]
            _ => None,
        })
    };
}
pub(crate) use get;

/// A JSON list of values converted with `Value::from` (not `json!`, whose per-type serialisers
/// cost the size-budgeted module several KB).
macro_rules! list {
    ($($item:expr),* $(,)?) => {
        serde_json::Value::Array(vec![$(serde_json::Value::from($item)),*])
    };
}
pub(crate) use list;

/// Frees a handle (a no-op for a free one).
#[wasm_bindgen]
pub fn free(handle: u32) {
    // Taken out first, dropped after the table's borrow ends.
    let obj = TABLE.with(|table| {
        table
            .borrow_mut()
            .get_mut(handle as usize)
            .and_then(Option::take)
    });
    drop(obj);
}

/// An error as text: `"\u{1}code\u{1}message"`; the JS layer throws it as an `EntitlementsError`.
/// No success result starts with U+0001: they are handles, JSON or empty.
pub(crate) fn fail(code: &str, message: &str) -> String {
    let mut text = String::with_capacity(code.len() + message.len() + 2);
    text.push('\u{1}');
    text.push_str(code);
    text.push('\u{1}');
    text.push_str(message);
    text
}

/// A core error as text.
pub(crate) fn error(e: &core::Error) -> String {
    fail(e.code().as_str(), e.message())
}

/// The error for a handle that is free or of the wrong kind (the JS layer checks both first).
pub(crate) fn stale() -> String {
    fail(
        core::ErrorCode::InvalidInput.as_str(),
        "the object was freed or is of another kind",
    )
}

/// JSON text of a value.
pub(crate) fn text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A result as text: JSON, or the error.
pub(crate) fn json_or_error(result: Result<Value, core::Error>) -> String {
    match result {
        Ok(value) => text(&value),
        Err(e) => error(&e),
    }
}

/// A new object's handle as text, or the error.
pub(crate) fn handle_or_error(result: Result<Obj, core::Error>) -> String {
    match result {
        Ok(obj) => put(obj).to_string(),
        Err(e) => error(&e),
    }
}

/// `Some` of a JS number of seconds (already checked to be whole and finite by the JS layer).
pub(crate) fn seconds(value: f64) -> i64 {
    value as i64
}
