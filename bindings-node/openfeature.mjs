// ESM entry point of @dev-health/entitlements/openfeature (the CommonJS module openfeature.js).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export const { EntitlementsProvider, PROVIDER_NAME } = require('./openfeature.js')
