//! Stripe webhooks: signature verification and the pure subscription event engine.
