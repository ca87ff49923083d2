//! An in-memory host for the event engine: the reference of what the server does with SQL, and
//! what the conformance vectors and the bindings use to replay event sequences.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::StripeEvent;
use super::{
    apply_event, record_for_other_subscription, Action, BillingConfig, BillingState, IgnoreReason,
    OrgRef, Outcome, SubscriptionState,
};

/// Orgs, the ids of the events applied, and the licenses signed and revoked.
///
/// Signed licenses get the deterministic ids `lic_1`, `lic_2`, ... so that replays are
/// reproducible. Every field is optional in JSON.
///
/// ```
/// use dev_health_entitlements::stripe::{BillingConfig, BillingLedger, BillingState, PriceTiers, StripeEvent};
/// use dev_health_entitlements::Tier;
///
/// let config = BillingConfig::new(PriceTiers::parse("price_team=team")?);
/// let event = StripeEvent::parse(br#"{"id":"evt_1","type":"customer.subscription.created","created":1700000000,
///   "data":{"object":{"id":"sub_1","customer":"cus_1","status":"active","current_period_end":1702592000,
///   "metadata":{"org_id":"org_1"},"items":{"data":[{"price":{"id":"price_team"}}]}}}}"#)?;
///
/// let (ledger, outcomes) =
///     BillingLedger::replay([BillingState::new("org_1", Tier::Community)], &[event.clone(), event], &config);
/// let org = ledger.org("org_1").map(|o| (o.tier, o.license_id.clone()));
/// assert_eq!(org, Some((Tier::Team, Some("lic_1".to_owned()))));
/// assert_eq!(outcomes[1].ignored.as_ref().map(|r| r.as_str()), Some("duplicate"));
/// # Ok::<(), dev_health_entitlements::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingLedger {
    /// The orgs, by org id.
    pub orgs: BTreeMap<String, BillingState>,
    /// Ids of the events applied (or ignored) so far; each is applied once.
    pub processed_event_ids: BTreeSet<String>,
    /// Ids of the licenses revoked, in order.
    pub revoked_license_ids: Vec<String>,
    /// The number in the id of the next license signed (`lic_{n}`), starting at 1.
    pub next_license_number: u64,
    /// The last recorded state of every subscription seen, current or earlier, by id: an event
    /// about an earlier subscription is checked against it ([`BillingState::event_subscription`]).
    pub subscriptions: BTreeMap<String, SubscriptionState>,
    /// The current license of each self-hosted deployment, by `org_id/deployment_id` (rule 6a).
    pub deployment_licenses: BTreeMap<String, String>,
}

impl Default for BillingLedger {
    fn default() -> Self {
        BillingLedger {
            orgs: BTreeMap::new(),
            processed_event_ids: BTreeSet::new(),
            revoked_license_ids: Vec::new(),
            next_license_number: 1,
            subscriptions: BTreeMap::new(),
            deployment_licenses: BTreeMap::new(),
        }
    }
}

impl BillingLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        BillingLedger::default()
    }

    /// Adds an org, replacing (and returning) any org with the same id.
    pub fn add_org(&mut self, org: BillingState) -> Option<BillingState> {
        if let Some(subscription) = &org.subscription {
            self.subscriptions
                .insert(subscription.id.clone(), subscription.clone());
        }
        self.orgs.insert(org.org_id.clone(), org)
    }

    /// The org with this id.
    pub fn org(&self, org_id: &str) -> Option<&BillingState> {
        self.orgs.get(org_id)
    }

    /// The org an event concerns: the org its `org_id` names (an unknown one finds nothing: fail
    /// closed), else the org linked to the customer, else the org whose recorded subscription it is.
    pub fn find_org(&self, org_ref: &OrgRef) -> Option<&BillingState> {
        if let Some(id) = org_ref.org_id.as_deref() {
            return self.orgs.get(id);
        }
        None.or_else(|| {
            let customer = org_ref.customer_id.as_deref()?;
            self.orgs
                .values()
                .find(|o| o.stripe_customer_id.as_deref() == Some(customer))
        })
        .or_else(|| {
            let subscription = org_ref.subscription_id.as_deref()?;
            self.orgs
                .values()
                .find(|o| o.subscription.as_ref().map(|s| s.id.as_str()) == Some(subscription))
        })
    }

    /// Applies an event once: a repeated event id is [`IgnoreReason::Duplicate`] and changes
    /// nothing. Performs the actions: a [`Action::SignLicense`] gives the org the next `lic_{n}`,
    /// a [`Action::RevokeLicense`] appends to `revoked_license_ids`. The returned outcome's state
    /// is the org as stored afterwards.
    pub fn apply(&mut self, event: &StripeEvent, config: &BillingConfig) -> Outcome {
        let org_ref = event.org_ref();
        if self.processed_event_ids.contains(&event.id) {
            return Outcome {
                state: self.find_org(&org_ref).cloned(),
                actions: Vec::new(),
                ignored: Some(IgnoreReason::Duplicate),
            };
        }
        self.processed_event_ids.insert(event.id.clone());
        let current = self.find_org(&org_ref).map(|org| {
            let earlier = org_ref
                .subscription_id
                .as_ref()
                .filter(|id| org.subscription.as_ref().map(|s| &s.id) != Some(*id));
            let deployment = event.deployment_id().map(|d| format!("{}/{d}", org.org_id));
            BillingState {
                event_subscription: earlier.and_then(|id| self.subscriptions.get(id)).cloned(),
                event_deployment_license: deployment
                    .and_then(|key| self.deployment_licenses.get(&key))
                    .cloned(),
                ..org.clone()
            }
        });
        let mut outcome = apply_event(event, current.as_ref(), config);
        if let Some(record) = record_for_other_subscription(event, &outcome, config) {
            let newer = self
                .subscriptions
                .get(&record.id)
                .is_none_or(|old| old.last_event_created <= record.last_event_created);
            if newer {
                self.subscriptions.insert(record.id.clone(), record);
            }
        }
        if outcome.ignored.is_some() {
            return outcome;
        }
        if let Some(state) = outcome.state.as_mut() {
            for action in &outcome.actions {
                match action {
                    Action::UpdateSubscription { subscription } => {
                        self.subscriptions
                            .insert(subscription.id.clone(), subscription.clone());
                    }
                    Action::SignLicense { .. } => {
                        state.license_id = Some(format!("lic_{}", self.next_license_number));
                        self.next_license_number = self.next_license_number.saturating_add(1);
                    }
                    Action::SignDeploymentLicense { deployment_id, .. } => {
                        let id = format!("lic_{}", self.next_license_number);
                        self.next_license_number = self.next_license_number.saturating_add(1);
                        self.deployment_licenses
                            .insert(format!("{}/{deployment_id}", state.org_id), id);
                    }
                    Action::RevokeLicense { license_id } => {
                        self.revoked_license_ids.push(license_id.clone());
                    }
                    _ => {}
                }
            }
            self.orgs.insert(state.org_id.clone(), state.clone());
        }
        outcome
    }

    /// Builds a ledger holding `orgs`, applies `events` in order and returns the final ledger
    /// with one outcome per event.
    pub fn replay(
        orgs: impl IntoIterator<Item = BillingState>,
        events: &[StripeEvent],
        config: &BillingConfig,
    ) -> (BillingLedger, Vec<Outcome>) {
        let mut ledger = BillingLedger::new();
        for org in orgs {
            ledger.add_org(org);
        }
        let outcomes = events.iter().map(|e| ledger.apply(e, config)).collect();
        (ledger, outcomes)
    }
}
