//! Stripe webhooks: signature verification and the pure subscription event engine (SPEC §5).
//!
//! A webhook is handled in three steps, of which the host does only the last:
//! 1. [`verify_signature`] checks the `Stripe-Signature` header against the raw body;
//! 2. [`StripeEvent::parse`] reads the body, and [`apply_event`] decides, for the org the event
//!    concerns, what changes ([`Outcome`]: the new [`BillingState`] and the [`Action`]s);
//! 3. the host stores the state, signs and revokes licenses, and records the event id so that
//!    each event is applied once. [`BillingLedger`] is an in-memory host that does exactly this.

pub mod events;
pub mod signature;

pub use events::{
    apply_event, record_for_other_subscription, Action, BillingConfig, BillingLedger, BillingState,
    IgnoreReason, ManagedBy, OrgRef, Outcome, PriceTiers, StripeEvent, SubscriptionState,
};
pub use signature::{signature_header, verify_signature, DEFAULT_TOLERANCE_SECS};
