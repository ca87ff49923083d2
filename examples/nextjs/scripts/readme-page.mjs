// Copies the Next.js page snippet of docs/node.md (the block after `<!-- nextjs-readme-example -->`) into
// this app as app/readme-example/page.js, so that `make test-node` builds and checks it as written.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const readme = readFileSync(new URL('../../../docs/node.md', import.meta.url), 'utf8')
const marker = '<!-- nextjs-readme-example -->'
const at = readme.indexOf(marker)
if (at < 0) throw new Error(`docs/node.md has no ${marker}`)
const match = /```[a-z]*\n([\s\S]*?)\n```/.exec(readme.slice(at))
if (!match) throw new Error(`no code block after ${marker}`)
const dir = new URL('../app/readme-example/', import.meta.url)
mkdirSync(dir, { recursive: true })
writeFileSync(new URL('page.js', dir), `// Generated from docs/node.md by scripts/readme-page.mjs: do not edit.\n${match[1]}\n`)
