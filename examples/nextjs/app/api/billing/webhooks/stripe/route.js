// A Stripe webhook endpoint: the raw body is checked against `Stripe-Signature` with the
// endpoint's secrets (STRIPE_WEBHOOK_SECRET, a comma list during a rotation) before anything else.
// A real host then applies the event (applyStripeEvent / BillingLedger) and stores the outcome.
import { LicenseError, verifyStripeSignature } from '@dev-health/entitlements'

export const dynamic = 'force-dynamic'

const MAX_BODY_BYTES = 1024 * 1024

export async function POST(request) {
  const body = Buffer.from(await request.arrayBuffer())
  if (body.length > MAX_BODY_BYTES) {
    return Response.json({ detail: 'Payload too large' }, { status: 413 })
  }
  const secrets = (process.env.STRIPE_WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  try {
    verifyStripeSignature(body, request.headers.get('stripe-signature') ?? '', secrets)
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return Response.json({ detail: 'Invalid Stripe signature' }, { status: 400 })
  }
  const event = JSON.parse(body.toString('utf8'))
  return Response.json({ status: 'ok', type: event.type })
}
