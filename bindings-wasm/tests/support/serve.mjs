// A tiny static file server for the browser tests and the viewer, bound to 127.0.0.1.
// It serves the repository root, plus /.well-known/jwks.json (the viewer's default JWKS URL)
// from a file when one is given (what the reference server publishes on the viewer's origin), or
// as a redirect to a license server's JWKS (`make viewer`: the server `make run` starts).
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/** Starts the server on `port` (0: any free port); resolves to {url, close}. */
export function serve({ port = 0, jwksFile = null, jwksUrl = null } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
      let file;
      if (path === "/.well-known/jwks.json" && jwksUrl && !jwksFile) {
        res.writeHead(307, { location: jwksUrl, "cache-control": "no-store" });
        res.end();
        return;
      }
      if (path === "/.well-known/jwks.json" && jwksFile) {
        file = jwksFile;
      } else {
        file = normalize(join(ROOT, path));
        if (!file.startsWith(ROOT) || file.split(sep).includes("node_modules")) throw new Error("outside");
        if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      }
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      resolve({ url: `http://127.0.0.1:${bound}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // node serve.mjs PORT [JWKS_FILE | JWKS_URL]
  const port = Number(process.argv[2] ?? 8088);
  const jwks = process.argv[3] ?? null;
  const remote = jwks !== null && /^https?:\/\//.test(jwks);
  const { url } = await serve({ port, jwksFile: remote ? null : jwks, jwksUrl: remote ? jwks : null });
  console.log(`serving the repository on ${url}/ — the viewer: ${url}/examples/license-viewer/`);
  if (remote) console.log(`its default JWKS URL, ${url}/.well-known/jwks.json, leads to ${jwks}`);
}
