//! The server's calls to the Stripe API: a small typed client over hyper (already in the server
//! for its HTTP/1 listener) with rustls, sending form-encoded requests as Stripe's API expects.
//!
//! Why not async-stripe 1.x: the server makes five calls (create a customer, a Checkout Session
//! and a Customer Portal session, read a price, list a customer's subscriptions) and reads a
//! handful of fields of each answer. async-stripe's generated resource crates (core, checkout,
//! billing) took minutes of extra compile time on CI's 2 cores for those five calls (figure in
//! docs/billing.md), and 1.x is still a release candidate needing Rust 1.89. This client adds
//! hyper's client half, hyper-rustls and tokio-rustls (small; rustls itself is already built for
//! PostgreSQL TLS).
//!
//! Every call sends `Authorization: Bearer <secret key>`, the pinned `Stripe-Version`, and an
//! `Idempotency-Key` (the same on each retry, so a retried POST cannot create twice); each attempt
//! has a timeout, and connection failures, timeouts, 409 (lock timeout), 429 and 5xx are retried a
//! bounded number of times with backoff. Errors never carry the secret key: it is never put in a
//! message, and anything in Stripe's answer that looks like an API key is masked.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::config::Secret;

/// The API version the server speaks (requests and the shapes it reads): subscription items carry
/// `current_period_end`, invoices name their subscription under `parent.subscription_details`.
pub const STRIPE_VERSION: &str = "2025-03-31.basil";
/// Stripe's API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// The time one attempt may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts after the first one.
const RETRIES: u32 = 2;
/// The first backoff; doubled after each attempt.
const BACKOFF: Duration = Duration::from_millis(300);
/// The largest answer read (Stripe's objects are a few KiB; a list of 100 subscriptions is less
/// than a MiB).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// A failed call. `Display` is what the API's caller sees in a 502 `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeError {
    /// Stripe answered with an error (after retries, for the retryable ones).
    Api {
        /// The HTTP status.
        status: u16,
        /// Stripe's `error.code` or `error.type`.
        code: Option<String>,
        /// Stripe's `error.message`, keys masked.
        message: String,
    },
    /// No answer: connection refused, TLS failure, timeout (after retries).
    Unreachable(String),
    /// An answer that is not the JSON object expected.
    BadAnswer(String),
}

impl std::fmt::Display for StripeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StripeError::Api {
                status,
                code: Some(code),
                message,
            } => write!(f, "Stripe answered {status} ({code}): {message}"),
            StripeError::Api {
                status, message, ..
            } => write!(f, "Stripe answered {status}: {message}"),
            StripeError::Unreachable(why) => write!(f, "Stripe could not be reached: {why}"),
            StripeError::BadAnswer(why) => write!(f, "Stripe's answer could not be read: {why}"),
        }
    }
}

/// The Stripe API client.
pub struct StripeApi {
    base: String,
    key: Secret,
    timeout: Duration,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi")
            .field("base", &self.base)
            .field("key", &self.key)
            .finish()
    }
}

impl StripeApi {
    /// A client of `base` (`https://api.stripe.com`, or a test double's `http://` address) with
    /// the secret key `key`. TLS trusts the operating system's roots.
    pub fn new(base: &str, key: Secret, timeout: Duration) -> Result<StripeApi, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("cannot load the system's TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(StripeApi {
            base: base.trim_end_matches('/').to_owned(),
            key,
            timeout,
            http,
        })
    }

    /// `POST {base}{path}` with a form body; `idempotency_key` is sent on every attempt.
    pub async fn post(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<Value, StripeError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.call(Method::POST, path, body, Some(idempotency_key))
            .await
    }

    /// `GET {base}{path}?{query}`.
    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value, StripeError> {
        let path = if query.is_empty() {
            path.to_owned()
        } else {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish();
            format!("{path}?{query}")
        };
        self.call(Method::GET, &path, String::new(), None).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: String,
        idempotency_key: Option<&str>,
    ) -> Result<Value, StripeError> {
        let mut backoff = BACKOFF;
        let mut attempt = 0;
        loop {
            let result = self
                .attempt(method.clone(), path, body.clone(), idempotency_key)
                .await;
            let retry = match &result {
                Ok(_) => false,
                Err(Attempt::Unreachable(_)) => true,
                Err(Attempt::Answer { retry, .. }) => *retry,
            };
            if !retry || attempt >= RETRIES {
                return result.map_err(|failure| failure.into_error(&self.key));
            }
            attempt += 1;
            tracing::warn!(
                %method, path = %path_only(path), attempt, "Stripe call failed; retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: String,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Attempt> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key.0))
            .header("Stripe-Version", STRIPE_VERSION)
            .header(
                header::USER_AGENT,
                concat!("dev-health-license/", env!("CARGO_PKG_VERSION")),
            )
            .header(header::ACCEPT, "application/json");
        if let Some(key) = idempotency_key {
            request = request
                .header("Idempotency-Key", key)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Attempt::Unreachable(format!("bad request: {e}")))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| Attempt::Unreachable(connection_error(&e)))?;
            let status = response.status();
            let should_retry = response
                .headers()
                .get("stripe-should-retry")
                .and_then(|v| v.to_str().ok())
                .map(|v| v == "true");
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| Attempt::Unreachable(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, Attempt>((status, should_retry, bytes))
        };
        let (status, should_retry, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
            Attempt::Unreachable(format!("no answer within {:?}", self.timeout))
        })??;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return match json {
                Some(value @ Value::Object(_)) => Ok(value),
                _ => Err(Attempt::Answer {
                    status,
                    retry: false,
                    json: None,
                }),
            };
        }
        let retryable = status == StatusCode::CONFLICT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error();
        Err(Attempt::Answer {
            status,
            retry: should_retry.unwrap_or(retryable),
            json,
        })
    }
}

/// How one attempt failed.
enum Attempt {
    Unreachable(String),
    Answer {
        status: StatusCode,
        retry: bool,
        json: Option<Value>,
    },
}

impl Attempt {
    fn into_error(self, key: &Secret) -> StripeError {
        match self {
            Attempt::Unreachable(why) => StripeError::Unreachable(mask_keys(&why, key)),
            Attempt::Answer {
                status, json: None, ..
            } if status.is_success() => {
                StripeError::BadAnswer(format!("status {} without a JSON object", status.as_u16()))
            }
            Attempt::Answer { status, json, .. } => {
                let error = json.as_ref().and_then(|j| j.get("error"));
                let text = |field: &str| {
                    error
                        .and_then(|e| e.get(field))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                StripeError::Api {
                    status: status.as_u16(),
                    code: text("code").or_else(|| text("type")),
                    message: mask_keys(
                        &text("message").unwrap_or_else(|| "no error message".to_owned()),
                        key,
                    ),
                }
            }
        }
    }
}

/// The path without its query (for logs).
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// A connection error's causes, joined (hyper's top-level message alone says only "client error").
fn connection_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

/// `text` with the secret key, and anything shaped like a Stripe API key (`sk_…`, `rk_…`), masked.
pub fn mask_keys(text: &str, key: &Secret) -> String {
    let text = if key.0.is_empty() {
        text.to_owned()
    } else {
        text.replace(&key.0, "[secret key]")
    };
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        if ["sk_", "rk_"].iter().any(|p| bare.starts_with(p)) && bare.len() > 8 {
            out.push_str(&word.replace(bare, "[api key]"));
        } else {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked_in_messages() {
        let key = Secret("sk_test_abcdefghijklmnop".to_owned());
        let masked = mask_keys(
            "Invalid API Key provided: sk_test_abcdefghijklmnop; also 'rk_live_0123456789xyz'.",
            &key,
        );
        assert!(!masked.contains("sk_test_abc"), "{masked}");
        assert!(!masked.contains("rk_live_0123"), "{masked}");
        assert!(masked.contains("Invalid API Key provided"), "{masked}");
        assert_eq!(
            mask_keys("No such price: 'price_1'", &key),
            "No such price: 'price_1'"
        );
    }

    #[test]
    fn errors_say_what_stripe_said() {
        let e = StripeError::Api {
            status: 400,
            code: Some("resource_missing".into()),
            message: "No such price".into(),
        };
        assert_eq!(
            e.to_string(),
            "Stripe answered 400 (resource_missing): No such price"
        );
    }
}
