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

/// A handle as JS holds it: a slot index (low 21 bits) and the slot's generation (the 32 bits
/// above), so that a handle kept after `free` can never reach the slot's next object. Whole numbers
/// below 2^53, exact in a JS number.
pub(crate) type Handle = f64;

const INDEX_BITS: u32 = 21;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

struct Slot {
    generation: u32,
    /// Boxed: taking it out and putting it back moves a pointer.
    obj: Option<Box<Obj>>,
}

/// The objects JS holds, and the free slots (reused last-freed first).
struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

thread_local! {
    /// wasm32 has one thread: the table is the module's. It is borrowed only for a moment (never
    /// while the core runs), and always with `try_borrow_mut`: if a trap (out of memory) ever
    /// interrupted a borrow, later calls answer "freed", rather than trapping for good.
    static TABLE: RefCell<Table> = const {
        RefCell::new(Table { slots: Vec::new(), free: Vec::new() })
    };
}

fn split(handle: Handle) -> (usize, u32) {
    // A saturating cast: NaN, negative or huge numbers land on slots or generations that do not
    // match, and read as freed.
    let bits = handle as u64;
    ((bits & INDEX_MASK) as usize, (bits >> INDEX_BITS) as u32)
}

/// A new handle, as an integer (JSON and text carry it without Rust's float printer).
fn join(index: usize, generation: u32) -> u64 {
    (u64::from(generation) << INDEX_BITS) | index as u64
}

/// The error text of a full (or unusable) table.
fn table_full() -> String {
    fail(
        core::ErrorCode::InvalidInput.as_str(),
        "too many objects alive in the module: free() the ones no longer needed",
    )
}

/// Stores `obj` and returns its handle, or the error text when 2^21 objects are alive.
pub(crate) fn put(obj: Obj) -> Result<u64, String> {
    let obj = Box::new(obj);
    TABLE.with(|table| {
        let Ok(mut table) = table.try_borrow_mut() else {
            return Err(table_full());
        };
        if let Some(index) = table.free.pop() {
            if let Some(slot) = table.slots.get_mut(index as usize) {
                slot.obj = Some(obj);
                return Ok(join(index as usize, slot.generation));
            }
        }
        let index = table.slots.len();
        if index as u64 > INDEX_MASK {
            return Err(table_full());
        }
        table.slots.push(Slot {
            generation: 0,
            obj: Some(obj),
        });
        Ok(join(index, 0))
    })
}

/// Runs `f` on the object behind `handle`; `None` when the handle was freed or `f` refuses the
/// object's kind. The object is taken out of the table while `f` runs (a nested call on the same
/// handle sees it as freed) and put back afterwards.
pub(crate) fn with<R>(handle: Handle, f: impl FnOnce(&mut Obj) -> Option<R>) -> Option<R> {
    let (index, mut obj) = take(handle)?;
    let result = f(&mut obj);
    restore(index, obj);
    result
}

/// Takes the object behind a live handle out of its slot. Not generic, not inlined: one copy for
/// every export (the module's size is budgeted).
#[inline(never)]
fn take(handle: Handle) -> Option<(usize, Box<Obj>)> {
    let (index, generation) = split(handle);
    TABLE.with(|table| {
        let mut table = table.try_borrow_mut().ok()?;
        let slot = table.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        Some((index, slot.obj.take()?))
    })
}

/// Puts an object taken by [`take`] back (dropped if the table is unusable).
#[inline(never)]
fn restore(index: usize, obj: Box<Obj>) {
    TABLE.with(|table| {
        if let Ok(mut table) = table.try_borrow_mut() {
            if let Some(slot) = table.slots.get_mut(index) {
                slot.obj = Some(obj);
            }
        }
    });
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

/// Frees a handle (a no-op for one already freed). The slot's generation moves on, so the handle
/// can never reach the slot's next object.
#[wasm_bindgen]
pub fn free(handle: Handle) {
    let (index, generation) = split(handle);
    // Taken out first, dropped after the table's borrow ends.
    let obj = TABLE.with(|table| {
        let mut table = table.try_borrow_mut().ok()?;
        let slot = table.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.generation = slot.generation.wrapping_add(1);
        let obj = slot.obj.take();
        table.free.push(index as u32);
        obj
    });
    drop(obj);
}

/// An error as text: `"\u{1}code\u{1}message"`; the JS layer throws it as an `EntitlementsError`.
/// No success result starts with U+0001: they are handles, JSON or empty. (The message itself may
/// hold U+0001: it is everything after the second one.)
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
    match result.map_err(|e| error(&e)).and_then(put) {
        Ok(handle) => handle.to_string(),
        Err(text) => text,
    }
}

/// `Some` of a JS number of seconds (already checked to be whole and finite by the JS layer).
pub(crate) fn seconds(value: f64) -> i64 {
    value as i64
}
