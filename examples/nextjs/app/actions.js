'use server'
// A gated Server Action: exporting the audit log needs the enterprise feature `audit_log`. A
// denial comes back as a value (isDenied), with the same status and body as the Route Handler.
import { withFeature } from '@dev-health/entitlements-react'

import { exampleEntitlements } from '../lib/entitlements'

export const exportAuditLog = withFeature(
  'audit_log',
  async (_previous, form) => ({ file: `audit-log.${form.get('format') ?? 'csv'}`, entries: 2 }),
  { entitlements: () => exampleEntitlements().entitlements },
)
