// Drives Debian's chromium (through playwright-core, no downloaded browser)
// against a running pinpoint gateway; cors_test.go starts the gateway and
// the two page servers, runs this script and checks the JSON it prints.
//
//   node cors.mjs <allowedPageURL> <refusedPageURL> <gatewayURL>
//
// Each page defines window.callGateway (see cors_test.go), so the fetch runs
// as the page's own script, with the page's origin, exactly as a web app's
// would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [allowedPage, refusedPage, gateway] = process.argv.slice(2);
if (!allowedPage || !refusedPage || !gateway) {
  console.error('usage: node cors.mjs <allowedPageURL> <refusedPageURL> <gatewayURL>');
  process.exit(2);
}
const target = gateway + '/api/orders';
const jsonPost = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' };

// Runs callGateway in a fresh page of the given URL and keeps what the
// browser printed to the console: for a blocked call, chromium explains
// there why it withheld the response.
async function inPage(context, url, init) {
  const page = await context.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push(m.text()));
  await page.goto(url);
  const result = await page.evaluate(([u, i]) => window.callGateway(u, i), [target, init]);
  await page.close();
  return { ...result, console: console_ };
}

// The preflight a browser sends, sent by hand so the gateway's full answer
// (which the browser never shows the page) can be checked.
async function preflight(origin, method, headers) {
  const res = await fetch(target, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': headers,
    },
  });
  const text = await res.text();
  // A 204 has no body; anything else from the gateway is JSON.
  let body = null;
  if (text !== '') {
    try { body = JSON.parse(text); } catch { body = { unparsed: text }; }
  }
  return {
    status: res.status,
    requestId: res.headers.get('pinpoint-request-id'),
    contentType: res.headers.get('content-type'),
    allowOrigin: res.headers.get('access-control-allow-origin'),
    body,
  };
}

// An actual GET from the allowed origin, to read the CORS headers the
// gateway adds to a proxied answer (the browser only says pass or fail).
async function actual(origin) {
  const res = await fetch(target, { headers: { Origin: origin } });
  await res.arrayBuffer();
  return {
    status: res.status,
    allowOrigin: res.headers.get('access-control-allow-origin'),
    expose: res.headers.get('access-control-expose-headers'),
    vary: res.headers.get('vary'),
  };
}

const userDataDir = mkdtempSync(join(tmpdir(), 'pinpoint-chromium-'));
let context;
const out = {};
try {
  // A persistent context is the way playwright takes a chosen
  // --user-data-dir; a fresh directory keeps every run independent.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  context.setDefaultTimeout(15000);
  out.allowed = await inPage(context, allowedPage, jsonPost);
  out.refused = await inPage(context, refusedPage, jsonPost);
  // An allowed origin asking for a header the route does not allow.
  out.badHeader = await inPage(context, allowedPage,
    { ...jsonPost, headers: { ...jsonPost.headers, 'X-Debug': '1' } });
  out.preflight = await preflight(new URL(refusedPage).origin, 'POST', 'content-type');
  out.allowedPreflight = await preflight(new URL(allowedPage).origin, 'POST', 'content-type');
  out.actualGet = await actual(new URL(allowedPage).origin);
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.error ? 1 : 0);
