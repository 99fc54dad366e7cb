// The TypeScript SDK's MCP client (@modelcontextprotocol/sdk) against
// `atomcp serve` with its default embedded authorization server:
// discovery -> dynamic client registration -> sign-in and consent (headless
// Chromium) -> token -> tools/list -> refresh (after the access token is
// spoiled, the SDK refreshes on the 401 and retries).
//
//   node ts-client-flow.mjs MCP_URL EMAIL PASSWORD
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launch, signIn } from './browser.mjs';

const [mcpURL, email, password] = process.argv.slice(2);
if (!password) {
  console.error('usage: ts-client-flow.mjs MCP_URL EMAIL PASSWORD');
  process.exit(2);
}
let failures = 0, passes = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  ok ? passes++ : failures++;
}

// The redirect target: a loopback server, as a native client runs one.
const callback = http.createServer((req, res) => { res.end('signed in; you can close this page'); });
await new Promise((r) => callback.listen(0, '127.0.0.1', r));
const redirectUrl = `http://127.0.0.1:${callback.address().port}/callback`;

class Provider {
  constructor() { this.savedTokens = []; this.registered = null; }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return { client_name: 'TypeScript SDK e2e', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.registered ?? undefined; }
  saveClientInformation(info) { this.registered = info; }
  tokens() { return this.savedTokens.at(-1); }
  saveTokens(t) { this.savedTokens.push({ ...t }); }
  redirectToAuthorization(url) { this.authorizationURL = url.href; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

const provider = new Provider();
const browser = await launch();
try {
  // 1. Unauthenticated connect: discovery and registration, then the SDK
  //    asks to send the user to the authorization URL.
  let transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
  let client = new Client({ name: 'ts-sdk-e2e', version: '1.0.0' });
  let unauthorized = false;
  try { await client.connect(transport); } catch (e) { unauthorized = e instanceof UnauthorizedError; if (!unauthorized) throw e; }
  check(unauthorized, 'the first connect needs authorization (401 -> discovery)');
  check(!!provider.registered?.client_id, `dynamic client registration (client_id ${provider.registered?.client_id})`);
  check(!!provider.authorizationURL, 'the SDK built an authorization URL');

  // 2. A person signs in and consents.
  const back = await signIn(browser, provider.authorizationURL, { email, password, callbackPrefix: redirectUrl });
  const code = new URL(back).searchParams.get('code');
  check(!!code, 'the browser came back with a code');

  // 3. Token, then a new connection with it.
  await transport.finishAuth(code);
  check(provider.savedTokens.length === 1 && !!provider.tokens()?.refresh_token, 'code exchanged for an access and a refresh token');
  transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
  client = new Client({ name: 'ts-sdk-e2e', version: '1.0.0' });
  await client.connect(transport);
  const tools = await client.listTools();
  check(tools.tools.some((t) => t.name === 'workspace_tool'), `tools/list (${tools.tools.length} tools)`);

  // 4. Refresh: spoil the access token; the SDK gets a 401, refreshes and
  //    retries.
  const before = provider.tokens();
  provider.savedTokens.push({ ...before, access_token: 'spoiled' });
  const again = await client.listTools();
  const after = provider.tokens();
  check(again.tools.length === tools.tools.length, 'tools/list after the refresh');
  check(after.access_token !== 'spoiled' && after.refresh_token !== before.refresh_token, 'the refresh token was rotated');
  await client.close();
} catch (e) {
  console.log(`FAIL ${e.stack ?? e}`);
  failures++;
} finally {
  await browser.close();
  callback.close();
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
