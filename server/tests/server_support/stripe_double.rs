//! A double of the Stripe API for the server tests: an HTTP server on loopback that answers the
//! calls the license server makes with Stripe's own example objects (`server/tests/fixtures/stripe`,
//! from Stripe's `fixtures3.json`) adjusted to the request, and keeps the customers, Checkout
//! Sessions and subscriptions it made.
//!
//! It checks every call as Stripe would: `Authorization: Bearer <the secret key>` (else 401, with
//! the key echoed in the message as Stripe does partly, so the tests see that the server masks
//! it), the pinned `Stripe-Version`, an `Idempotency-Key` on every POST (a repeated key answers
//! the first answer again, as Stripe does), form-encoded parameters with the required ones present.
//! Every call is recorded for the tests to read.
//!
//! It "completes" a checkout as Stripe does after a payment: the subscription becomes active, an
//! invoice is paid, and the signed webhooks `checkout.session.completed`,
//! `customer.subscription.created` and `invoice.paid` are sent to the license server, in order or
//! shuffled, each retried until it is answered 2xx (bounded). Signatures come from the core's
//! `signature_header` (Stripe has no official Rust library; the Node end-to-end test signs with
//! the official `stripe` package).
// Refusals are axum responses returned as `Err`, by value, as the handlers answer them.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dev_health_entitlements::stripe::signature_header;
use serde_json::{json, Value};

use super::{http, now, Resp, DAY, WEBHOOK_SECRET};

/// The API version the server must send (server/src/serve/stripe_api.rs).
pub const STRIPE_VERSION: &str = "2025-03-31.basil";
/// The secret key the tests configure.
pub const SECRET_KEY: &str = "sk_test_double_0123456789abcdefghij";

fn fixture(name: &str) -> Value {
    let text = match name {
        "customer" => include_str!("../fixtures/stripe/customer.json"),
        "checkout.session" => include_str!("../fixtures/stripe/checkout_session.json"),
        "billing_portal.session" => include_str!("../fixtures/stripe/billing_portal_session.json"),
        "subscription" => include_str!("../fixtures/stripe/subscription.json"),
        "invoice" => include_str!("../fixtures/stripe/invoice.json"),
        "price" => include_str!("../fixtures/stripe/price.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// One call the double received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
    pub status: u16,
}

impl Call {
    /// The value of form parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Books {
    /// price id → interval.
    prices: BTreeMap<String, String>,
    customers: BTreeMap<String, Value>,
    sessions: BTreeMap<String, Value>,
    /// session id → (price, subscription metadata).
    session_terms: BTreeMap<String, (String, Value)>,
    subscriptions: BTreeMap<String, Value>,
    calls: Vec<Call>,
    /// Idempotency key → (request fingerprint, status, answer).
    replies: HashMap<String, (String, u16, Value)>,
    /// Statuses to answer the next calls with instead of serving them (e.g. 500 to test retries).
    failures: VecDeque<u16>,
    counter: u64,
}

impl Books {
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_dbl{:04}", self.counter)
    }
}

/// The running double, stopped when dropped.
pub struct StripeDouble {
    /// `http://127.0.0.1:<port>`, for `STRIPE_API_BASE`.
    pub base: String,
    books: Arc<Mutex<Books>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The order in which [`StripeDouble::complete_checkout`] sends its webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As Stripe usually does: checkout, subscription, invoice.
    AsStripe,
    /// Invoice, subscription, checkout: Stripe does not guarantee the order.
    Reversed,
    /// Nothing is delivered (an endpoint deleted, deliveries given up).
    Lost,
}

/// What a completed checkout made.
#[derive(Debug, Clone)]
pub struct Completed {
    pub subscription: String,
    pub customer: String,
    pub invoice: String,
    /// The events sent, in the order sent.
    pub events: Vec<Value>,
}

impl StripeDouble {
    /// Starts the double on a free loopback port, selling `prices` (id, interval).
    pub fn start(prices: &[(&str, &str)]) -> StripeDouble {
        let books = Arc::new(Mutex::new(Books {
            prices: prices
                .iter()
                .map(|(p, i)| ((*p).to_owned(), (*i).to_owned()))
                .collect(),
            ..Books::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let app = router(Arc::clone(&books));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
                    .unwrap();
            });
        });
        StripeDouble {
            base,
            books,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The environment that points the license server at this double.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("STRIPE_SECRET_KEY".into(), SECRET_KEY.into()),
            ("STRIPE_API_BASE".into(), self.base.clone()),
            ("STRIPE_API_TIMEOUT_SECS".into(), "10".into()),
        ]
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.books.lock().unwrap().calls.clone()
    }

    /// The calls to `path` (POSTs and GETs alike).
    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }

    /// Answers the next calls with these statuses (Stripe-shaped errors) instead of serving them.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.books.lock().unwrap().failures.extend(statuses);
    }

    /// A stored subscription.
    pub fn subscription(&self, id: &str) -> Value {
        self.books.lock().unwrap().subscriptions[id].clone()
    }

    /// A stored Checkout Session.
    pub fn session(&self, id: &str) -> Value {
        self.books.lock().unwrap().sessions[id].clone()
    }

    /// Pays checkout session `session_id` as its customer would, then sends the webhooks Stripe
    /// sends to the server at `server_addr` in `order`.
    pub fn complete_checkout(
        &self,
        session_id: &str,
        server_addr: &str,
        order: Order,
    ) -> Completed {
        let at = now();
        let period_end = at + 30 * DAY;
        let (session, subscription, invoice) = {
            let mut books = self.books.lock().unwrap();
            let (price, metadata) = books.session_terms[session_id].clone();
            let interval = books.prices[&price].clone();
            let customer = books.sessions[session_id]["customer"]
                .as_str()
                .unwrap()
                .to_owned();
            let sub_id = books.next_id("sub");
            let subscription = subscription_object(
                &sub_id, &customer, &price, &interval, &metadata, "active", at, period_end,
            );
            books
                .subscriptions
                .insert(sub_id.clone(), subscription.clone());
            let invoice_id = books.next_id("in");
            let invoice = invoice_object(&invoice_id, &subscription, "subscription_create", at);
            let session = books.sessions.get_mut(session_id).unwrap();
            session["status"] = json!("complete");
            session["payment_status"] = json!("paid");
            session["subscription"] = json!(sub_id);
            session["amount_total"] = json!(2000);
            (session.clone(), subscription, invoice)
        };
        let mut events = vec![
            self.event("checkout.session.completed", &session, at),
            self.event("customer.subscription.created", &subscription, at),
            self.event("invoice.paid", &invoice, at),
        ];
        match order {
            Order::AsStripe => {}
            Order::Reversed => events.reverse(),
            Order::Lost => events.clear(),
        }
        for event in &events {
            deliver(server_addr, event);
        }
        Completed {
            subscription: subscription["id"].as_str().unwrap().to_owned(),
            customer: session["customer"].as_str().unwrap().to_owned(),
            invoice: invoice["id"].as_str().unwrap().to_owned(),
            events,
        }
    }

    /// Changes a subscription as Stripe would (a renewal, a plan change, a cancellation) and sends
    /// `customer.subscription.updated` (or `.deleted` for `canceled`), plus `invoice.paid` for a
    /// renewal (a new period end), unless `deliver` is false. Returns the events.
    pub fn change_subscription(
        &self,
        id: &str,
        status: &str,
        period_end: Option<i64>,
        server_addr: &str,
        send: bool,
    ) -> Vec<Value> {
        let at = now();
        let (subscription, invoice) = {
            let mut books = self.books.lock().unwrap();
            let invoice_id = books.next_id("in");
            let subscription = books.subscriptions.get_mut(id).unwrap();
            subscription["status"] = json!(status);
            let item = &mut subscription["items"]["data"][0];
            if let Some(end) = period_end {
                item["current_period_start"] = item["current_period_end"].clone();
                item["current_period_end"] = json!(end);
            }
            if status == "canceled" {
                subscription["canceled_at"] = json!(at);
                subscription["ended_at"] = json!(at);
            }
            let subscription = subscription.clone();
            let invoice = period_end
                .map(|_| invoice_object(&invoice_id, &subscription, "subscription_cycle", at));
            (subscription, invoice)
        };
        let kind = if status == "canceled" {
            "customer.subscription.deleted"
        } else {
            "customer.subscription.updated"
        };
        let mut events = vec![self.event(kind, &subscription, at)];
        if let Some(invoice) = invoice {
            events.push(self.event("invoice.paid", &invoice, at));
        }
        if send {
            for event in &events {
                deliver(server_addr, event);
            }
        }
        events
    }

    fn event(&self, kind: &str, object: &Value, at: i64) -> Value {
        let id = self.books.lock().unwrap().next_id("evt");
        json!({
            "id": id, "object": "event", "api_version": STRIPE_VERSION, "created": at,
            "data": {"object": object}, "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null}, "type": kind,
        })
    }
}

impl Drop for StripeDouble {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends one signed webhook as Stripe does, retrying on a non-2xx answer (Stripe retries for
/// days; here for at most 30 s).
pub fn deliver(server_addr: &str, event: &Value) -> Resp {
    let body = event.to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut wait = Duration::from_millis(50);
    loop {
        let header = signature_header(body.as_bytes(), WEBHOOK_SECRET, now());
        let answer = http(
            server_addr,
            "POST",
            "/api/v1/billing/webhooks/stripe",
            None,
            Some(body.as_bytes()),
            &[("Stripe-Signature", &header)],
        );
        match answer {
            Ok(r) if (200..300).contains(&r.status) => return r,
            other if Instant::now() > deadline => {
                panic!("webhook {} never accepted: {other:?}", event["id"])
            }
            _ => {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn subscription_object(
    id: &str,
    customer: &str,
    price: &str,
    interval: &str,
    metadata: &Value,
    status: &str,
    at: i64,
    period_end: i64,
) -> Value {
    let mut s = fixture("subscription");
    s["id"] = json!(id);
    s["customer"] = json!(customer);
    s["status"] = json!(status);
    s["metadata"] = metadata.clone();
    s["created"] = json!(at);
    s["start_date"] = json!(at);
    s["billing_cycle_anchor"] = json!(at);
    for field in [
        "cancel_at",
        "canceled_at",
        "ended_at",
        "trial_start",
        "trial_end",
    ] {
        s[field] = Value::Null;
    }
    s["cancel_at_period_end"] = json!(false);
    s["latest_invoice"] = Value::Null;
    let item = &mut s["items"]["data"][0];
    item["id"] = json!(format!("si_{id}"));
    item["subscription"] = json!(id);
    item["created"] = json!(at);
    item["current_period_start"] = json!(at);
    item["current_period_end"] = json!(period_end);
    item["price"] = price_object(price, interval);
    s["items"]["url"] = json!(format!("/v1/subscription_items?subscription={id}"));
    s
}

fn price_object(id: &str, interval: &str) -> Value {
    let mut p = fixture("price");
    p["id"] = json!(id);
    p["recurring"]["interval"] = json!(interval);
    p
}

fn invoice_object(id: &str, subscription: &Value, reason: &str, at: i64) -> Value {
    let item = &subscription["items"]["data"][0];
    let mut i = fixture("invoice");
    i["id"] = json!(id);
    i["customer"] = subscription["customer"].clone();
    i["status"] = json!("paid");
    i["billing_reason"] = json!(reason);
    i["amount_paid"] = i["amount_due"].clone();
    i["amount_remaining"] = json!(0);
    i["created"] = json!(at);
    i["period_start"] = item["current_period_start"].clone();
    i["period_end"] = item["current_period_end"].clone();
    i["status_transitions"]["paid_at"] = json!(at);
    i["parent"] = json!({
        "type": "subscription_details", "quote_details": null,
        "subscription_details": {"subscription": subscription["id"], "metadata": subscription["metadata"]},
    });
    let line = &mut i["lines"]["data"][0];
    line["invoice"] = json!(id);
    line["pricing"] = json!({
        "type": "price_details", "unit_amount_decimal": item["price"]["unit_amount_decimal"],
        "price_details": {"price": item["price"]["id"], "product": item["price"]["product"]},
    });
    line["period"] =
        json!({"start": item["current_period_start"], "end": item["current_period_end"]});
    line["parent"] = json!({
        "type": "subscription_item_details", "invoice_item_details": null,
        "subscription_item_details": {"subscription": subscription["id"], "subscription_item": item["id"], "proration": false, "invoice_item": null, "proration_details": {"credited_items": null}},
    });
    i["lines"]["url"] = json!(format!("/v1/invoices/{id}/lines"));
    i
}

// ---------------------------------------------------------------------------------------------
// The HTTP side

type Shared = State<Arc<Mutex<Books>>>;

fn router(books: Arc<Mutex<Books>>) -> Router {
    Router::new()
        .route("/v1/customers", post(create_customer))
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/billing_portal/sessions", post(create_portal_session))
        .route("/v1/prices/{id}", get(read_price))
        .route("/v1/subscriptions", get(list_subscriptions))
        .fallback(|| async {
            stripe_error(
                404,
                "invalid_request_error",
                None,
                "Unrecognized request URL",
            )
        })
        .with_state(books)
}

fn stripe_error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"type": kind, "code": code, "message": message}});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

/// A request as the double read it: checked headers and parsed form, or the error to answer.
struct Checked {
    form: Vec<(String, String)>,
    idempotency_key: Option<String>,
}

impl Checked {
    fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, names: &[&str]) -> Result<(), Response> {
        for name in names {
            if self.get(name).is_none_or(str::is_empty) {
                return Err(stripe_error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    &format!("Missing required param: {name}."),
                ));
            }
        }
        Ok(())
    }

    /// The metadata parameters under `prefix` (`metadata` or `subscription_data[metadata]`).
    fn metadata(&self, prefix: &str) -> Value {
        let start = format!("{prefix}[");
        let map: serde_json::Map<String, Value> = self
            .form
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(&start)?.strip_suffix(']')?;
                (!key.contains('[')).then(|| (key.to_owned(), json!(v)))
            })
            .collect();
        Value::Object(map)
    }
}

/// The checks Stripe makes of every call; records it.
fn check(
    books: &mut Books,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Checked, Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let idempotency_key = header("idempotency-key").map(str::to_owned);
    let mut call = Call {
        method: method.to_string(),
        path: path.to_owned(),
        form: form.clone(),
        idempotency_key: idempotency_key.clone(),
        status: 200,
    };
    let refused = |call: &mut Call, books: &mut Books, status: u16, response: Response| {
        call.status = status;
        books.calls.push(call.clone());
        Err(response)
    };
    let expected = format!("Bearer {SECRET_KEY}");
    match header("authorization") {
        Some(value) if value == expected => {}
        Some(value) => {
            let given = value.trim_start_matches("Bearer ");
            let response = stripe_error(
                401,
                "invalid_request_error",
                None,
                &format!("Invalid API Key provided: {given}"),
            );
            return refused(&mut call, books, 401, response);
        }
        None => {
            let response = stripe_error(
                401,
                "invalid_request_error",
                None,
                "You did not provide an API key.",
            );
            return refused(&mut call, books, 401, response);
        }
    }
    if header("stripe-version") != Some(STRIPE_VERSION) {
        let response = stripe_error(
            400,
            "invalid_request_error",
            None,
            "The double expects Stripe-Version 2025-03-31.basil",
        );
        return refused(&mut call, books, 400, response);
    }
    if method == Method::POST {
        if idempotency_key.as_deref().is_none_or(str::is_empty) {
            let response = stripe_error(
                400,
                "invalid_request_error",
                None,
                "The double requires an Idempotency-Key on every POST",
            );
            return refused(&mut call, books, 400, response);
        }
        if header("content-type") != Some("application/x-www-form-urlencoded") {
            let response = stripe_error(
                400,
                "invalid_request_error",
                None,
                "Stripe's API takes form-encoded bodies",
            );
            return refused(&mut call, books, 400, response);
        }
    }
    if let Some(status) = books.failures.pop_front() {
        let response = stripe_error(
            status,
            "api_error",
            None,
            "An error occurred with our connection to Stripe.",
        );
        return refused(&mut call, books, status, response);
    }
    books.calls.push(call);
    Ok(Checked {
        form,
        idempotency_key,
    })
}

/// Serves a POST once per idempotency key: a repeated key with the same parameters answers the
/// first answer again; with other parameters, 400 (as Stripe).
fn once(
    books: &mut Books,
    checked: &Checked,
    make: impl FnOnce(&mut Books) -> Result<Value, Response>,
) -> Response {
    let key = checked.idempotency_key.clone().unwrap_or_default();
    let fingerprint = format!("{:?}", checked.form);
    if let Some((seen, status, answer)) = books.replies.get(&key) {
        if *seen != fingerprint {
            return stripe_error(400, "idempotency_error", None, "Keys for idempotent requests can only be used with the same parameters they were first used with.");
        }
        return (StatusCode::from_u16(*status).unwrap(), Json(answer.clone())).into_response();
    }
    match make(books) {
        Ok(answer) => {
            books
                .replies
                .insert(key, (fingerprint, 200, answer.clone()));
            Json(answer).into_response()
        }
        Err(response) => response,
    }
}

async fn create_customer(State(books): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut books = books.lock().unwrap();
    let checked = match check(&mut books, &Method::POST, "/v1/customers", &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = checked.require(&["metadata[org_id]"]) {
        return r;
    }
    once(&mut books, &checked, |books| {
        let id = books.next_id("cus");
        let mut c = fixture("customer");
        c["id"] = json!(id);
        c["created"] = json!(now());
        c["name"] = json!(checked.get("name"));
        c["email"] = json!(checked.get("email"));
        c["metadata"] = checked.metadata("metadata");
        c["discount"] = Value::Null;
        books.customers.insert(id, c.clone());
        Ok(c)
    })
}

async fn create_session(State(books): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut books = books.lock().unwrap();
    let path = "/v1/checkout/sessions";
    let checked = match check(&mut books, &Method::POST, path, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let required = [
        "mode",
        "customer",
        "line_items[0][price]",
        "line_items[0][quantity]",
        "success_url",
        "cancel_url",
    ];
    if let Err(r) = checked.require(&required) {
        return r;
    }
    once(&mut books, &checked, |books| {
        let customer = checked.get("customer").unwrap_or_default().to_owned();
        if !books.customers.contains_key(&customer) {
            return Err(missing("customer", &customer));
        }
        let price = checked
            .get("line_items[0][price]")
            .unwrap_or_default()
            .to_owned();
        if !books.prices.contains_key(&price) {
            return Err(missing("price", &price));
        }
        if checked.get("mode") != Some("subscription") {
            return Err(stripe_error(
                400,
                "invalid_request_error",
                None,
                "The double sells subscriptions only",
            ));
        }
        let id = books.next_id("cs_test");
        let mut s = fixture("checkout.session");
        s["id"] = json!(id);
        s["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
        s["mode"] = json!("subscription");
        s["customer"] = json!(customer);
        s["client_reference_id"] = json!(checked.get("client_reference_id"));
        s["metadata"] = checked.metadata("metadata");
        s["success_url"] = json!(checked.get("success_url"));
        s["cancel_url"] = json!(checked.get("cancel_url"));
        s["created"] = json!(now());
        s["expires_at"] = json!(now() + DAY);
        s["status"] = json!("open");
        s["payment_status"] = json!("unpaid");
        s["payment_intent"] = Value::Null;
        s["subscription"] = Value::Null;
        books.session_terms.insert(
            id.clone(),
            (price, checked.metadata("subscription_data[metadata]")),
        );
        books.sessions.insert(id, s.clone());
        Ok(s)
    })
}

async fn create_portal_session(State(books): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut books = books.lock().unwrap();
    let path = "/v1/billing_portal/sessions";
    let checked = match check(&mut books, &Method::POST, path, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = checked.require(&["customer"]) {
        return r;
    }
    once(&mut books, &checked, |books| {
        let customer = checked.get("customer").unwrap_or_default().to_owned();
        if !books.customers.contains_key(&customer) {
            return Err(missing("customer", &customer));
        }
        let id = books.next_id("bps");
        let mut p = fixture("billing_portal.session");
        p["id"] = json!(id);
        p["customer"] = json!(customer);
        p["return_url"] = json!(checked.get("return_url"));
        p["url"] = json!(format!("https://billing.stripe.com/p/session/test_{id}"));
        p["flow"] = Value::Null;
        p["livemode"] = json!(false);
        p["created"] = json!(now());
        Ok(p)
    })
}

async fn read_price(State(books): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut books = books.lock().unwrap();
    let path = format!("/v1/prices/{id}");
    if let Err(r) = check(&mut books, &Method::GET, &path, &headers, b"") {
        return r;
    }
    match books.prices.get(&id) {
        Some(interval) => Json(price_object(&id, interval)).into_response(),
        None => missing("price", &id),
    }
}

async fn list_subscriptions(
    State(books): Shared,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut books = books.lock().unwrap();
    let query = query.unwrap_or_default();
    if let Err(r) = check(&mut books, &Method::GET, "/v1/subscriptions", &headers, b"") {
        return r;
    }
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Some(customer) = params.get("customer") else {
        return stripe_error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            "The double lists one customer's subscriptions",
        );
    };
    let data: Vec<Value> = books
        .subscriptions
        .values()
        .filter(|s| s["customer"] == json!(customer))
        .filter(|s| {
            params.get("status").map(String::as_str) == Some("all")
                || s["status"] != json!("canceled")
        })
        .cloned()
        .collect();
    Json(json!({"object": "list", "data": data, "has_more": false, "url": "/v1/subscriptions"}))
        .into_response()
}

fn missing(what: &str, id: &str) -> Response {
    stripe_error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
    )
}
