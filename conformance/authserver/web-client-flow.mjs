// The TypeScript SDK's client in a web page on a foreign https origin
// (https://app.test:PORT, a self-signed certificate, a host-resolver rule
// to loopback) against `atomcp serve` with ATOMCP_ALLOWED_ORIGINS set to
// that origin: CORS and OAuth from a browser. Registration, sign-in and
// consent (headless Chromium), a tool call, then, once the access token
// has expired, a tool call that must refresh.
//
//   node web-client-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR APP_PORT
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launch, signIn } from './browser.mjs';
import { check, finish, untilRefused } from './clients.mjs';

const [mcpURL, email, password, dir, appPort] = process.argv.slice(2);
if (!appPort) {
  console.error('usage: web-client-flow.mjs MCP_URL EMAIL PASSWORD WORKDIR APP_PORT');
  process.exit(2);
}
const app = `https://app.test:${appPort}`;

const bundle = (await build({ entryPoints: [fileURLToPath(new URL('web-client-page.mjs', import.meta.url))], bundle: true,
  format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'error' })).outputFiles[0].text;
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
  '-subj', '/CN=app.test', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
const server = https.createServer({ key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) }, (req, res) => {
  if (req.url === '/app.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>web app</title><script type="module" src="/app.js"></script><p>web app</p>');
});
await new Promise((r) => server.listen(Number(appPort), '127.0.0.1', r));

const browser = await launch(['--ignore-certificate-errors', '--host-resolver-rules=MAP app.test 127.0.0.1']);
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const failed = [];
  page.on('pageerror', (e) => failed.push(String(e)));
  // Which of atomcp's endpoints the page called cross-origin.
  const fromApp = new Set();
  page.on('request', async (r) => {
    const u = new URL(r.url());
    if (r.method() === 'POST' && u.origin === new URL(mcpURL).origin && (await r.allHeaders()).origin === app) fromApp.add(u.pathname);
  });
  await page.goto(`${app}/`);
  await page.waitForFunction(() => typeof window.start === 'function');
  const s = await page.evaluate((u) => window.start(u), mcpURL);
  check(!s.error && s.clientID, `dynamic client registration from ${s.origin ?? app} (client_id ${s.clientID ?? s.error})`);
  const seen = {};
  const back = await signIn(context, s.authorizationURL, { email, password, callbackPrefix: `${app}/callback`, seen });
  const code = new URL(back).searchParams.get('code');
  check(code, 'sign-in in a second tab, back at the app with a code');
  check(seen.consent, 'the consent page was shown and allowed');
  const f = await page.evaluate((c) => window.finish(c), code);
  check(f.tokens?.access_token && f.tokens?.refresh_token, 'code exchanged for an access and a refresh token (from the page)');
  check(f.tools.includes('workspace_tool'), `tools/list from the page (${f.tools.length} tools)`);
  check(f.callOK, 'tools/call workspace_tool get_context from the page');
  check(await untilRefused(mcpURL, f.tokens.access_token), 'the access token expired (atomcp answers 401)');
  const a = await page.evaluate(() => window.again());
  check(a.callOK, 'tools/call after the access token expired');
  check(a.tokens.access_token !== f.tokens.access_token && a.tokens.refresh_token !== f.tokens.refresh_token, 'the page refreshed (new access token, refresh token rotated)');
  const want = ['/oauth/register', '/oauth/token', new URL(mcpURL).pathname];
  check(want.every((p) => fromApp.has(p)), `cross-origin POSTs from ${app}: ${[...fromApp].join(', ')}`);
  check(failed.length === 0, `no page errors${failed.length ? `: ${failed.join('; ')}` : ''}`);
} catch (e) {
  check(false, e.stack ?? String(e));
} finally {
  await browser.close();
  server.close();
}
finish();
