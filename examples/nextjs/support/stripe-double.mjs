// A Stripe API test double for the browser test, the Node twin of
// server/tests/server_support/stripe_double.rs: it answers the calls the license server makes
// (customers, prices, Checkout and portal sessions) with Stripe's own example objects
// (server/tests/fixtures/stripe, from Stripe's fixtures3.json) adjusted to the request, and serves
// the pages the browser is sent to. Its Checkout page pays the session as a customer would: it
// sends the webhooks Stripe sends (checkout.session.completed, customer.subscription.created,
// invoice.paid), signed by the official `stripe` package, and only when the server took them all
// redirects to the session's success_url.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

import Stripe from 'stripe'

const FIXTURES = new URL('../../../server/tests/fixtures/stripe/', import.meta.url)
const STRIPE_VERSION = '2025-03-31.basil'
const DAY = 86400
const MAX_BODY = 64 * 1024

const fixture = (name) => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'))
const now = () => Math.floor(Date.now() / 1000)
const html = (title, body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])

/** `prefix[key]=v` form fields as an object (Stripe's metadata encoding). */
function nested(form, prefix) {
  const out = {}
  for (const [k, v] of form) if (k.startsWith(`${prefix}[`) && k.endsWith(']')) out[k.slice(prefix.length + 1, -1)] = v
  return out
}

function stripeError(res, status, message, code = null) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { type: 'invalid_request_error', code, message } }))
}

/**
 * Starts the double. `prices`: `{ price_id: interval }`; `apiKey`: the key the server must send;
 * `webhookUrl()` / `webhookSecret`: where (asked at delivery) and how to deliver the events.
 */
export async function startStripeDouble({ prices, apiKey, webhookUrl, webhookSecret }) {
  const stripe = new Stripe('sk_test_double_signs_webhooks_only')
  const books = { customers: new Map(), sessions: new Map(), portals: new Map(), byKey: new Map(), seq: 0, calls: [] }
  const nextId = (prefix) => `${prefix}_double${++books.seq}`
  let base

  function event(type, object, at) {
    return {
      id: nextId('evt'), object: 'event', api_version: STRIPE_VERSION, created: at, data: { object },
      livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type,
    }
  }

  function subscriptionObject(id, customer, price, metadata, at, periodEnd) {
    const s = fixture('subscription')
    Object.assign(s, {
      id, customer, status: 'active', metadata, created: at, start_date: at, billing_cycle_anchor: at,
      cancel_at: null, canceled_at: null, ended_at: null, trial_start: null, trial_end: null,
      cancel_at_period_end: false, latest_invoice: null,
    })
    const item = s.items.data[0]
    Object.assign(item, { id: `si_${id}`, subscription: id, created: at, current_period_start: at, current_period_end: periodEnd })
    item.price = { ...fixture('price'), id: price }
    item.price.recurring = { ...item.price.recurring, interval: prices[price] }
    s.items.url = `/v1/subscription_items?subscription=${id}`
    return s
  }

  function invoiceObject(id, subscription, at) {
    const item = subscription.items.data[0]
    const i = fixture('invoice')
    Object.assign(i, {
      id, customer: subscription.customer, status: 'paid', billing_reason: 'subscription_create',
      amount_paid: i.amount_due, amount_remaining: 0, created: at,
      period_start: item.current_period_start, period_end: item.current_period_end,
    })
    i.status_transitions.paid_at = at
    i.parent = {
      type: 'subscription_details', quote_details: null,
      subscription_details: { subscription: subscription.id, metadata: subscription.metadata },
    }
    const line = i.lines.data[0]
    line.invoice = id
    line.pricing = {
      type: 'price_details', unit_amount_decimal: item.price.unit_amount_decimal,
      price_details: { price: item.price.id, product: item.price.product },
    }
    line.period = { start: item.current_period_start, end: item.current_period_end }
    line.parent = {
      type: 'subscription_item_details', invoice_item_details: null,
      subscription_item_details: {
        subscription: subscription.id, subscription_item: item.id, proration: false, invoice_item: null,
        proration_details: { credited_items: null },
      },
    }
    i.lines.url = `/v1/invoices/${id}/lines`
    return i
  }

  async function deliver(evt) {
    const payload = JSON.stringify(evt)
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret })
    const res = await fetch(webhookUrl(), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload })
    if (!res.ok) throw new Error(`the server refused ${evt.type}: ${res.status} ${await res.text()}`)
  }

  // Pays the session: its subscription, the first invoice and the three events, in Stripe's order.
  async function pay(session) {
    const at = now()
    const [price, metadata] = session.terms
    const subscription = subscriptionObject(nextId('sub'), session.customer, price, metadata, at, at + 30 * DAY)
    const invoice = invoiceObject(nextId('in'), subscription, at)
    Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: subscription.id, amount_total: 2000 })
    const { terms: _terms, ...completed } = session
    for (const evt of [
      event('checkout.session.completed', completed, at),
      event('customer.subscription.created', subscription, at),
      event('invoice.paid', invoice, at),
    ]) {
      await deliver(evt)
    }
  }

  // The API: each POST answered once per Idempotency-Key, as Stripe does.
  function api(req, form, res) {
    const path = new URL(req.url, base).pathname
    const send = (obj) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(obj))
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) return stripeError(res, 401, 'Invalid API Key provided')
    books.calls.push({ method: req.method, path, form: Object.fromEntries(form) })
    if (req.method === 'GET' && path.startsWith('/v1/prices/')) {
      const id = decodeURIComponent(path.slice('/v1/prices/'.length))
      if (!(id in prices)) return stripeError(res, 404, `No such price: '${id}'`, 'resource_missing')
      const p = fixture('price')
      return send({ ...p, id, recurring: { ...p.recurring, interval: prices[id] } })
    }
    if (req.method !== 'POST') return stripeError(res, 404, 'Unrecognized request URL')
    const key = req.headers['idempotency-key']
    if (key && books.byKey.has(`${path} ${key}`)) return send(books.byKey.get(`${path} ${key}`))
    const create = () => {
      if (path === '/v1/customers') {
        if (!form.get('metadata[org_id]')) return 'Missing required param: metadata[org_id].'
        const c = { ...fixture('customer'), id: nextId('cus'), created: now(), name: form.get('name'), metadata: nested(form, 'metadata'), discount: null }
        books.customers.set(c.id, c)
        return c
      }
      if (path === '/v1/checkout/sessions') {
        const customer = form.get('customer')
        const price = form.get('line_items[0][price]')
        if (!books.customers.has(customer)) return `No such customer: '${customer}'`
        if (!(price in prices)) return `No such price: '${price}'`
        if (form.get('mode') !== 'subscription' || !form.get('success_url') || !form.get('cancel_url')) {
          return 'The double sells subscriptions with a success_url and a cancel_url only'
        }
        const id = nextId('cs_test')
        const s = {
          ...fixture('checkout_session'), id, url: `${base}/c/pay/${id}`, mode: 'subscription', customer,
          client_reference_id: form.get('client_reference_id'), metadata: nested(form, 'metadata'),
          success_url: form.get('success_url'), cancel_url: form.get('cancel_url'), created: now(),
          expires_at: now() + DAY, status: 'open', payment_status: 'unpaid', payment_intent: null, subscription: null,
        }
        books.sessions.set(id, { ...s, terms: [price, nested(form, 'subscription_data[metadata]')] })
        return s
      }
      if (path === '/v1/billing_portal/sessions') {
        const customer = form.get('customer')
        if (!books.customers.has(customer)) return `No such customer: '${customer}'`
        const id = nextId('bps')
        const p = {
          ...fixture('billing_portal_session'), id, customer, return_url: form.get('return_url'),
          url: `${base}/p/session/${id}`, flow: null, livemode: false, created: now(),
        }
        books.portals.set(id, p)
        return p
      }
      return null
    }
    const made = create()
    if (made === null) return stripeError(res, 404, 'Unrecognized request URL')
    if (typeof made === 'string') return stripeError(res, 400, made, 'resource_missing')
    if (key) books.byKey.set(`${path} ${key}`, made)
    return send(made)
  }

  // The pages the browser is sent to instead of checkout.stripe.com and billing.stripe.com.
  async function pages(req, res) {
    const path = new URL(req.url, base).pathname
    const page = (status, title, body) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
      res.end(html(title, body))
    }
    const pay_ = /^\/c\/pay\/([\w-]+)$/.exec(path)
    if (pay_) {
      const session = books.sessions.get(pay_[1])
      if (!session) return page(404, 'No such checkout session', '')
      if (req.method === 'GET') {
        return page(200, 'Stripe Checkout (test double)', `<p>Subscribe to ${escape(session.terms[0])}</p><form method="post"><button type="submit">Subscribe</button></form>`)
      }
      if (session.status !== 'open') return page(409, 'This checkout session is complete', '')
      try {
        await pay(session)
      } catch (err) {
        return page(502, 'The license server refused the webhooks', `<pre>${escape(err.message)}</pre>`)
      }
      res.writeHead(303, { location: session.success_url.replace('{CHECKOUT_SESSION_ID}', session.id) })
      return res.end()
    }
    const portal = /^\/p\/session\/([\w-]+)$/.exec(path)
    if (portal && books.portals.has(portal[1])) {
      const p = books.portals.get(portal[1])
      return page(200, 'Stripe customer portal (test double)', `<p>Customer ${escape(p.customer)}</p><a href="${escape(p.return_url)}">Return</a>`)
    }
    return page(404, 'Not found', '')
  }

  const server = createServer((req, res) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
    })
    req.on('end', () => {
      if (size > MAX_BODY) return stripeError(res, 413, 'Request too large')
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      if (req.url.startsWith('/v1/')) return api(req, form, res)
      pages(req, res).catch((err) => {
        res.writeHead(500)
        res.end(String(err))
      })
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  return {
    url: base,
    calls: () => books.calls,
    stop: () => new Promise((resolve) => server.close(resolve)),
  }
}
