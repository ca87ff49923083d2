//! `sessions.json`: user session tokens (contract §5): EdDSA, HS256 only with a configured secret,
//! `exp` required, and the claims `{sub, email, org_id, role, is_superuser?}`.

use dev_health_entitlements::issue::sign_v1;
use dev_health_entitlements::{Error, Keyring, Session, SessionVerifier, Tier};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::*;

const SECRET: &str = "session-secret-of-at-least-32-bytes!";
const EXP: i64 = T + 3600;

fn hs256(header: &str, claims: &Value, secret: &[u8]) -> Res<String> {
    let input = format!(
        "{}.{}",
        b64u(header.as_bytes()),
        b64u(claims.to_string().as_bytes())
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)?;
    mac.update(input.as_bytes());
    Ok(format!("{input}.{}", b64u(&mac.finalize().into_bytes())))
}

/// Verifies as a binding would from the case's JSON.
pub fn engine(
    jwks: &Value,
    secret: Option<&str>,
    token: &str,
    now: i64,
) -> Res<Result<Session, Error>> {
    let verifier = SessionVerifier::new(Keyring::from_jwks(&jwks.to_string())?)
        .with_hs256_secret(secret.map(str::as_bytes))?;
    Ok(verifier.verify(token, now))
}

/// name, description, JWKS, HS256 secret, token, now, and the answer by hand.
type Row<'a> = (
    &'a str,
    &'a str,
    &'a Value,
    Option<&'a str>,
    String,
    i64,
    Want,
);

enum Want {
    Error(&'static str),
    User(&'static str, bool),
}

/// Every session vector.
pub fn cases(k: &Keys) -> Res<Vec<Case>> {
    let jwks_doc = jwks(vec![k.session.jwk()]);
    let two_keys = jwks(vec![k.session.jwk(), k.one.jwk()]);
    let user = |role: &str, superuser: Option<bool>| {
        let mut c = json!({"sub": "user_42", "email": "ada@acme.example", "org_id": ORG, "role": role, "iat": T - 60, "exp": EXP});
        if let (Some(s), Some(o)) = (superuser, c.as_object_mut()) {
            o.insert("is_superuser".into(), s.into());
        }
        c
    };
    let without = |name: &str| {
        let mut c = user("admin", None);
        if let Some(o) = c.as_object_mut() {
            o.remove(name);
        }
        c
    };
    let eddsa = r#"{"alg":"EdDSA","typ":"JWT","kid":"session-1"}"#;
    let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
    let signed = |c: Value| raw(c, &k.session);
    let license = v2(
        &claims(Tier::Enterprise, "lic_as_session", T - 60, EXP),
        &k.session,
    )?;
    let v1_license = sign_v1(
        &claims(Tier::Team, "lic_v1_as_session", T - 60, EXP),
        &k.session.key,
    )?;

    let list: Vec<Row<'_>> = vec![
        ("eddsa_admin", "An EdDSA session for an admin verifies and yields its claims; is_superuser defaults to false.", &jwks_doc, None, signed(user("admin", None))?, T, Want::User("admin", false)),
        ("eddsa_superuser", "is_superuser true is carried through.", &jwks_doc, None, signed(user("viewer", Some(true)))?, T, Want::User("viewer", true)),
        ("eddsa_superuser_false", "is_superuser false is carried through.", &jwks_doc, None, signed(user("owner", Some(false)))?, T, Want::User("owner", false)),
        ("eddsa_unknown_role_still_verifies", "A role the catalog does not know still verifies (RBAC then grants it nothing).", &jwks_doc, None, signed(user("guest", None))?, T, Want::User("guest", false)),
        ("eddsa_at_exp", "A session is valid at now == exp.", &jwks_doc, None, signed(user("admin", None))?, EXP, Want::User("admin", false)),
        ("eddsa_exp_within_leeway", "60 s after exp the session is still accepted (60 s leeway).", &jwks_doc, None, signed(user("admin", None))?, EXP + 60, Want::User("admin", false)),
        ("eddsa_expired", "61 s after exp the session is session_expired.", &jwks_doc, None, signed(user("admin", None))?, EXP + 61, Want::Error("session_expired")),
        ("eddsa_expired_long_ago", "A day after exp the session is session_expired.", &jwks_doc, None, signed(user("admin", None))?, EXP + 86_400, Want::Error("session_expired")),
        ("eddsa_wrong_key", "Signed by another key under the session kid: invalid_signature.", &jwks_doc, None, jws_by_hand(eddsa, user("admin", None).to_string().as_bytes(), &k.two), T, Want::Error("invalid_signature")),
        ("eddsa_unknown_kid", "A kid that names no session key is unknown_key_id.", &jwks_doc, None, raw(user("admin", None), &k.one)?, T, Want::Error("unknown_key_id")),
        ("eddsa_second_key", "A session signed by the second configured key verifies.", &two_keys, None, raw(user("editor", None), &k.one)?, T, Want::User("editor", false)),
        ("eddsa_tampered_role", "The claims re-encoded with role owner under the original signature: invalid_signature.", &jwks_doc, None, tamper(&signed(user("viewer", None))?, &user("owner", None))?, T, Want::Error("invalid_signature")),
        ("missing_exp", "exp is required: a session without it is invalid_claims.", &jwks_doc, None, signed(without("exp"))?, T, Want::Error("invalid_claims")),
        ("missing_role", "A session without role is invalid_claims.", &jwks_doc, None, signed(without("role"))?, T, Want::Error("invalid_claims")),
        ("missing_org_id", "A session without org_id is invalid_claims.", &jwks_doc, None, signed(without("org_id"))?, T, Want::Error("invalid_claims")),
        ("missing_email", "A session without email is invalid_claims.", &jwks_doc, None, signed(without("email"))?, T, Want::Error("invalid_claims")),
        ("missing_sub", "A session without sub is invalid_claims.", &jwks_doc, None, signed(without("sub"))?, T, Want::Error("invalid_claims")),
        ("superuser_not_bool", "is_superuser \"yes\" is invalid_claims.", &jwks_doc, None, signed({ let mut c = user("admin", None); if let Some(o) = c.as_object_mut() { o.insert("is_superuser".into(), "yes".into()); } c })?, T, Want::Error("invalid_claims")),
        ("nbf_in_future", "A session whose nbf is an hour ahead is not_yet_valid.", &jwks_doc, None, signed({ let mut c = user("admin", None); if let Some(o) = c.as_object_mut() { o.insert("nbf".into(), (T + 3600).into()); } c })?, T, Want::Error("not_yet_valid")),
        ("exp_not_integer", "exp with a fraction is invalid_claims.", &jwks_doc, None, signed({ let mut c = user("admin", None); if let Some(o) = c.as_object_mut() { o.insert("exp".into(), json!(1_800_003_600.5)); } c })?, T, Want::Error("invalid_claims")),
        ("hs256_with_secret", "An HS256 session verifies where a shared secret is configured.", &jwks_doc, Some(SECRET), hs256(hs, &user("member", None), SECRET.as_bytes())?, T, Want::User("member", false)),
        ("hs256_without_secret", "Without a configured secret HS256 is unsupported_algorithm.", &jwks_doc, None, hs256(hs, &user("admin", None), SECRET.as_bytes())?, T, Want::Error("unsupported_algorithm")),
        ("hs256_wrong_secret", "An HS256 session made with another secret is invalid_signature.", &jwks_doc, Some(SECRET), hs256(hs, &user("admin", None), b"another-secret-that-is-32-bytes-long")?, T, Want::Error("invalid_signature")),
        ("hs256_keyed_with_public_key", "Algorithm confusion: HS256 keyed with the Ed25519 public key is refused (unsupported_algorithm without a secret).", &jwks_doc, None, hs256(hs, &user("owner", Some(true)), &k.session.key.public_key().to_bytes())?, T, Want::Error("unsupported_algorithm")),
        ("hs256_keyed_with_public_key_secret_set", "Algorithm confusion with a secret configured: the HMAC does not match, invalid_signature.", &jwks_doc, Some(SECRET), hs256(hs, &user("owner", Some(true)), &k.session.key.public_key().to_bytes())?, T, Want::Error("invalid_signature")),
        ("hs256_expired", "An HS256 session past exp + leeway is session_expired.", &jwks_doc, Some(SECRET), hs256(hs, &user("admin", None), SECRET.as_bytes())?, EXP + 61, Want::Error("session_expired")),
        ("eddsa_with_secret_configured", "Configuring an HS256 secret does not stop EdDSA sessions.", &jwks_doc, Some(SECRET), signed(user("admin", None))?, T, Want::User("admin", false)),
        ("alg_none", "alg none is unsupported_algorithm.", &jwks_doc, Some(SECRET), format!("{}.{}.", b64u(br#"{"alg":"none"}"#), b64u(user("owner", None).to_string().as_bytes())), T, Want::Error("unsupported_algorithm")),
        ("alg_rs256", "alg RS256 is unsupported_algorithm.", &jwks_doc, None, jws_by_hand(r#"{"alg":"RS256","typ":"JWT","kid":"session-1"}"#, user("admin", None).to_string().as_bytes(), &k.session), T, Want::Error("unsupported_algorithm")),
        ("license_token_as_session", "A v2 license token (even one signed by a session key) is not a session: invalid_claims.", &jwks_doc, None, license, T, Want::Error("invalid_claims")),
        ("v1_license_as_session", "A v1 license token is not a JWS at all: malformed_token.", &jwks_doc, None, v1_license, T, Want::Error("malformed_token")),
        ("not_a_token", "Random text is malformed_token.", &jwks_doc, None, "Bearer abc".to_owned(), T, Want::Error("malformed_token")),
        ("too_large", "A session token over 16 KiB is token_too_large.", &jwks_doc, None, signed({ let mut c = user("admin", None); if let Some(o) = c.as_object_mut() { o.insert("pad".into(), "x".repeat(13_000).into()); } c })?, T, Want::Error("token_too_large")),
    ];
    let mut out = Vec::new();
    for (name, description, jwks_doc, secret, token, now, want) in list {
        let result = engine(jwks_doc, secret, &token, now)?;
        let expect = match (&want, &result) {
            (Want::Error(code), Err(e)) => {
                agree(name, "error", e.code().as_str(), code)?;
                json!({"error": e.code().as_str()})
            }
            (Want::User(role, superuser), Ok(s)) => {
                agree(
                    name,
                    "session",
                    (
                        s.sub.as_str(),
                        s.email.as_str(),
                        s.org_id.as_str(),
                        s.role.as_str(),
                        s.is_superuser,
                    ),
                    ("user_42", "ada@acme.example", ORG, *role, *superuser),
                )?;
                json!({"sub": s.sub, "email": s.email, "org_id": s.org_id, "role": s.role, "is_superuser": s.is_superuser})
            }
            (Want::Error(code), Ok(_)) => {
                return Err(format!(
                    "vector {name}: the contract says {code}, the engine accepted the session"
                )
                .into())
            }
            (Want::User(..), Err(e)) => {
                return Err(
                    format!("vector {name}: the contract says valid, the engine says {e}").into(),
                )
            }
        };
        let mut body = json!({"jwks": jwks_doc, "token": token, "now": now, "expect": expect});
        if let (Some(s), Some(o)) = (secret, body.as_object_mut()) {
            o.insert("hs256_secret".into(), s.into());
        }
        out.push(Case::new(format!("session_{name}"), description, body)?);
    }
    Ok(out)
}

fn tamper(token: &str, claims: &Value) -> Res<String> {
    let (h, _, s) = segments(token)?;
    Ok(format!("{h}.{}.{s}", b64u(claims.to_string().as_bytes())))
}
