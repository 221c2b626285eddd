/// <reference lib="dom" />
// page.evaluate and waitForFunction bodies run in the browser: they name its document.
/**
 * The status page in a real browser: Debian's chromium driven by
 * playwright-core, against an in-process relay with the page on a port the
 * kernel picked, and real listener and dialer sockets. Every wait is for
 * something the page shows (a row, a figure, a dialog), never a sleep.
 * Screenshots go to test-artifacts/ (gitignored); with
 * REMOTED_UPDATE_DOCS_SCREENSHOT=1 the wide one also replaces docs/status-page.png.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CLOSE_KEY_REVOKED } from '@remoted/sdk/protocol';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { closedByPeer } from '../helpers/wait-for';

const CHROMIUM = process.env.REMOTED_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const WAIT_MS = 10_000;

jest.setTimeout(60_000);

describe('status page in a browser', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let relay: StartedRelay;
  let problems: string[];
  const listeners: TestListener[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(viewport = { width: 1280, height: 800 }, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
    context = await browser.newContext({ viewport, colorScheme });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    // A CSP violation or a script error is a bug of the page: every test checks there were none.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    // Offline: the page asks nothing of any other origin (no CDN, font or script from elsewhere).
    const origin = `http://127.0.0.1:${relay.statusPort}/`;
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) problems.push(`request to ${request.url()}`);
    });
    await page.goto(origin);
  }

  async function logIn(key = relay.keys.admin): Promise<void> {
    await page.locator('#key').fill(key);
    await page.locator('#login-form button[type=submit]').click();
  }

  async function confirmIn(rowSelector: string, action: string): Promise<void> {
    await page.locator(`${rowSelector} button[data-action="${action}"]`).click();
    await page.locator('#confirm[open]').waitFor();
    await page.locator('#confirm-ok').click();
  }

  beforeEach(async () => {
    problems = [];
    relay = await startRelay({}, { statusPage: true });
  });
  afterEach(async () => {
    for (const l of listeners.splice(0)) l.ws.terminate();
    await context?.close();
    await relay.close();
    expect(problems).toEqual([]);
  });

  it('refuses a wrong key with a message, then logs the admin key in', async () => {
    await openPage();
    await page.locator('#login:not([hidden])').waitFor();
    await logIn('not-the-admin-key-'.repeat(3));
    await page.locator('#login-error:not([hidden])').waitFor();
    expect(await page.locator('#login-error').textContent()).toContain('not a usable admin key');
    expect(await page.locator('#app').isHidden()).toBe(true);
    await logIn();
    await page.locator('#app:not([hidden])').waitFor();
    await page.locator('#live:text("live")').waitFor();
    // The cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('shows a route while its listener is connected and drops it when it leaves', async () => {
    await openPage();
    await logIn();
    const listener = await TestListener.open(relay.port, '/appears', relay.keys.server);
    listeners.push(listener);
    const row = page.locator('#routes tr[data-path="/appears"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('active');
    await page.locator('#fig-routes:text("1")').waitFor();
    listener.ws.close();
    await row.waitFor({ state: 'detached' });
    await page.locator('#fig-routes:text("0")').waitFor();
  });

  it('shows a link\'s bytes growing during a transfer, and its disconnect ends the dialer', async () => {
    await openPage();
    await logIn();
    const listener = await TestListener.open(relay.port, '/transfer', relay.keys.server);
    listeners.push(listener);
    const { dialer, listenerSide } = await makeLink(relay.port, '/transfer', listener, relay.keys);
    const dialerSocket = linkedSocket(dialer);
    const serverSocket = linkedSocket(listenerSide);
    serverSocket.resume();
    const bytesIn = page.locator('#links tr[data-path="/transfer"] td.bytes-in');
    const shownAtLeast = (n: number) =>
      page.waitForFunction((min) => Number(document.querySelector('#links tr[data-path="/transfer"] td.bytes-in')?.getAttribute('data-bytes') ?? -1) >= min, n, { timeout: WAIT_MS });

    dialerSocket.write(Buffer.alloc(64 * 1024, 1));
    await shownAtLeast(64 * 1024);
    const first = Number(await bytesIn.getAttribute('data-bytes'));
    dialerSocket.write(Buffer.alloc(256 * 1024, 2));
    await shownAtLeast(first + 256 * 1024);
    expect(Number(await bytesIn.getAttribute('data-bytes'))).toBeGreaterThan(first);

    const gone = closedByPeer(dialerSocket, WAIT_MS);
    await confirmIn('#links tr[data-path="/transfer"]', 'close-link');
    await gone;
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#result').textContent()).toMatch(/^closed link .* on \/transfer$/);
    await page.locator('#links tr[data-path="/transfer"]').waitFor({ state: 'detached' });
  });

  it('revoking a key from the page closes its listener', async () => {
    const { key, secret } = await relay.store.create({ role: 'server', label: 'doomed server' });
    await openPage();
    await logIn();
    const listener = await TestListener.open(relay.port, '/doomed', secret);
    listeners.push(listener);
    await page.locator(`#routes tr[data-path="/doomed"] td:text("doomed server")`).waitFor();
    const closed = listener.closed(WAIT_MS);
    await confirmIn(`#keys tr[data-key-id="${key.id}"]`, 'revoke-key');
    expect(await closed).toBe(CLOSE_KEY_REVOKED);
    await page.locator('#result:has-text("revoked key")').waitFor();
    expect(await page.locator('#result').textContent()).toContain('closed 1 route(s)');
    await page.locator(`#keys tr.revoked[data-key-id="${key.id}"]`).waitFor();
    await page.locator('#routes tr[data-path="/doomed"]').waitFor({ state: 'detached' });
  });

  it('pages through many links one page at a time', async () => {
    const listener = await TestListener.open(relay.port, '/many', relay.keys.server);
    listeners.push(listener);
    for (let i = 0; i < 120; i++) await makeLink(relay.port, '/many', listener, relay.keys);
    await openPage();
    await logIn();
    await page.locator('#links-page:text("1–50 of 120")').waitFor();
    expect(await page.locator('#links tbody tr').count()).toBe(50);
    await page.locator('#links-next').click();
    await page.locator('#links-page:text("51–100 of 120")').waitFor();
    await page.locator('#links-next').click();
    await page.locator('#links-page:text("101–120 of 120")').waitFor();
    expect(await page.locator('#links tbody tr').count()).toBe(20);
    expect(await page.locator('#links-next').isDisabled()).toBe(true);
  });

  it.each([
    ['1280', { width: 1280, height: 800 }, 'light'],
    ['390', { width: 390, height: 844 }, 'dark'],
  ] as const)('renders at %s px wide (viewport %j, %s theme) and takes a screenshot', async (name, viewport, scheme) => {
    const listener = await TestListener.open(relay.port, '/db', relay.keys.server);
    listeners.push(listener);
    await TestListener.open(relay.port, '/ssh', relay.keys.server).then((l) => listeners.push(l));
    const { dialer, listenerSide } = await makeLink(relay.port, '/db', listener, relay.keys);
    linkedSocket(listenerSide).resume();
    await openPage(viewport, scheme);
    await logIn();
    await page.locator('#routes tr[data-path="/ssh"]').waitFor();
    await page.locator('#links tr[data-path="/db"]').waitFor();
    // A few ticks of traffic, so that the chart has a line to draw; each waits for the page's next tick.
    const ticks = async (): Promise<number> => Number((await page.locator('body').getAttribute('data-ticks')) ?? 0);
    for (let i = 1; i <= 4; i++) {
      const seen = await ticks();
      linkedSocket(dialer).write(Buffer.alloc(i * 192 * 1024));
      await page.waitForFunction((n) => Number(document.body.dataset.ticks ?? 0) > n, seen, { timeout: WAIT_MS });
    }
    // An event after the page opened, for the events list.
    const { listenerSide: other } = await makeLink(relay.port, '/db', listener, relay.keys);
    linkedSocket(other).resume();
    await page.locator('#events li[data-kind="linkOpened"]').waitFor();
    await page.locator('#fig-links:text("2")').waitFor();
    await page.locator('#chart .uplot').waitFor();
    // prefers-color-scheme picks the theme.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(scheme === 'dark' ? 'rgb(15, 18, 22)' : 'rgb(246, 247, 249)');
    // The page fits its width: nothing but the tables' own scroll boxes is wider than the viewport.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const file = join(ARTIFACTS, `status-page-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (name === '1280' && process.env.REMOTED_UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(file, join(__dirname, '..', '..', 'docs', 'status-page.png'));
  });
});
