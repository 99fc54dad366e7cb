// Runs the MCP conformance suite's authorization-server scenarios
// (`conformance authorization`) against atomcp's embedded authorization
// server, signing in through its pages in headless Chromium when the
// suite prints the authorization URL, then checks checks.json: every
// check must be SUCCESS (a SKIPPED one counts as a failure).
//
//   node run-conformance.mjs NODE SUITE ISSUER CLIENT_ID RESOURCE PORT OUTDIR EMAIL PASSWORD
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launch, signIn } from './browser.mjs';

const [node, suite, issuer, clientID, resource, port, outDir, email, password] = process.argv.slice(2);
if (!password) {
  console.error('usage: run-conformance.mjs NODE SUITE ISSUER CLIENT_ID RESOURCE PORT OUTDIR EMAIL PASSWORD');
  process.exit(2);
}

const child = spawn(node, [suite, 'authorization', '--url', issuer, '--client-id', clientID, '--resource', resource, '-p', port, '-o', outDir],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const browser = await launch();
let signInError = null;
let signedIn = null;
const authorizePrefix = issuer + '/oauth/authorize?';
createInterface({ input: child.stdout }).on('line', (line) => {
  console.log(line);
  if (line.startsWith(authorizePrefix) && !signedIn) {
    signedIn = signIn(browser, line.trim(), { email, password, callbackPrefix: `http://127.0.0.1:${port}/callback` })
      .then((u) => console.log(`[driver] signed in; the browser reached ${u.split('?')[0]}`))
      .catch((e) => { signInError = e; console.error(`[driver] sign-in failed: ${e.message}`); child.kill(); });
  }
});
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
if (signedIn) await signedIn.catch(() => {});
await browser.close();

// The suite writes one checks.json per scenario under OUTDIR.
function findChecks(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findChecks(p));
    else if (name === 'checks.json') out.push(p);
  }
  return out;
}
const files = findChecks(outDir);
let passed = 0, failed = 0;
for (const f of files) {
  for (const c of JSON.parse(readFileSync(f, 'utf8'))) {
    const ok = c.status === 'SUCCESS';
    ok ? passed++ : failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${c.id} ${c.status}${c.errorMessage ? ': ' + c.errorMessage : ''}`);
  }
}
if (signInError || !signedIn) failed++;
if (files.length === 0) { console.log('no checks.json was written'); failed++; }
console.log(`suite exit ${code}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && code === 0 ? 0 : 1);
