/** @type {import('next').NextConfig} */
const nextConfig = {
  // The binding is a native addon: load it with Node's require at run time, never bundle it.
  serverExternalPackages: ['@dev-health/entitlements'],
}

export default nextConfig
