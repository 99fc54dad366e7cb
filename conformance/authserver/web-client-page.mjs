// The web app of web-client-flow.mjs, bundled for the browser with
// esbuild: the TypeScript SDK's MCP client in a page on its own https
// origin. Discovery, registration, the token requests and the MCP requests
// are the page's own fetches (CORS); the sign-in runs in a second tab, as
// in a popup flow. The driver calls the functions on window.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const redirectUrl = `${location.origin}/callback`;
const provider = {
  tokensSeen: [],
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return { client_name: 'Web app (TypeScript SDK)', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none', application_type: 'web' };
  },
  clientInformation() { return this.registered; },
  saveClientInformation(info) { this.registered = info; },
  tokens() { return this.tokensSeen.at(-1); },
  saveTokens(t) { this.tokensSeen.push({ ...t }); },
  redirectToAuthorization(url) { this.authorizationURL = url.href; },
  saveCodeVerifier(v) { this.verifier = v; },
  codeVerifier() { return this.verifier; },
};
let mcpURL, transport, client;
const call = { name: 'workspace_tool', arguments: { operation: 'get_context' } };

// start connects without a token: 401, discovery, registration; it returns
// where the person must sign in.
window.start = async (url) => {
  mcpURL = new URL(url);
  transport = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
  client = new Client({ name: 'web-app-e2e', version: '1.0.0' });
  try {
    await client.connect(transport);
    return { error: 'connected without signing in' };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) return { error: String(e) };
  }
  return { clientID: provider.registered?.client_id, authorizationURL: provider.authorizationURL, origin: location.origin };
};

// finish exchanges the code, connects, lists the tools and calls one.
window.finish = async (code) => {
  await transport.finishAuth(code);
  transport = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
  client = new Client({ name: 'web-app-e2e', version: '1.0.0' });
  await client.connect(transport);
  const tools = await client.listTools();
  const r = await client.callTool(call);
  return { tools: tools.tools.map((t) => t.name), callOK: !r.isError && r.content.length > 0, tokens: provider.tokens() };
};

// again calls the tool once more: after the access token expired, the SDK
// gets a 401, refreshes and retries.
window.again = async () => {
  const r = await client.callTool(call);
  return { callOK: !r.isError && r.content.length > 0, tokens: provider.tokens() };
};
