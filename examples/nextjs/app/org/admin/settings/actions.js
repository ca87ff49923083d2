'use server'
// The billing Server Actions: each asks the license server, with the user's own session, for a
// Stripe page (Checkout, Customer Portal) and sends the browser there. A refusal comes back to
// the settings page as `?error=…` with the server's message.
import { redirect } from 'next/navigation'

import { callLicenseServer, currentSession, LicenseServerError } from '../../../../lib/license-server'

const SETTINGS = '/org/admin/settings'
const TIERS = new Set(['team', 'enterprise'])
const INTERVALS = new Set(['month', 'year'])
const MAX_DEPLOYMENT_ID = 128

function failed(message) {
  redirect(`${SETTINGS}?error=${encodeURIComponent(message)}`)
}

async function stripePage(path, body) {
  const signedIn = await currentSession()
  if (!signedIn) return failed('Sign in as the organization owner to manage billing.')
  let url
  try {
    ;({ url } = await callLicenseServer(signedIn.token, 'POST', path, body))
  } catch (err) {
    if (!(err instanceof LicenseServerError)) throw err
    return failed(err.message)
  }
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return failed('The license server gave no Stripe page to open.')
  redirect(url)
}

/** A plan card's button: a Checkout for `tier` (and, for a self-hosted purchase, its deployment). */
export async function startCheckout(form) {
  const tier = String(form.get('tier') ?? '')
  const interval = String(form.get('interval') ?? 'month')
  if (!TIERS.has(tier) || !INTERVALS.has(interval)) return failed('Choose the Team or Enterprise plan, monthly or yearly.')
  const body = { tier, interval }
  if (form.get('license_type') === 'self_hosted') {
    const deployment = String(form.get('deployment_id') ?? '').trim()
    if (!deployment || deployment.length > MAX_DEPLOYMENT_ID) {
      return failed(`Give the deployment's id (1 to ${MAX_DEPLOYMENT_ID} characters) for a self-hosted license.`)
    }
    Object.assign(body, { license_type: 'self_hosted', deployment_id: deployment })
  }
  return stripePage('/api/v1/billing/checkout', body)
}

/** "Manage billing": the Stripe Customer Portal of the org's customer. */
export async function openPortal() {
  return stripePage('/api/v1/billing/portal', {})
}
