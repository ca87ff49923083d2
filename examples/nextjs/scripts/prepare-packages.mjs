// Runs before `npm run build` / `npm run dev` (the prebuild and predev scripts): builds the two
// packages this app uses from the repository and puts fresh copies of them into node_modules.
//   bindings-node                @dev-health/entitlements (napi-rs addon, debug build; a Rust
//                                toolchain is needed) via its own `npm run build`
//   packages/entitlements-react  @dev-health/entitlements-react via its own `npm run build`
// The copies are exactly the files `npm pack` would publish (`npm pack --dry-run --json`), and
// replace whatever an earlier install or build left, so no stale addon survives a rebuild.
// DEV_HEALTH_RELEASE=1 builds the addon in release mode.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const app = fileURLToPath(new URL('..', import.meta.url))
const repo = join(app, '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const run = (cwd, ...args) => execFileSync(npm, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })

const packages = [
  { name: '@dev-health/entitlements', dir: join(repo, 'bindings-node'), build: process.env.DEV_HEALTH_RELEASE === '1' ? 'build:release' : 'build' },
  { name: '@dev-health/entitlements-react', dir: join(repo, 'packages', 'entitlements-react'), build: 'build' },
]

for (const pkg of packages) {
  if (!existsSync(join(pkg.dir, 'node_modules', '.package-lock.json'))) {
    run(pkg.dir, 'ci', '--no-audit', '--no-fund', '--loglevel=error')
  }
  console.log(`prepare-packages: building ${pkg.name} (npm run ${pkg.build})`)
  run(pkg.dir, 'run', '--silent', pkg.build)
  const [packed] = JSON.parse(
    execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg.dir, encoding: 'utf8' }),
  )
  const target = join(app, 'node_modules', ...pkg.name.split('/'))
  rmSync(target, { recursive: true, force: true })
  for (const { path } of packed.files) {
    mkdirSync(dirname(join(target, path)), { recursive: true })
    cpSync(join(pkg.dir, path), join(target, path))
  }
  console.log(`prepare-packages: ${pkg.name}: ${packed.files.length} files copied into node_modules`)
}
