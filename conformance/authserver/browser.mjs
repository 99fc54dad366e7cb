// Drives atomcp's sign-in and consent pages in headless Chromium, as a
// person would: used by the authorization-server conformance run and the
// TypeScript SDK client flow (see run-conformance.mjs, ts-client-flow.mjs).
import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch(args = []) {
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', ...args] });
}

// signIn opens authorizationURL, signs in with email and password, allows
// the consent page if it is shown, and waits until the browser is at a
// URL that starts with callbackPrefix. It returns that URL; seen.consent
// is set when the consent page was shown.
export async function signIn(browser, authorizationURL, { email, password, callbackPrefix, timeout = 30000, seen = {} }) {
  const page = await browser.newPage();
  try {
    const failed = [];
    page.on('pageerror', (e) => failed.push(String(e)));
    await page.goto(authorizationURL, { timeout });
    if (await page.locator('#password').count() === 0) {
      throw new Error(`no sign-in form at ${authorizationURL}: ${(await page.textContent('main')) ?? ''}`);
    }
    await page.fill('#email', email);
    await page.fill('#password', password);
    const atCallback = page.waitForURL((u) => u.href.startsWith(callbackPrefix), { timeout });
    await page.click('button[type=submit]');
    const allow = page.locator('button[value=allow]');
    // Either the consent page or, for a client consented to before, the
    // callback comes next.
    await Promise.race([allow.waitFor({ timeout }), atCallback]);
    if (await allow.count() > 0) {
      seen.consent = true;
      await allow.click();
    }
    await atCallback;
    if (failed.length > 0) throw new Error(`page errors: ${failed.join('; ')}`);
    return page.url();
  } finally {
    await page.close();
  }
}
