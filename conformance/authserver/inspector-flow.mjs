// The MCP Inspector's CLI (@modelcontextprotocol/inspector, pinned in
// ../package.json) against `atomcp serve` with its embedded authorization
// server: its own OAuth (dynamic client registration, sign-in and consent
// in headless Chromium, token) on `tools/list --strict`, whose schema lint
// must find nothing; then `tools/call` with the stored tokens; then, once
// the access token has expired, `tools/call` again, which must refresh.
//
//   node inspector-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, signIn } from './browser.mjs';
import { check, finish, freePort, untilRefused } from './clients.mjs';

const [mcpURL, email, password, dir] = process.argv.slice(2);
const node = process.execPath; // the pinned Node 22 that runs this driver
if (!dir) {
  console.error('usage: inspector-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR');
  process.exit(2);
}
const inspector = fileURLToPath(new URL('../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url));
const secrets = `${dir}/secrets.json`;
const callback = `http://127.0.0.1:${await freePort()}/oauth/callback`;
// A file secret store (unencrypted), so that the tokens outlive one CLI
// run and this driver can read them; MCP_AUTO_OPEN_ENABLED lets the CLI
// sign in without a TTY: it prints the URL, the driver opens it.
const env = { ...process.env, HOME: dir, MCP_AUTO_OPEN_ENABLED: 'true', BROWSER: 'true',
  MCP_INSPECTOR_SECRET_STORE: 'file', MCP_INSPECTOR_SECRET_FILE: secrets };

// cli runs the Inspector's CLI once; onStderr sees its stderr so far.
function cli(args, onStderr) {
  return new Promise((resolve) => {
    const p = spawn(node, [inspector, '--cli', mcpURL, '--callback-url', callback, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => p.kill(), 60000);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; onStderr?.(err); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

function storedTokens() {
  const s = JSON.parse(readFileSync(secrets, 'utf8')).secrets;
  const key = Object.keys(s).find((k) => k.includes(':tokens:'));
  return key ? JSON.parse(s[key]) : {};
}

const call = ['--method', 'tools/call', '--tool-name', 'workspace_tool', '--tool-arg', 'operation=get_context', '--stored-auth-only'];
function called(r, what) {
  let res = {};
  try { res = JSON.parse(r.out); } catch { /* reported below */ }
  if (!check(r.code === 0 && Array.isArray(res.content) && !res.isError, what)) console.log(r.err.slice(-1500), r.out.slice(0, 500));
}

const browser = await launch();
try {
  // 1. tools/list --strict, signing in on the way.
  let authURL = '', signedIn = null;
  const seen = {};
  const list = await cli(['--method', 'tools/list', '--strict'], (err) => {
    const m = err.match(/Please navigate to: (\S+)/);
    if (m && !authURL) {
      authURL = m[1];
      signedIn = signIn(browser, authURL, { email, password, callbackPrefix: callback, seen }).catch((e) => e);
    }
  });
  const back = await signedIn;
  check(new URL(authURL || 'http://x').searchParams.get('client_id'), `dynamic client registration (authorization URL ${authURL.slice(0, 120)}…)`);
  check(typeof back === 'string' && new URL(back).searchParams.get('code'), `sign-in in Chromium (${back instanceof Error ? back.message : 'back at the callback with a code'})`);
  check(seen.consent, 'the consent page was shown and allowed');
  const first = storedTokens();
  check(first.access_token && first.refresh_token, 'the CLI holds an access and a refresh token');
  let tools = [];
  try { tools = JSON.parse(list.out).tools ?? []; } catch { /* reported below */ }
  if (!check(list.code === 0 && tools.some((t) => t.name === 'workspace_tool'), `tools/list (exit ${list.code}, ${tools.length} tools)`)) console.log(list.err.slice(-1500));
  const findings = list.err.split('\n').filter((l) => /^(Warning|Error): tool /.test(l));
  if (!check(findings.length === 0, `--strict: the schema lint found ${findings.length} problems`)) console.log(list.err);

  // 2. A tool call with the stored tokens.
  called(await cli(call), 'tools/call workspace_tool get_context with the stored tokens');

  // 3. After the access token expired, a tool call that must refresh.
  const held = storedTokens();
  check(await untilRefused(mcpURL, held.access_token), 'the access token expired (atomcp answers 401)');
  called(await cli(call), 'tools/call after the access token expired');
  const after = storedTokens();
  check(after.access_token !== held.access_token && after.refresh_token !== held.refresh_token, 'the CLI refreshed (new access token, refresh token rotated)');
} catch (e) {
  check(false, e.stack ?? String(e));
} finally {
  await browser.close();
}
finish();
