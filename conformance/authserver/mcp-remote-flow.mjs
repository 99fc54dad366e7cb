// mcp-remote (pinned in ../package.json), the stdio bridge Claude Desktop
// runs for a remote server, against `atomcp serve` with its embedded
// authorization server, driven through its stdio as Claude Desktop does
// (here by the TypeScript SDK's stdio client): its OAuth (dynamic client
// registration, sign-in and consent in headless Chromium on the URL it
// prints, its loopback callback), tools/list and tools/call, then, once the
// access token has expired, another tools/call, which must refresh.
//
//   node mcp-remote-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { launch, signIn } from './browser.mjs';
import { check, finish, freePort, untilRefused } from './clients.mjs';

const [mcpURL, email, password, dir] = process.argv.slice(2);
const node = process.execPath; // the pinned Node 22 that runs this driver
if (!dir) {
  console.error('usage: mcp-remote-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR');
  process.exit(2);
}
const proxy = fileURLToPath(new URL('../node_modules/mcp-remote/dist/proxy.js', import.meta.url));
const port = await freePort();

// stored reads mcp-remote's files (MCP_REMOTE_CONFIG_DIR/mcp-remote-v1/<hash>_NAME).
function stored(name) {
  const d = `${dir}/mcp-remote-v1`;
  const f = readdirSync(d).find((n) => n.endsWith(`_${name}`));
  return f ? JSON.parse(readFileSync(`${d}/${f}`, 'utf8')) : {};
}

const browser = await launch();
const transport = new StdioClientTransport({
  command: node, args: [proxy, mcpURL, String(port)], stderr: 'pipe',
  // BROWSER=true: its opener "succeeds" without opening anything; the
  // driver opens the URL it prints.
  env: { ...process.env, HOME: dir, MCP_REMOTE_CONFIG_DIR: dir, BROWSER: 'true' },
});
let log = '', authURL = '', signedIn = null;
const seen = {};
transport.stderr.on('data', (d) => {
  log += d;
  const m = log.match(/Please authorize this client by visiting:\s+(\S+)/);
  if (m && !authURL) {
    authURL = m[1];
    signedIn = signIn(browser, authURL, { email, password, callbackPrefix: `http://localhost:${port}/`, seen }).catch((e) => e);
  }
});
const client = new Client({ name: 'mcp-remote-e2e', version: '1.0.0' });
const slow = { timeout: 120000 };
try {
  await client.connect(transport, slow);
  const back = await signedIn;
  check(stored('client_info.json').client_id && new URL(authURL).searchParams.get('client_id'), 'dynamic client registration (client_info.json, the authorization URL)');
  check(typeof back === 'string' && new URL(back).searchParams.get('code'), `sign-in in Chromium (${back instanceof Error ? back.message : 'back at the callback with a code'})`);
  check(seen.consent, 'the consent page was shown and allowed');
  const held = stored('tokens.json');
  check(held.access_token && held.refresh_token, 'mcp-remote holds an access and a refresh token');
  const tools = await client.listTools(undefined, slow);
  check(tools.tools.some((t) => t.name === 'workspace_tool'), `tools/list through the bridge (${tools.tools.length} tools)`);
  const args = { name: 'workspace_tool', arguments: { operation: 'get_context' } };
  const r1 = await client.callTool(args, undefined, slow);
  check(!r1.isError && r1.content?.length > 0, 'tools/call workspace_tool get_context');

  check(await untilRefused(mcpURL, stored('tokens.json').access_token), 'the access token expired (atomcp answers 401)');
  const before = stored('tokens.json');
  const r2 = await client.callTool(args, undefined, slow);
  check(!r2.isError && r2.content?.length > 0, 'tools/call after the access token expired');
  const after = stored('tokens.json');
  check(after.access_token !== before.access_token && after.refresh_token !== before.refresh_token, 'mcp-remote refreshed (new access token, refresh token rotated)');
} catch (e) {
  check(false, e.stack ?? String(e));
  console.log(`mcp-remote's stderr:\n${log.slice(-3000)}`);
} finally {
  await client.close().catch(() => {});
  await browser.close();
}
finish();
