//! Variant C: no wasm-bindgen. One `call` export over a shared input buffer (UTF-8 strings, their
//! lengths as arguments) and an output buffer; strings out are returned as a length.
use std::cell::RefCell;

use crate::handles as h;

thread_local! {
    static IN: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A buffer of `len` bytes for the JS side to write the call's strings into.
#[no_mangle]
pub extern "C" fn buf(len: usize) -> *mut u8 {
    IN.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr()
    })
}

/// Where the last string result is.
#[no_mangle]
pub extern "C" fn out() -> *const u8 {
    OUT.with(|o| o.borrow().as_ptr())
}

fn s(r: String) -> f64 {
    let n = r.len();
    OUT.with(|o| *o.borrow_mut() = r);
    n as f64
}

/// `op` as in handles.rs; strings: s1 = input[..l1], s2 = [l1..l1+l2], s3 = the rest.
#[no_mangle]
pub extern "C" fn call(op: u32, a: u32, b: i32, x: f64, y: f64, flags: u32, l1: usize, l2: usize) -> f64 {
    let input = IN.with(|i| std::mem::take(&mut *i.borrow_mut()));
    let text = std::str::from_utf8(&input).unwrap_or_default();
    let (s1, rest) = text.split_at(l1);
    let (s2, s3) = rest.split_at(l2);
    let f = |bit: u32| flags & bit != 0;
    let opt = |bit: u32, v: &str| f(bit).then(|| v.to_owned());
    match op {
        0 => s(h::keyring(a, s1)),
        1 => s(h::keyring_add(a, s1, s2)),
        2 => s(h::keyring_jwks(a)),
        3 => f64::from(h::verifier(
            a,
            opt(1, s1),
            f(2).then_some(x),
            f(4).then_some(f(8)),
            opt(16, s2),
            f(32).then_some(y),
        )),
        4 => {
            h::verifier_set(a, flags, b as u32);
            0.0
        }
        5 => s(h::verify(a, s1, x)),
        6 => h::num(a, b as u32, x),
        7 => s(h::revocation(s1, a, opt(1, s2), x)),
        8 => f64::from(u8::from(h::contains(a, s1))),
        9 => s(h::inspect(s1)),
        10 => s(h::catalog(a, s1)),
        11 => s(h::catalog_info(a)),
        12 => s(h::permissions(a, s1)),
        13 => f64::from(u8::from(h::can(a, s1, s2))),
        14 => s(h::resolve(a, b, s1, x)),
        15 => s(h::entitlements_from_json(a, s1)),
        16 => s(h::query(a, b as u32, s1)),
        17 => h::limit(a, s1, x, b as u32),
        18 => s(h::gate(a, s1, opt(1, s2), opt(2, s3))),
        20 => s(h::license_json(a)),
        _ => {
            h::free(a);
            0.0
        }
    }
}
