//! The hot paths of `Entitlements#has` and `Entitlements#can`, written against raw Node-API.
//!
//! napi-rs' generated method glue guards every call (receiver unwrap, class identity checks, a
//! native-borrow scope with locks): several hundred nanoseconds, far more than the lookup itself.
//! `has` and `can` are the calls a host makes on every request and every rendered gate, so each
//! `Entitlements` object gets its own `has` and `can` functions whose callback data is a shared
//! pointer to the resolved entitlements: no receiver to unwrap, nothing to check but the
//! arguments, no allocation for keys of up to 123 bytes. The answers are still core's
//! `Entitlements::has` and `Entitlements::can`.
//!
//! Safety argument: the callback data is an `Arc<core::Entitlements>` turned into a raw pointer
//! when the function is created and released by the function's finalizer, so it outlives every
//! call of the function, wherever the function is copied to. The entitlements are immutable.

#![allow(unsafe_code)]

use std::ffi::{c_void, CStr};
use std::os::raw::c_char;
use std::ptr;
use std::sync::Arc;

use dev_health_entitlements as core;
use napi::bindgen_prelude::{JsValue, Object};
use napi::{sys, Env, Status};

const STACK_KEY_BYTES: usize = 128;
const UTF8_MAX_CHAR_BYTES: usize = 4;

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Defines `has` and `can` on `target` (non-enumerable, read-only), answering from
/// `entitlements`.
pub(crate) fn install(
    env: &Env,
    target: &Object,
    entitlements: &Arc<core::Entitlements>,
) -> napi::Result<()> {
    define(env, target, entitlements, c"has", has_callback)?;
    define(env, target, entitlements, c"can", can_callback)
}

fn define(
    env: &Env,
    target: &Object,
    entitlements: &Arc<core::Entitlements>,
    name: &CStr,
    callback: Callback,
) -> napi::Result<()> {
    let raw_env = env.raw();
    let data = Arc::into_raw(Arc::clone(entitlements)) as *mut c_void;
    let mut function = ptr::null_mut();
    // SAFETY: valid env; `data` is a live Arc pointer released only by `release` below.
    let status = unsafe {
        sys::napi_create_function(
            raw_env,
            name.as_ptr(),
            // -1 is NAPI_AUTO_LENGTH (NUL-terminated), never reached for our short names.
            isize::try_from(name.to_bytes().len()).unwrap_or(-1),
            Some(callback),
            data,
            &mut function,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the function was not created, so nothing else owns `data`.
        unsafe { drop(Arc::from_raw(data as *const core::Entitlements)) };
        return Err(failed(status, "create"));
    }
    // SAFETY: the finalizer runs once, when the function is collected, and releases `data`.
    let status = unsafe {
        sys::napi_add_finalizer(
            raw_env,
            function,
            data,
            Some(release),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        // The function exists but will never release `data`: leak it rather than risk a
        // dangling pointer (this only happens when the engine is out of memory).
        return Err(failed(status, "finalize"));
    }
    let property = sys::napi_property_descriptor {
        utf8name: name.as_ptr(),
        name: ptr::null_mut(),
        method: None,
        getter: None,
        setter: None,
        value: function,
        attributes: sys::PropertyAttributes::default,
        data: ptr::null_mut(),
    };
    // SAFETY: `target` is a live object of this env; one descriptor.
    let status = unsafe { sys::napi_define_properties(raw_env, target.raw(), 1, &property) };
    if status != sys::Status::napi_ok {
        return Err(failed(status, "define"));
    }
    Ok(())
}

fn failed(status: sys::napi_status, what: &str) -> napi::Error {
    napi::Error::new(
        Status::from(status),
        format!("cannot {what} a lookup function"),
    )
}

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` came from `Arc::into_raw` in `define`; the finalizer runs once.
    unsafe { drop(Arc::from_raw(data as *const core::Entitlements)) };
}

/// The entitlements and the first `N` arguments of a call of one of our functions.
///
/// # Safety
/// `env` and `info` must be those Node-API passed to the callback.
unsafe fn call_info<'a, const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Option<(&'a core::Entitlements, [sys::napi_value; N])> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let mut data = ptr::null_mut();
    // SAFETY: valid env and callback info; argv holds N values (missing ones are `undefined`).
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if status != sys::Status::napi_ok || data.is_null() {
        return None;
    }
    // SAFETY: `data` is the Arc pointer of `define`, alive while the function is.
    Some((unsafe { &*(data as *const core::Entitlements) }, argv))
}

/// Calls `f` with the UTF-8 text of a JS string: from a stack buffer when it fits, else from the
/// heap. `None` when the value is not a string.
fn with_str<R>(env: sys::napi_env, value: sys::napi_value, f: impl FnOnce(&str) -> R) -> Option<R> {
    let mut buffer = [0u8; STACK_KEY_BYTES];
    let mut len = 0usize;
    // SAFETY: the buffer is STACK_KEY_BYTES long; Node-API writes at most that many bytes
    // (including the terminating NUL) and reports the length written without it.
    let status = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            value,
            buffer.as_mut_ptr() as *mut c_char,
            STACK_KEY_BYTES,
            &mut len,
        )
    };
    if status != sys::Status::napi_ok {
        return None;
    }
    // Node-API writes only whole UTF-8 sequences, so a cut string can leave up to 3 of the 127
    // content bytes unused (124 bytes, then a 4-byte character that did not fit). Only a text
    // with room for one more 4-byte character after it is surely whole.
    if len + UTF8_MAX_CHAR_BYTES < STACK_KEY_BYTES {
        let text = buffer
            .get(..len)
            .and_then(|b| std::str::from_utf8(b).ok())?;
        Some(f(text))
    } else {
        // Possibly truncated: read the whole string.
        read_long_string(env, value).map(|text| f(&text))
    }
}

fn read_long_string(env: sys::napi_env, value: sys::napi_value) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: a null buffer asks only for the length.
    let status =
        unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) };
    if status != sys::Status::napi_ok {
        return None;
    }
    let mut bytes = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `bytes` holds len + 1 bytes, room for the string and its NUL.
    let status = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            value,
            bytes.as_mut_ptr() as *mut c_char,
            bytes.len(),
            &mut written,
        )
    };
    if status != sys::Status::napi_ok {
        return None;
    }
    bytes.truncate(written);
    String::from_utf8(bytes).ok()
}

fn boolean(env: sys::napi_env, value: bool) -> sys::napi_value {
    let mut result = ptr::null_mut();
    // SAFETY: valid env.
    unsafe { sys::napi_get_boolean(env, value, &mut result) };
    result
}

fn throw_type_error(env: sys::napi_env, message: &CStr) -> sys::napi_value {
    // SAFETY: valid env and NUL-terminated message.
    unsafe { sys::napi_throw_type_error(env, ptr::null(), message.as_ptr()) };
    ptr::null_mut()
}

unsafe extern "C" fn has_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with its env and callback info.
    let Some((entitlements, [feature])) = (unsafe { call_info::<1>(env, info) }) else {
        return throw_type_error(env, c"has() was called without its entitlements");
    };
    match with_str(env, feature, |key| entitlements.has(key)) {
        Some(allowed) => boolean(env, allowed),
        None => throw_type_error(env, c"has(feature): feature must be a string"),
    }
}

unsafe extern "C" fn can_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with its env and callback info.
    let Some((entitlements, [role, permission])) = (unsafe { call_info::<2>(env, info) }) else {
        return throw_type_error(env, c"can() was called without its entitlements");
    };
    let allowed = with_str(env, role, |role| {
        with_str(env, permission, |permission| {
            entitlements.can(role, permission)
        })
    });
    match allowed {
        Some(Some(allowed)) => boolean(env, allowed),
        _ => throw_type_error(env, c"can(role, permission): both must be strings"),
    }
}
