//! SPEC §1.3's license sources read from the real process environment by
//! `license_token_from_env` (the `_with` variant is tested with an injected lookup in the
//! crate). One test: it sets process-wide variables, so nothing else runs in this binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use dev_health_entitlements::license_token_from_env;

#[test]
fn the_license_comes_from_dev_health_license_then_license_key() {
    for name in [
        "DEV_HEALTH_LICENSE",
        "LICENSE_KEY",
        "DEV_HEALTH_LICENSE_FILE",
    ] {
        std::env::remove_var(name);
    }
    assert_eq!(license_token_from_env().unwrap(), None);
    std::env::set_var("LICENSE_KEY", " legacy.token \n");
    assert_eq!(
        license_token_from_env().unwrap().as_deref(),
        Some("legacy.token")
    );
    std::env::set_var("DEV_HEALTH_LICENSE", "a.b.c");
    assert_eq!(license_token_from_env().unwrap().as_deref(), Some("a.b.c"));
}
