// The Node example of docs/node.md runs as written (the block after `<!-- node-readme-example -->`).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const README = fileURLToPath(new URL('../../docs/node.md', import.meta.url))
const PACKAGE = fileURLToPath(new URL('..', import.meta.url))

function block(marker) {
  const text = readFileSync(README, 'utf8')
  const at = text.indexOf(marker)
  assert.ok(at >= 0, `docs/node.md has ${marker}`)
  const match = /```[a-z]*\n([\s\S]*?)\n```/.exec(text.slice(at))
  assert.ok(match, `a code block follows ${marker}`)
  return match[1]
}

test('the docs/node.md Node example prints what its comments say', () => {
  const code = block('<!-- node-readme-example -->')
  const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: PACKAGE, encoding: 'utf8' })
  const lines = out.trim().split('\n')
  assert.match(lines[0], /^active team org_acme \d+$/)
  assert.equal(lines[1], 'true tier_required')
  assert.equal(lines[2], 'true true')
  assert.match(out, /state: 'upgrade'/)
  assert.match(out, /requiredTier: 'enterprise'/)
  assert.match(out, /upgradeHref: '\/org\/admin\/settings'/)
  assert.equal(lines.at(-1), 'invalid_signature')
})
