// The billing settings page (the default upgradeHref of SPEC §4): the org's plan from the license
// server, a card per paid plan whose button starts a Stripe Checkout, "Manage billing" (the
// Customer Portal), and the self-hosted licenses the org bought, each with a copy button. Every
// call goes from this server to the license server with the signed-in user's session.
import { catalog, planName } from '../../../../lib/entitlements'
import { callLicenseServer, currentSession, LicenseServerError, licenseServerUrl } from '../../../../lib/license-server'
import { openPortal, startCheckout } from './actions'
import CopyButton from './copy-button'

export const dynamic = 'force-dynamic'

const PAID = ['team', 'enterprise']

function PlanCard({ tier, current }) {
  const name = planName(tier)
  const rank = (t) => catalog.tiers.findIndex((x) => x.tier === t)
  return (
    <section className="card" data-testid={`plan-${tier}`}>
      <h2>{name}</h2>
      {tier === current ? (
        <p>
          <strong>Current plan</strong>
        </p>
      ) : (
        <form action={startCheckout}>
          <input type="hidden" name="tier" value={tier} />
          <label>
            Billed{' '}
            <select name="interval" defaultValue="month">
              <option value="month">monthly</option>
              <option value="year">yearly</option>
            </select>
          </label>{' '}
          <button type="submit">{rank(tier) > rank(current) ? `Upgrade to ${name}` : `Switch to ${name}`}</button>
        </form>
      )}
    </section>
  )
}

function SelfHosted({ licenses }) {
  return (
    <section className="card" data-testid="self-hosted">
      <h2>Self-hosted licenses</h2>
      <form action={startCheckout}>
        <input type="hidden" name="license_type" value="self_hosted" />
        <label>
          Deployment id <input name="deployment_id" required maxLength={128} />
        </label>{' '}
        <select name="tier" defaultValue="enterprise" aria-label="Plan">
          {PAID.map((t) => (
            <option key={t} value={t}>
              {planName(t)}
            </option>
          ))}
        </select>{' '}
        <button type="submit">Buy a self-hosted license</button>
      </form>
      {licenses.length === 0 ? (
        <p className="muted">No self-hosted license yet.</p>
      ) : (
        <ul>
          {licenses.map((l) => (
            <li key={l.license_id} data-testid="self-hosted-license" data-deployment={l.deployment_id}>
              {planName(l.tier)} for deployment <code>{l.deployment_id}</code>, valid to {l.expires_at.slice(0, 10)}
              {l.revoked_at ? ' (replaced)' : ''}
              <br />
              <textarea readOnly rows={3} cols={60} value={l.license} aria-label={`License ${l.license_id}`} />{' '}
              <CopyButton text={l.license} label="Copy license" />
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

export default async function PlanSettings({ searchParams }) {
  const params = await searchParams
  const header = (
    <>
      <h1>Plan and billing</h1>
      <p>
        <a href="/">Back</a>
      </p>
    </>
  )
  const signedIn = licenseServerUrl() ? await currentSession() : null
  if (!signedIn) {
    return (
      <main>
        {header}
        <p>Choose a plan for this organization, or contact sales for an Enterprise license.</p>
        {licenseServerUrl() ? <p className="alert">Sign in as the organization owner to manage billing.</p> : null}
      </main>
    )
  }
  const org = encodeURIComponent(signedIn.session.orgId)
  let entitlements
  let licenses
  let problem = null
  try {
    entitlements = await callLicenseServer(signedIn.token, 'GET', `/api/v1/licensing/entitlements/${org}`)
    licenses = (await callLicenseServer(signedIn.token, 'GET', `/api/v1/licensing/licenses/${org}`)).licenses
  } catch (err) {
    if (!(err instanceof LicenseServerError)) throw err
    problem = err.message
  }
  return (
    <main>
      {header}
      {params.checkout === 'success' ? (
        <p role="status">Thank you: the payment went through. The plan below is what Stripe confirmed.</p>
      ) : params.checkout === 'canceled' ? (
        <p role="status">The checkout was canceled; nothing was charged.</p>
      ) : null}
      {typeof params.error === 'string' ? (
        <p className="alert" role="alert" data-testid="billing-error">
          {params.error}
        </p>
      ) : null}
      {problem ? (
        <p className="alert" role="alert">
          {problem}
        </p>
      ) : (
        <>
          <p data-testid="plan">
            Plan: <strong>{planName(entitlements.tier)}</strong>
          </p>
          <form action={openPortal}>
            <button type="submit">Manage billing</button>
          </form>
          {PAID.map((tier) => (
            <PlanCard key={tier} tier={tier} current={entitlements.tier} />
          ))}
          <SelfHosted licenses={licenses.filter((l) => l.license_type === 'self_hosted')} />
        </>
      )}
    </main>
  )
}
