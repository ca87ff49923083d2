'use client'
// Copies a license token to the clipboard and says whether it worked.
import { useState } from 'react'

export default function CopyButton({ text, label = 'Copy' }) {
  const [state, setState] = useState(null)
  async function copy() {
    try {
      await navigator.clipboard.writeText(text)
      setState('Copied')
    } catch {
      setState('Copy failed: select the text and copy it')
    }
  }
  return (
    <>
      <button type="button" onClick={copy}>
        {label}
      </button>
      {state ? <span role="status"> {state}</span> : null}
    </>
  )
}
