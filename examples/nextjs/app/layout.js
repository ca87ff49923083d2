import './globals.css'

export const metadata = {
  title: 'Dev Health: entitlements example',
  description: 'Features gated by the Dev Health license, verified on the server.',
}

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
