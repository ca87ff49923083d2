// The one Next.js module the package loads (only for a Server Action's request headers), declared
// here so that the package builds without Next.js installed; `next` is an optional peer.
declare module 'next/headers' {
  export function headers(): Promise<Headers>
}
