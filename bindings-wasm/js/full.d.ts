// The `full` build's additions (Node, and the browser conformance module): sessions and Stripe.
/**
 * Verifies user session tokens (EdDSA; HS256 only with a configured shared secret).
 */
export class SessionVerifier {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * A verifier of session tokens signed by `keyring`, with options
     * `{hs256Secret?: string (UTF-8, at least 32 bytes), leeway = 60, issuer?}`.
     */
    constructor(keyring: Keyring, options?: SessionVerifierOptions | null);
    /**
     * Verifies a session token at `now` (the JS clock when left out):
     * `{sub, email, orgId, role, isSuperuser, exp}` (and `expiresAt`, the same as `exp`).
     */
    verify(token: string, now?: number | null): Session;
}

/**
 * Replays Stripe events, in order, through the core's in-memory billing ledger:
 * `{config, orgs: [BillingState], events: [Stripe event]}` →
 * `{outcomes: [Outcome], orgs: {orgId: BillingState}, revokedLicenseIds: [string]}`.
 * Billing states and outcomes keep the core's JSON shape (snake_case).
 */
export function replayStripeEvents(input: StripeReplayInput): StripeReplay;

/**
 * Verifies a `Stripe-Signature` header against the raw body (text or bytes) with one secret or any
 * of a list, and returns its signed timestamp. `now` defaults to the JS clock, `tolerance` to 300 s.
 */
export function verifyStripeSignature(payload: string | Uint8Array, header: string, secrets: string | string[], now?: number | null, tolerance?: number | null): number;
/** The same, with options as in the Node package: `(payload, header, secrets, {now?, tolerance?})`. */
export function verifyStripeSignature(payload: string | Uint8Array, header: string, secrets: string | string[], options: StripeSignatureOptions): number;
