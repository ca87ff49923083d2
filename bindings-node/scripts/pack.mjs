// Packs @dev-health/entitlements the napi-rs way: one npm package per platform holding its
// release addon (@dev-health/entitlements-<platform>, chosen by npm through os/cpu/libc), and
// the main package (JS, types, the OpenFeature provider, no addon) naming them all in
// optionalDependencies. Reads the addons from <build dir>/<target triple>/, stages each package
// under <out>/stage/ and writes the tarballs of `npm pack` to <out>/.
//
//   node scripts/pack.mjs <build dir> <out dir> [platform,...]   (default: all four)
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const [buildArg, outArg, only] = process.argv.slice(2)
if (!buildArg || !outArg) throw new Error('usage: node scripts/pack.mjs <build dir> <out dir> [platform,...]')
const [buildDir, outDir] = [resolve(buildArg), resolve(outArg)]

const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const binary = main.napi.binaryName

/** The platforms of SPEC §8: napi-rs platform name, Rust target, npm os/cpu/libc. */
const PLATFORMS = [
  { platform: 'linux-x64-gnu', target: 'x86_64-unknown-linux-gnu', cpu: 'x64', libc: 'glibc' },
  { platform: 'linux-arm64-gnu', target: 'aarch64-unknown-linux-gnu', cpu: 'arm64', libc: 'glibc' },
  { platform: 'linux-x64-musl', target: 'x86_64-unknown-linux-musl', cpu: 'x64', libc: 'musl' },
  { platform: 'linux-arm64-musl', target: 'aarch64-unknown-linux-musl', cpu: 'arm64', libc: 'musl' },
]

const stage = join(outDir, 'stage')
rmSync(stage, { recursive: true, force: true })
mkdirSync(stage, { recursive: true })

function pack(dir) {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: dir, encoding: 'utf8' }))
  console.log(`${packed.filename}: ${packed.size} bytes (${packed.unpackedSize} unpacked, ${packed.entryCount} files)`)
}

const quickstart = `\`\`\`js
// npm install ${main.name}   (npm picks this platform's package by itself)
const { Entitlements, Keyring, Verifier } = require('${main.name}')
const license = new Verifier(Keyring.parse(process.env.DEV_HEALTH_LICENSE_PUBLIC_KEYS)).verify(token)
const ent = Entitlements.resolve({ license })
console.log(ent.tier, ent.has('capacity_forecast'))
\`\`\``

const wanted = only ? only.split(',') : PLATFORMS.map((p) => p.platform)
for (const p of PLATFORMS.filter((p) => wanted.includes(p.platform))) {
  const file = `${binary}.${p.platform}.node`
  const built = join(buildDir, p.target, file)
  if (!existsSync(built)) throw new Error(`${built} is missing: build the ${p.target} addon first`)
  const dir = join(stage, p.platform)
  mkdirSync(dir)
  copyFileSync(built, join(dir, file))
  const pkg = {
    name: `${main.name}-${p.platform}`,
    version: main.version,
    description: `The ${p.target} native addon of ${main.name}; installed by npm with it on that platform.`,
    license: main.license,
    main: file,
    files: [file, 'README.md'],
    os: ['linux'],
    cpu: [p.cpu],
    libc: [p.libc],
    engines: main.engines,
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  writeFileSync(
    join(dir, 'README.md'),
    `# ${pkg.name}\n\nThe \`${p.target}\` build of [\`${main.name}\`](https://www.npmjs.com/package/${main.name})'s ` +
      `native addon. Do not install it directly: \`${main.name}\` lists it in \`optionalDependencies\` and npm ` +
      `installs the one matching the machine (os \`linux\`, cpu \`${p.cpu}\`, libc \`${p.libc}\`).\n\n## Quickstart\n\n${quickstart}\n`,
  )
  pack(dir)
}

// The main package: everything it ships except the addon, with the platforms as optional
// dependencies.
const mainDir = join(stage, 'main')
mkdirSync(mainDir)
const shipped = main.files.filter((f) => !f.endsWith('.node'))
for (const f of shipped) copyFileSync(join(root, f), join(mainDir, f))
const { devDependencies: _dev, scripts: _scripts, ...published } = main
published.files = shipped
published.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [`${main.name}-${p.platform}`, main.version]))
published.napi = { ...main.napi, targets: PLATFORMS.map((p) => p.target) }
writeFileSync(join(mainDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`)
pack(mainDir)
