'use client'
// Calls the gated Server Action and shows what came back: the export, or the denial.
import { useActionState } from 'react'
import { useFeature } from '@dev-health/entitlements-react'

import { exportAuditLog } from './actions'

export default function ExportAuditLog() {
  const [result, action, pending] = useActionState(exportAuditLog, null)
  const feature = useFeature('audit_log')
  return (
    <form action={action} className="card" data-testid="export">
      <h2>Export the audit log</h2>
      <p className="muted">
        The button is offered to every plan; the server decides ({feature.enabled ? 'licensed' : 'not licensed'} here).
      </p>
      <input type="hidden" name="format" value="csv" />
      <button type="submit" disabled={pending}>
        Export
      </button>
      {result?.denied ? (
        <p role="status" data-testid="export-result" data-status={result.status}>
          {result.status} {result.detail.error}: {result.message}
        </p>
      ) : result ? (
        <p role="status" data-testid="export-result" data-status="200">
          Exported {result.file} ({result.entries} entries)
        </p>
      ) : null}
    </form>
  )
}
