// What the real-client drivers (inspector-flow.mjs, mcp-remote-flow.mjs,
// web-client-flow.mjs) share: counted checks, a free loopback port, and
// the wait for an access token to expire.
import net from 'node:net';

export const checks = { passes: 0, failures: 0 };

const start = Date.now();

// check prints one check with the seconds since the driver started (the
// stages should stay under a minute; this shows where the time goes).
export function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} (${((Date.now() - start) / 1000).toFixed(1)}s)`);
  ok ? checks.passes++ : checks.failures++;
  return ok;
}

// finish prints the line scripts/test.sh counts and exits with its verdict.
export function finish() {
  console.log(`${checks.passes} passed, ${checks.failures} failed`);
  process.exit(checks.failures === 0 ? 0 : 1);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

// untilRefused polls the MCP endpoint with the access token until atomcp
// answers 401 (the token expired: scripts/test.sh starts atomcp with a
// short ATOMCP_ACCESS_TOKEN_TTL), so that the client's next call must
// refresh. It returns whether that happened within timeout.
export async function untilRefused(mcpURL, accessToken, timeout = 60000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const r = await fetch(mcpURL, { method: 'POST', headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    await r.body?.cancel();
    if (r.status === 401) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
