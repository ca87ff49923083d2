//! The pure Stripe event engine of SPEC §5: given one event, the state of the org it concerns and
//! the configuration, decide what changes. It reads nothing and stores nothing; the host (the
//! server with SQL, or [`BillingLedger`] in memory) finds the org, performs the [`Action`]s and
//! records the event id.
//!
//! The rules, in the order [`apply_event`] applies them:
//! 1. Only `checkout.session.completed` and `customer.subscription.created|updated|deleted` are
//!    handled, and `invoice.paid` of a self-hosted subscription (rule 6a); every other type is
//!    ignored as [`IgnoreReason::UnhandledEventType`].
//! 2. No org → [`IgnoreReason::UnknownOrg`]; an org with [`ManagedBy::Manual`] →
//!    [`IgnoreReason::ManualOrg`]. Neither is ever changed.
//! 3. Checkout links the session's customer to the org, but only a checkout the server made
//!    for that org: its session is one of [`BillingState::server_checkout_sessions`] or its
//!    customer one of [`BillingState::server_customers`]. Any other checkout (a Payment Link, a
//!    pricing table, a session naming the org in `client_reference_id` by someone else) is
//!    [`IgnoreReason::UntrustedCheckout`] and changes nothing. A trusted checkout for an org
//!    already linked to another customer is [`IgnoreReason::CustomerConflict`]. In the same
//!    spirit (rule 3a), a subscription event whose customer is not the org's linked customer
//!    (when it has one) is [`IgnoreReason::OtherCustomer`]: another customer's subscription never
//!    replaces, changes or ends the org's own.
//! 4. A subscription event older (`created`) than the last one applied to the same subscription
//!    is [`IgnoreReason::StaleEvent`] (equal `created` is applied). So is any event that would
//!    revive a subscription already recorded as `canceled` or `incomplete_expired`: Stripe never
//!    leaves those statuses, and `created` has only one-second resolution. This holds for an
//!    earlier subscription of the org as for its current one: the host loads what it recorded
//!    about the event's subscription into [`BillingState::event_subscription`].
//! 5. While the org's recorded subscription holds a paid tier (`active`, `trialing`, `past_due`),
//!    an event about another subscription that does not itself grant a tier is
//!    [`IgnoreReason::NotCurrentSubscription`]: deleting the old subscription after moving to a
//!    new one must not downgrade the org. An `active`/`trialing` one replaces it.
//! 6. `active`/`trialing` → the tier of the first item price that [`PriceTiers`] maps; no mapped
//!    price → [`IgnoreReason::UnknownPrice`] and nothing changes (fail closed). `past_due` keeps
//!    the current tier. `unpaid`, `canceled`, `incomplete`, `incomplete_expired`, `paused` and
//!    `customer.subscription.deleted` → community. Any other status is
//!    [`IgnoreReason::UnknownStatus`]: neither an upgrade nor a downgrade on a guess.
//!    Rule 6a: a subscription for a self-hosted deployment (its metadata has `license_type: self_hosted`
//!    and a `deployment_id`, as the server's self-hosted checkout sets them) never changes the
//!    org's own tier: its events are [`IgnoreReason::SelfHostedSubscription`]. Each of its
//!    `invoice.paid` (the first payment and every renewal), from the org's linked customer, signs
//!    a `self_hosted` license for that deployment ([`Action::SignDeploymentLicense`]: `aud` the
//!    deployment, `exp` the end of the paid period plus the tier's grace days, the tier of the
//!    invoice's price) and revokes the deployment's previous license
//!    ([`BillingState::event_deployment_license`]). Any other `invoice.paid` is not handled.
//! 7. A move to team/enterprise, or a renewal of one (`active`/`trialing` with a new period end,
//!    or an org on a paid tier without a license), signs a new `saas` license expiring at the
//!    period end plus the tier's grace days and revokes the org's previous license. A move to
//!    community revokes the org's license.
//!
//! Within a subscription event, a status Stripe does not document (rule 6's
//! [`IgnoreReason::UnknownStatus`]) is refused before rules 4 and 5 look at the event: when an
//! event breaks several rules, the reason is the first of duplicate (the host's), 1, 2, unknown
//! status, 4, 5, 6 (the vectors' `order_*` event sequences pin it).
//!
//! The host finds the org by `metadata.org_id` (or `client_reference_id`), then by the linked
//! customer ([`BillingLedger::find_org`]). Stripe may deliver `customer.subscription.created`
//! before `checkout.session.completed`, when the customer is not linked yet; checkout sessions
//! should therefore be created with `subscription_data.metadata.org_id` so that subscription
//! events name the org themselves. A subscription event that names its org this way also links
//! its customer to an org that has none.

mod config;
mod ledger;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::tier::Tier;

pub use config::{BillingConfig, PriceTiers};
pub use ledger::BillingLedger;

/// One day in seconds.
const DAY_SECS: i64 = 86_400;

/// Used as the period end when a subscription event carries none (neither on the subscription nor
/// on its item). A month is at most 31 days, so the license covers any monthly period that
/// started at the event; the renewal event re-signs it with the real period end.
const MISSING_PERIOD_END_SECS: i64 = 31 * DAY_SECS;

/// A Stripe event, reduced to what the engine reads.
///
/// Its JSON shape is Stripe's own (`{"id","type","created","data":{"object":{...}}}`; other fields
/// are ignored), so conformance vectors hold events exactly as Stripe sends them. Deserializing
/// applies the checks of [`StripeEvent::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "EventWire")]
pub struct StripeEvent {
    /// The event id (`evt_...`); each id is applied once.
    pub id: String,
    /// The event type, e.g. `customer.subscription.updated` (JSON `type`).
    pub event_type: String,
    /// When Stripe created the event, Unix seconds; orders events of one subscription.
    pub created: i64,
    /// The event's `data.object`: a checkout session, a subscription, ...
    pub object: Value,
}

impl StripeEvent {
    /// Parses a webhook body (after its signature was verified).
    ///
    /// Requires a JSON object with a non-empty string `id` and `type`, an integer `created` and an
    /// object `data.object`; otherwise [`ErrorCode::InvalidStripeEvent`] naming the field.
    pub fn parse(body: &[u8]) -> Result<StripeEvent> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_event(format!("the event body is not JSON: {e}")))?;
        StripeEvent::from_value(value)
    }

    /// Builds an event from already-parsed JSON, with the checks of [`StripeEvent::parse`].
    pub fn from_value(value: Value) -> Result<StripeEvent> {
        let Value::Object(mut map) = value else {
            return Err(invalid_event("the event is not a JSON object"));
        };
        let mut string = |field: &str| match map.remove(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            None | Some(Value::Null) => Err(invalid_event(format!("missing field `{field}`"))),
            Some(_) => Err(invalid_event(format!(
                "field `{field}` is not a non-empty string"
            ))),
        };
        let id = string("id")?;
        let event_type = string("type")?;
        let created = match map.get("created") {
            None | Some(Value::Null) => return Err(invalid_event("missing field `created`")),
            Some(v) => v.as_i64().ok_or_else(|| {
                invalid_event("field `created` is not an integer of Unix seconds")
            })?,
        };
        let object = match map.remove("data") {
            None | Some(Value::Null) => return Err(invalid_event("missing field `data`")),
            Some(Value::Object(mut data)) => match data.remove("object") {
                Some(object @ Value::Object(_)) => object,
                None | Some(Value::Null) => {
                    return Err(invalid_event("missing field `data.object`"))
                }
                Some(_) => return Err(invalid_event("field `data.object` is not an object")),
            },
            Some(_) => return Err(invalid_event("field `data` is not an object")),
        };
        Ok(StripeEvent {
            id,
            event_type,
            created,
            object,
        })
    }

    /// Who the event is about, as far as the event itself says.
    pub fn org_ref(&self) -> OrgRef {
        let object = &self.object;
        let org_id = non_empty(object.pointer("/metadata/org_id"))
            .or_else(|| non_empty(object.get("client_reference_id")))
            .or_else(|| non_empty(self.subscription_metadata()?.get("org_id")));
        let subscription_id = if self.is_about_a_subscription() {
            non_empty(object.get("id"))
        } else {
            id_of(object.get("subscription"))
                .or_else(|| id_of(object.pointer("/parent/subscription_details/subscription")))
        };
        OrgRef {
            org_id,
            customer_id: id_of(object.get("customer")),
            subscription_id,
        }
    }

    /// The metadata of the subscription the event is about: a subscription's own `metadata`, or
    /// for an invoice its `parent.subscription_details.metadata` (API 2025-03-31 and later) or
    /// `subscription_details.metadata` (earlier).
    fn subscription_metadata(&self) -> Option<&Value> {
        let object = &self.object;
        if self.is_about_a_subscription() {
            return object.get("metadata");
        }
        object
            .pointer("/parent/subscription_details/metadata")
            .filter(|m| m.is_object())
            .or_else(|| object.pointer("/subscription_details/metadata"))
            .filter(|m| m.is_object())
    }

    /// The deployment a self-hosted subscription pays for (its metadata `deployment_id`, when its
    /// `license_type` is `self_hosted`), for subscription and invoice events (rule 6a).
    pub fn deployment_id(&self) -> Option<String> {
        let metadata = self.subscription_metadata()?;
        if metadata.get("license_type").and_then(Value::as_str) != Some("self_hosted") {
            return None;
        }
        non_empty(metadata.get("deployment_id")).or(Some(String::new()))
    }

    /// The checkout session a `checkout.session.*` event is about (its object's `id`).
    pub fn checkout_session_id(&self) -> Option<String> {
        let is_session = self.event_type.starts_with("checkout.session.")
            || self.object.get("object").and_then(Value::as_str) == Some("checkout.session");
        if is_session {
            non_empty(self.object.get("id"))
        } else {
            None
        }
    }

    fn is_about_a_subscription(&self) -> bool {
        self.event_type.starts_with("customer.subscription.")
            || self.object.get("object").and_then(Value::as_str) == Some("subscription")
    }
}

impl TryFrom<Value> for StripeEvent {
    type Error = Error;

    fn try_from(value: Value) -> Result<Self> {
        StripeEvent::from_value(value)
    }
}

#[derive(Serialize)]
struct EventWire {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: EventDataWire,
}

#[derive(Serialize)]
struct EventDataWire {
    object: Value,
}

impl From<StripeEvent> for EventWire {
    fn from(event: StripeEvent) -> Self {
        EventWire {
            id: event.id,
            event_type: event.event_type,
            created: event.created,
            data: EventDataWire {
                object: event.object,
            },
        }
    }
}

fn invalid_event(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidStripeEvent, message)
}

/// A non-empty string value.
fn non_empty(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The id of a reference Stripe may send either as an id string or as an expanded object.
fn id_of(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::Object(expanded)) => non_empty(expanded.get("id")),
        other => non_empty(other),
    }
}

/// What an event says about the org it concerns. The host looks the org up with it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgRef {
    /// `data.object.metadata.org_id`, else `data.object.client_reference_id`.
    pub org_id: Option<String>,
    /// `data.object.customer` (an id, or the id of an expanded customer).
    pub customer_id: Option<String>,
    /// The subscription's `id` for subscription events, else `data.object.subscription`.
    pub subscription_id: Option<String>,
}

/// Who decides an org's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedBy {
    /// Stripe events set the tier.
    Stripe,
    /// An operator sets the tier; Stripe events never change it.
    Manual,
}

/// The subscription as last recorded for an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionState {
    /// The Stripe subscription id (`sub_...`).
    pub id: String,
    /// Stripe's status string (`active`, `past_due`, `canceled`, ...).
    pub status: String,
    /// The price that decided the tier (the first mapped one), else the first price listed.
    pub price_id: Option<String>,
    /// End of the current billing period, Unix seconds.
    pub current_period_end: Option<i64>,
    /// `created` of the last event applied to this subscription.
    pub last_event_created: i64,
}

impl SubscriptionState {
    /// Whether the subscription holds a paid tier: `active`, `trialing` or `past_due` (rule 5).
    pub fn holds_paid_tier(&self) -> bool {
        holds_tier(&self.status)
    }

    /// The `exp` of a `saas` license for `tier` paid by this subscription (rule 7): the period end
    /// plus the tier's grace days; with no period end recorded, `at` plus a month (31 days), as
    /// for an event that carries none.
    ///
    /// ```
    /// use dev_health_entitlements::stripe::{BillingConfig, SubscriptionState};
    /// use dev_health_entitlements::Tier;
    ///
    /// let subscription = SubscriptionState {
    ///     id: "sub_1".into(),
    ///     status: "active".into(),
    ///     price_id: Some("price_team".into()),
    ///     current_period_end: Some(1_800_000_000),
    ///     last_event_created: 1_790_000_000,
    /// };
    /// let exp = subscription.license_expiry(Tier::Team, 1_795_000_000, &BillingConfig::default());
    /// assert_eq!(exp, 1_800_000_000 + 14 * 86_400);
    /// assert!(subscription.holds_paid_tier());
    /// ```
    pub fn license_expiry(&self, tier: Tier, at: i64, config: &BillingConfig) -> i64 {
        let period_end = self
            .current_period_end
            .unwrap_or_else(|| at.saturating_add(MISSING_PERIOD_END_SECS));
        let grace = i64::from(config.grace_days.get(tier)).saturating_mul(DAY_SECS);
        period_end.saturating_add(grace)
    }
}

/// The billing state of one org: what the host loads before, and stores after, an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingState {
    /// The org id.
    pub org_id: String,
    /// The org's tier.
    pub tier: Tier,
    /// Whether Stripe events may change the org.
    pub managed_by: ManagedBy,
    /// The Stripe customer linked to the org.
    pub stripe_customer_id: Option<String>,
    /// The org's recorded subscription.
    pub subscription: Option<SubscriptionState>,
    /// The id of the org's current (unrevoked) license.
    pub license_id: Option<String>,
    /// What is recorded about the subscription an event is about, when that is not
    /// `subscription` but another (earlier) subscription of the org: the host loads it by the
    /// event's subscription id before applying the event, and `None` means no record. Rule 4
    /// holds for it as for `subscription`, so a late event about a subscription that has since
    /// ended cannot bring it back. Never part of a stored state: outcomes leave it `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_subscription: Option<SubscriptionState>,
    /// Checkout sessions (`cs_...`) the server created for this org (rule 3). The host may load
    /// only the session an event names; the in-memory [`BillingLedger`] keeps them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_checkout_sessions: Vec<String>,
    /// Stripe customers (`cus_...`) the server created for this org (rule 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_customers: Vec<String>,
    /// The current (unrevoked) license of the deployment an `invoice.paid` of a self-hosted
    /// subscription pays for (rule 6a): the host loads it before applying the event. Never part
    /// of a stored state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_deployment_license: Option<String>,
}

impl BillingState {
    /// A Stripe-managed org on `tier`, with no customer, subscription or license yet.
    pub fn new(org_id: impl Into<String>, tier: Tier) -> Self {
        BillingState {
            org_id: org_id.into(),
            tier,
            managed_by: ManagedBy::Stripe,
            stripe_customer_id: None,
            subscription: None,
            license_id: None,
            event_subscription: None,
            server_checkout_sessions: Vec::new(),
            server_customers: Vec::new(),
            event_deployment_license: None,
        }
    }

    /// Whether a checkout of session `session_id` (if known) for `customer_id` is one the server
    /// made for this org (rule 3).
    pub fn made_by_server(&self, session_id: Option<&str>, customer_id: &str) -> bool {
        session_id.is_some_and(|id| self.server_checkout_sessions.iter().any(|s| s == id))
            || self.server_customers.iter().any(|c| c == customer_id)
    }

    /// This state as stored: without the per-event `event_subscription`.
    fn stored(&self) -> BillingState {
        BillingState {
            event_subscription: None,
            event_deployment_license: None,
            ..self.clone()
        }
    }
}

/// A change the host must make. JSON: `{"action":"change_tier","from":"team","to":"community"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Link the Stripe customer to the org.
    LinkCustomer {
        /// The customer id (`cus_...`).
        customer_id: String,
    },
    /// Record the subscription's new state.
    UpdateSubscription {
        /// The state to store.
        subscription: SubscriptionState,
    },
    /// Set the org's tier.
    ChangeTier {
        /// The tier before.
        from: Tier,
        /// The tier after.
        to: Tier,
    },
    /// Sign a `saas` license for the org and store its id as the org's license.
    SignLicense {
        /// The license's tier.
        tier: Tier,
        /// The license's `exp`: the period end plus the tier's grace days.
        expires_at: i64,
    },
    /// Sign a `self_hosted` license for one of the org's deployments (rule 6a): `sub` the org,
    /// `aud` the deployment, `grace_days: 0` (the grace is inside `expires_at`).
    SignDeploymentLicense {
        /// The deployment (`aud`).
        deployment_id: String,
        /// The license's tier.
        tier: Tier,
        /// The license's `exp`: the end of the paid period plus the tier's grace days.
        expires_at: i64,
    },
    /// Revoke a license (it goes on the revocation list).
    RevokeLicense {
        /// The license id (`jti`).
        license_id: String,
    },
}

/// Why an event changed nothing. JSON: `{"reason":"unknown_price","price_id":"price_x"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IgnoreReason {
    /// The event id was applied before.
    Duplicate,
    /// The engine does not act on this event type.
    UnhandledEventType {
        /// The event's type.
        event_type: String,
    },
    /// No org matches the event.
    UnknownOrg,
    /// The org is managed by hand.
    ManualOrg,
    /// The event object lacks a field the rule needs.
    MissingField {
        /// The field, as a path in `data.object`.
        field: String,
    },
    /// The subscription status is not one Stripe documents.
    UnknownStatus {
        /// The status.
        status: String,
    },
    /// An active subscription whose prices map to no tier (fail closed).
    UnknownPrice {
        /// The first price id of the subscription.
        price_id: String,
    },
    /// Older than (or reviving a subscription ended by) an event already applied.
    StaleEvent,
    /// About a subscription other than the org's paid one, and granting no tier itself.
    NotCurrentSubscription {
        /// The subscription the event is about.
        subscription_id: String,
    },
    /// Handled, but the org's state is already what the event says.
    NoChange,
    /// A checkout names an org already linked to another Stripe customer. Re-linking would let
    /// whoever controls `client_reference_id` (Payment Links, pricing tables) take over the org's
    /// billing, so it is refused; unlink by hand first.
    CustomerConflict,
    /// A checkout the server did not create for this org (neither its session nor its customer):
    /// Payment Links and pricing tables let anyone name any org in `client_reference_id`, so such
    /// a checkout never links a customer.
    UntrustedCheckout,
    /// An event about a subscription for a self-hosted deployment: it never changes the org's own
    /// tier (rule 6a; its `invoice.paid` signs the deployment's license).
    SelfHostedSubscription,
    /// A subscription event of a customer other than the org's linked one: it never changes the
    /// org (its current subscription stays).
    OtherCustomer {
        /// The customer of the event.
        customer_id: String,
    },
}

impl IgnoreReason {
    /// The stable snake_case name, as recorded by the server (e.g. `unknown_org`).
    pub const fn as_str(&self) -> &'static str {
        match self {
            IgnoreReason::Duplicate => "duplicate",
            IgnoreReason::UnhandledEventType { .. } => "unhandled_event_type",
            IgnoreReason::UnknownOrg => "unknown_org",
            IgnoreReason::ManualOrg => "manual_org",
            IgnoreReason::CustomerConflict => "customer_conflict",
            IgnoreReason::UntrustedCheckout => "untrusted_checkout",
            IgnoreReason::OtherCustomer { .. } => "other_customer",
            IgnoreReason::SelfHostedSubscription => "self_hosted_subscription",
            IgnoreReason::MissingField { .. } => "missing_field",
            IgnoreReason::UnknownStatus { .. } => "unknown_status",
            IgnoreReason::UnknownPrice { .. } => "unknown_price",
            IgnoreReason::StaleEvent => "stale_event",
            IgnoreReason::NotCurrentSubscription { .. } => "not_current_subscription",
            IgnoreReason::NoChange => "no_change",
        }
    }
}

/// The result of applying one event.
///
/// Either `actions` is non-empty and `ignored` is `None`, or `actions` is empty and `ignored` says
/// why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The org's state after the actions (unchanged when ignored); `None` when the org is unknown.
    ///
    /// A revoked license's id is cleared. The id of a license to sign is not known yet: the host
    /// signs it and sets `license_id`.
    pub state: Option<BillingState>,
    /// What the host must do, in order.
    pub actions: Vec<Action>,
    /// Why nothing changed, if nothing did.
    pub ignored: Option<IgnoreReason>,
}

impl Outcome {
    fn ignore(state: Option<&BillingState>, reason: IgnoreReason) -> Outcome {
        Outcome {
            state: state.map(BillingState::stored),
            actions: Vec::new(),
            ignored: Some(reason),
        }
    }
}

/// Applies one Stripe event to the billing state of the org it concerns (SPEC §5).
///
/// `current` is the org the host found for [`StripeEvent::org_ref`], or `None`. See the module
/// documentation for the rules.
///
/// ```
/// use dev_health_entitlements::stripe::{apply_event, Action, BillingConfig, BillingState, PriceTiers, StripeEvent};
/// use dev_health_entitlements::Tier;
///
/// let event = StripeEvent::parse(br#"{"id":"evt_1","type":"customer.subscription.created","created":1700000000,
///   "data":{"object":{"id":"sub_1","customer":"cus_1","status":"active","current_period_end":1702592000,
///   "metadata":{"org_id":"org_1"},"items":{"data":[{"price":{"id":"price_team"}}]}}}}"#)?;
/// let config = BillingConfig::new(PriceTiers::parse("price_team=team")?);
/// let org = BillingState::new("org_1", Tier::Community);
///
/// let outcome = apply_event(&event, Some(&org), &config);
/// assert!(outcome.actions.contains(&Action::ChangeTier { from: Tier::Community, to: Tier::Team }));
/// assert!(outcome.actions.contains(&Action::SignLicense { tier: Tier::Team, expires_at: 1702592000 + 14 * 86400 }));
/// assert_eq!(outcome.state.map(|s| s.tier), Some(Tier::Team));
/// # Ok::<(), dev_health_entitlements::Error>(())
/// ```
pub fn apply_event(
    event: &StripeEvent,
    current: Option<&BillingState>,
    config: &BillingConfig,
) -> Outcome {
    let Some(kind) = EventKind::of(event) else {
        let reason = IgnoreReason::UnhandledEventType {
            event_type: event.event_type.clone(),
        };
        return Outcome::ignore(current, reason);
    };
    let Some(org) = current else {
        return Outcome::ignore(None, IgnoreReason::UnknownOrg);
    };
    if org.managed_by == ManagedBy::Manual {
        return Outcome::ignore(Some(org), IgnoreReason::ManualOrg);
    }
    let decided = match kind {
        EventKind::CheckoutCompleted => checkout_completed(event, org),
        EventKind::SubscriptionChanged => subscription_changed(event, org, config, false),
        EventKind::SubscriptionDeleted => subscription_changed(event, org, config, true),
        EventKind::DeploymentInvoicePaid => deployment_invoice_paid(event, org, config),
    };
    match decided {
        Err(reason) => Outcome::ignore(Some(org), reason),
        Ok(actions) if actions.is_empty() => Outcome::ignore(Some(org), IgnoreReason::NoChange),
        Ok(actions) => Outcome {
            state: Some(state_after(org, &actions)),
            actions,
            ignored: None,
        },
    }
}

/// The event types the engine acts on.
enum EventKind {
    CheckoutCompleted,
    SubscriptionChanged,
    SubscriptionDeleted,
    /// `invoice.paid` of a self-hosted subscription (rule 6a).
    DeploymentInvoicePaid,
}

impl EventKind {
    fn of(event: &StripeEvent) -> Option<EventKind> {
        match event.event_type.as_str() {
            "invoice.paid" if event.deployment_id().is_some() => {
                Some(EventKind::DeploymentInvoicePaid)
            }
            "checkout.session.completed" => Some(EventKind::CheckoutCompleted),
            "customer.subscription.created" | "customer.subscription.updated" => {
                Some(EventKind::SubscriptionChanged)
            }
            "customer.subscription.deleted" => Some(EventKind::SubscriptionDeleted),
            _ => None,
        }
    }
}

/// What a subscription status means for the org's tier.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StatusEffect {
    /// `active`, `trialing`: the tier of the price.
    GrantsPriceTier,
    /// `past_due`: Stripe is still collecting; keep the tier.
    KeepsTier,
    /// Not paid for: community.
    Community,
}

fn status_effect(status: &str) -> Option<StatusEffect> {
    match status {
        "active" | "trialing" => Some(StatusEffect::GrantsPriceTier),
        "past_due" => Some(StatusEffect::KeepsTier),
        "unpaid" | "canceled" | "incomplete" | "incomplete_expired" | "paused" => {
            Some(StatusEffect::Community)
        }
        _ => None,
    }
}

/// Statuses Stripe never leaves.
fn is_final(status: &str) -> bool {
    matches!(status, "canceled" | "incomplete_expired")
}

/// Statuses under which a subscription holds a paid tier.
fn holds_tier(status: &str) -> bool {
    matches!(
        status_effect(status),
        Some(StatusEffect::GrantsPriceTier | StatusEffect::KeepsTier)
    )
}

fn checkout_completed(
    event: &StripeEvent,
    org: &BillingState,
) -> Result<Vec<Action>, IgnoreReason> {
    let customer_id = id_of(event.object.get("customer")).ok_or(IgnoreReason::MissingField {
        field: "customer".into(),
    })?;
    let session_id = non_empty(event.object.get("id"));
    if !org.made_by_server(session_id.as_deref(), &customer_id) {
        return Err(IgnoreReason::UntrustedCheckout);
    }
    match org.stripe_customer_id.as_deref() {
        Some(linked) if linked == customer_id => Ok(Vec::new()),
        Some(_) => Err(IgnoreReason::CustomerConflict),
        None => Ok(vec![Action::LinkCustomer { customer_id }]),
    }
}

/// One subscription item: its price and, since Stripe API 2025-03-31, its period end.
struct Item {
    price_id: String,
    current_period_end: Option<i64>,
}

fn items(object: &Value) -> Vec<Item> {
    object
        .pointer("/items/data")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(Item {
                        price_id: id_of(item.get("price"))?,
                        current_period_end: item.get("current_period_end").and_then(Value::as_i64),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn subscription_changed(
    event: &StripeEvent,
    org: &BillingState,
    config: &BillingConfig,
    deleted: bool,
) -> Result<Vec<Action>, IgnoreReason> {
    let object = &event.object;
    let missing = |field: &str| IgnoreReason::MissingField {
        field: field.into(),
    };
    let id = non_empty(object.get("id")).ok_or_else(|| missing("id"))?;
    if event.deployment_id().is_some() {
        return Err(IgnoreReason::SelfHostedSubscription);
    }
    // Rule 3a: only the org's own customer's subscriptions act on it.
    if let (Some(linked), Some(customer)) = (
        org.stripe_customer_id.as_deref(),
        id_of(object.get("customer")),
    ) {
        if linked != customer {
            return Err(IgnoreReason::OtherCustomer {
                customer_id: customer,
            });
        }
    }
    let status = event_status(event, deleted).ok_or_else(|| missing("status"))?;
    let effect = if deleted {
        StatusEffect::Community
    } else {
        status_effect(&status).ok_or_else(|| IgnoreReason::UnknownStatus {
            status: status.clone(),
        })?
    };

    // Rule 4, against what is recorded about this subscription: the org's current one, or an
    // earlier one the host loaded for this event.
    let recorded = [org.subscription.as_ref(), org.event_subscription.as_ref()]
        .into_iter()
        .flatten()
        .find(|recorded| recorded.id == id);
    if let Some(recorded) = recorded {
        let revives_ended = is_final(&recorded.status) && !is_final(&status);
        if event.created < recorded.last_event_created || revives_ended {
            return Err(IgnoreReason::StaleEvent);
        }
    }
    if let Some(current) = &org.subscription {
        if current.id != id
            && holds_tier(&current.status)
            && effect != StatusEffect::GrantsPriceTier
        {
            return Err(IgnoreReason::NotCurrentSubscription {
                subscription_id: id,
            });
        }
    }

    let items = items(object);
    let mapped = first_mapped(&items, config);
    let target = match (effect, mapped) {
        (StatusEffect::GrantsPriceTier, Some((_, tier))) => tier,
        (StatusEffect::GrantsPriceTier, None) => {
            return Err(match items.first() {
                Some(item) => IgnoreReason::UnknownPrice {
                    price_id: item.price_id.clone(),
                },
                None => missing("items.data[].price.id"),
            });
        }
        (StatusEffect::KeepsTier, _) => org.tier,
        (StatusEffect::Community, _) => Tier::Community,
    };
    let deciding = mapped.map(|(item, _)| item).or(items.first());
    let subscription = record(event, id, status, deciding);

    let mut actions = Vec::new();
    if org.stripe_customer_id.is_none() {
        if let Some(customer_id) = id_of(object.get("customer")) {
            actions.push(Action::LinkCustomer { customer_id });
        }
    }
    // A renewal moves the period end; the license must follow it or it would lapse while paid.
    let renewed = effect == StatusEffect::GrantsPriceTier
        && (org.license_id.is_none()
            || org
                .subscription
                .as_ref()
                .map(|s| (&s.id, s.current_period_end))
                != Some((&subscription.id, subscription.current_period_end)));
    let expires_at = subscription.license_expiry(target, event.created, config);
    if org.subscription.as_ref() != Some(&subscription) {
        actions.push(Action::UpdateSubscription { subscription });
    }
    tier_actions(org, target, renewed, expires_at, &mut actions);
    Ok(actions)
}

/// Rule 6a: a paid invoice of a self-hosted subscription signs its deployment's license.
fn deployment_invoice_paid(
    event: &StripeEvent,
    org: &BillingState,
    config: &BillingConfig,
) -> Result<Vec<Action>, IgnoreReason> {
    let object = &event.object;
    let missing = |field: &str| IgnoreReason::MissingField {
        field: field.into(),
    };
    let customer = id_of(object.get("customer")).ok_or_else(|| missing("customer"))?;
    // Only the org's own (server-linked) customer pays for its deployments.
    if org.stripe_customer_id.as_deref() != Some(customer.as_str()) {
        return Err(IgnoreReason::OtherCustomer {
            customer_id: customer,
        });
    }
    let deployment_id = event
        .deployment_id()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| missing("parent.subscription_details.metadata.deployment_id"))?;
    let lines: Vec<&Value> = object
        .pointer("/lines/data")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().collect())
        .unwrap_or_default();
    // The line's price: `pricing.price_details.price` since API 2025-03-31, `price` before.
    let prices: Vec<String> = lines
        .iter()
        .filter_map(|line| {
            id_of(line.pointer("/pricing/price_details/price")).or_else(|| id_of(line.get("price")))
        })
        .collect();
    let tier = prices
        .iter()
        .find_map(|price| config.price_tiers.get(price))
        .ok_or_else(|| match prices.first() {
            Some(price) => IgnoreReason::UnknownPrice {
                price_id: price.clone(),
            },
            None => missing("lines.data[].pricing.price_details.price"),
        })?;
    let period_end = lines
        .iter()
        .filter_map(|line| line.pointer("/period/end").and_then(Value::as_i64))
        .max()
        .ok_or_else(|| missing("lines.data[].period.end"))?;
    let grace = i64::from(config.grace_days.get(tier)).saturating_mul(DAY_SECS);
    let mut actions = vec![Action::SignDeploymentLicense {
        deployment_id,
        tier,
        expires_at: period_end.saturating_add(grace),
    }];
    if let Some(license_id) = &org.event_deployment_license {
        actions.push(Action::RevokeLicense {
            license_id: license_id.clone(),
        });
    }
    Ok(actions)
}

/// The first item whose price maps to a tier, with that tier.
fn first_mapped<'a>(items: &'a [Item], config: &BillingConfig) -> Option<(&'a Item, Tier)> {
    items
        .iter()
        .find_map(|item| Some((item, config.price_tiers.get(&item.price_id)?)))
}

/// The record of subscription `id` after `event`, with `item` the price that decided the tier
/// (the first mapped one), else the first price listed.
fn record(
    event: &StripeEvent,
    id: String,
    status: String,
    item: Option<&Item>,
) -> SubscriptionState {
    SubscriptionState {
        id,
        status,
        price_id: item.map(|i| i.price_id.clone()),
        current_period_end: event
            .object
            .get("current_period_end")
            .and_then(Value::as_i64)
            .or(item.and_then(|i| i.current_period_end)),
        last_event_created: event.created,
    }
}

/// What the host records about the subscription of an event that [`apply_event`] ignored as
/// [`IgnoreReason::NotCurrentSubscription`], and `None` for any other outcome. The org is
/// unchanged, but the subscription's new state (often: it ended) must be kept, over an older
/// record of the same subscription, so that rule 4 can refuse a late event that would bring it
/// back. [`BillingLedger`] does this; the server does it in SQL.
pub fn record_for_other_subscription(
    event: &StripeEvent,
    outcome: &Outcome,
    config: &BillingConfig,
) -> Option<SubscriptionState> {
    let Some(IgnoreReason::NotCurrentSubscription { subscription_id }) = &outcome.ignored else {
        return None;
    };
    let deleted = event.event_type == "customer.subscription.deleted";
    let status = event_status(event, deleted)?;
    let items = items(&event.object);
    let item = first_mapped(&items, config)
        .map(|(item, _)| item)
        .or(items.first());
    Some(record(event, subscription_id.clone(), status, item))
}

/// The subscription status an event records: a deleted subscription is over whatever its object
/// says (recorded as `canceled`, as Stripe does). `None` when the object has no status.
fn event_status(event: &StripeEvent, deleted: bool) -> Option<String> {
    match non_empty(event.object.get("status")) {
        Some(status) if deleted && !is_final(&status) => Some("canceled".to_owned()),
        None if deleted => Some("canceled".to_owned()),
        status => status,
    }
}

/// The tier and license actions for moving `org` to `target`.
fn tier_actions(
    org: &BillingState,
    target: Tier,
    renewed: bool,
    expires_at: i64,
    actions: &mut Vec<Action>,
) {
    if target != org.tier {
        actions.push(Action::ChangeTier {
            from: org.tier,
            to: target,
        });
    }
    let sign = target > Tier::Community && (target != org.tier || renewed);
    if sign {
        actions.push(Action::SignLicense {
            tier: target,
            expires_at,
        });
    }
    // A replaced license must not stay usable, and community needs none.
    if sign || target == Tier::Community {
        if let Some(license_id) = &org.license_id {
            actions.push(Action::RevokeLicense {
                license_id: license_id.clone(),
            });
        }
    }
}

/// `org` with `actions` applied, except the id of a license to sign, which the host sets.
fn state_after(org: &BillingState, actions: &[Action]) -> BillingState {
    let mut state = org.stored();
    for action in actions {
        match action {
            Action::LinkCustomer { customer_id } => {
                state.stripe_customer_id = Some(customer_id.clone());
            }
            Action::UpdateSubscription { subscription } => {
                state.subscription = Some(subscription.clone());
            }
            Action::ChangeTier { to, .. } => state.tier = *to,
            Action::SignLicense { .. } | Action::SignDeploymentLicense { .. } => {}
            Action::RevokeLicense { license_id } => {
                if state.license_id.as_ref() == Some(license_id) {
                    state.license_id = None;
                }
            }
        }
    }
    state
}

#[cfg(test)]
mod tests;
