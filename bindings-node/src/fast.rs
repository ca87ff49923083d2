//! The hot path of `Entitlements#has`, written against raw Node-API.
//!
//! napi-rs' generated method glue guards every call (receiver unwrap, class identity checks, a
//! native-borrow scope with locks): several hundred nanoseconds, far more than the lookup itself.
//! `has` is the call a host makes on every request and every rendered gate, so each
//! `Entitlements` object gets its own `has` function whose callback data is a shared pointer to
//! the resolved entitlements: no receiver to unwrap, nothing to check but the argument, no
//! allocation for feature keys of up to 127 bytes. The answer is still core's
//! `Entitlements::has`.
//!
//! Safety argument: the callback data is an `Arc<core::Entitlements>` turned into a raw pointer
//! when the function is created and released by the function's finalizer, so it outlives every
//! call of the function, wherever the function is copied to. The entitlements are immutable.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::os::raw::c_char;
use std::ptr;
use std::sync::Arc;

use dev_health_entitlements as core;
use napi::bindgen_prelude::{JsValue, Object};
use napi::{sys, Env, Status};

const STACK_KEY_BYTES: usize = 128;

/// Defines `has` on `target` (non-enumerable, read-only) answering from `entitlements`.
pub(crate) fn install_has(
    env: &Env,
    target: &Object,
    entitlements: &Arc<core::Entitlements>,
) -> napi::Result<()> {
    let raw_env = env.raw();
    let data = Arc::into_raw(Arc::clone(entitlements)) as *mut c_void;
    let mut function = ptr::null_mut();
    // SAFETY: valid env; `data` is a live Arc pointer released only by `release` below.
    let status = unsafe {
        sys::napi_create_function(
            raw_env,
            c"has".as_ptr(),
            3,
            Some(has_callback),
            data,
            &mut function,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the function was not created, so nothing else owns `data`.
        unsafe { drop(Arc::from_raw(data as *const core::Entitlements)) };
        return Err(napi::Error::new(
            Status::from(status),
            "cannot create has()",
        ));
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
        return Err(napi::Error::new(
            Status::from(status),
            "cannot finalize has()",
        ));
    }
    let property = sys::napi_property_descriptor {
        utf8name: c"has".as_ptr(),
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
        return Err(napi::Error::new(
            Status::from(status),
            "cannot define has()",
        ));
    }
    Ok(())
}

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` came from `Arc::into_raw` in `install_has`; the finalizer runs once.
    unsafe { drop(Arc::from_raw(data as *const core::Entitlements)) };
}

unsafe extern "C" fn has_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut argc = 1usize;
    let mut argv = [ptr::null_mut(); 1];
    let mut data = ptr::null_mut();
    // SAFETY: called by Node-API with a valid env and callback info.
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
        return throw_type_error(env, c"has() was called without its entitlements");
    }
    // SAFETY: `data` is the Arc pointer of `install_has`, alive while this function is.
    let entitlements = unsafe { &*(data as *const core::Entitlements) };
    let [feature] = argv;

    let mut buffer = [0u8; STACK_KEY_BYTES];
    let mut len = 0usize;
    // SAFETY: the buffer is STACK_KEY_BYTES long; Node-API writes at most that many bytes
    // (including the terminating NUL) and reports the length written without it.
    let status = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            feature,
            buffer.as_mut_ptr() as *mut c_char,
            STACK_KEY_BYTES,
            &mut len,
        )
    };
    if status != sys::Status::napi_ok {
        return throw_type_error(env, c"has(feature): feature must be a string");
    }
    let allowed = if len + 1 < STACK_KEY_BYTES {
        buffer
            .get(..len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .is_some_and(|key| entitlements.has(key))
    } else {
        // Possibly truncated: read the whole key.
        match read_long_string(env, feature) {
            Some(key) => entitlements.has(&key),
            None => return throw_type_error(env, c"has(feature): feature must be a string"),
        }
    };
    let mut result = ptr::null_mut();
    // SAFETY: valid env.
    unsafe { sys::napi_get_boolean(env, allowed, &mut result) };
    result
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

fn throw_type_error(env: sys::napi_env, message: &std::ffi::CStr) -> sys::napi_value {
    // SAFETY: valid env and NUL-terminated message.
    unsafe { sys::napi_throw_type_error(env, ptr::null(), message.as_ptr()) };
    ptr::null_mut()
}
