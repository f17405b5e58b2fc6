import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Product } from '@stampede/contract';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiHelper } from './support/api';
import { launchChromium, newShopper, screenshot } from './support/browser';
import './support/context';

const { baseUrl, adminEmail, adminPassword, screenshotDir } = inject('e2e');
const run = randomBytes(3).toString('hex');
const api = new ApiHelper(baseUrl);
const minutes = (from: number, n: number) => new Date(from + n * 60_000).toISOString();

let browser: Browser;
let shopper1: Page;
let shopper2: Page;
const pageErrors: string[][] = [];
let drop: Product;
let daypack: Product;
let firstOrderId: number;

/** Polls until `check` holds; the message says what never happened. */
async function until(check: () => Promise<boolean>, message: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`Timed out after ${timeoutMs} ms: ${message}`);
}

async function register(page: Page, name: string) {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${run}@example.com`;
  await page.goto('/register?next=/');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return email;
}

const timings: Record<string, number> = {};
const openPages = new Set<Page>();

/** Runs one step of the story, timing it; on failure, leaves a picture of every open page. */
async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } catch (error) {
    const dir = resolve(screenshotDir, '../../apps/web/test-results');
    mkdirSync(dir, { recursive: true });
    let index = 0;
    for (const page of openPages) {
      if (page.isClosed()) continue;
      index += 1;
      const file = join(dir, `${name.replace(/\W+/g, '-')}-${index}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(
        `[e2e] failed step "${name}": page ${index} at ${page.url()}, picture in ${file}`,
      );
    }
    throw error;
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

describe('a flash sale, end to end in Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium();
    await api.signInAsAdmin(adminEmail, adminPassword);
    const now = await api.serverNow();
    const image = (name: string) => `/images/products/${name}.svg`;
    // The rest of the shop, so that the catalogue looks like one: live, upcoming, sold out.
    await api.createProduct({
      sku: `AUR-${run}`,
      name: 'Aurora Noise-Cancelling Headphones',
      description: 'Over-ear wireless headphones with adaptive noise cancelling.',
      image_url: image('headphones'),
      price_cents: 12_900,
      stock: 60,
      sale: { starts_at: minutes(now, -10), ends_at: minutes(now, 120), max_per_user: 2 },
    });
    await api.createProduct({
      sku: `TMP-${run}`,
      name: 'Tempo Smartwatch',
      description: 'Heart-rate, sleep and GPS tracking.',
      image_url: image('smartwatch'),
      price_cents: 17_900,
      stock: 40,
      sale: { starts_at: minutes(now, 240), ends_at: minutes(now, 360), max_per_user: 1 },
    });
    await api.createProduct({
      sku: `LUM-${run}`,
      name: 'Lumen 75% Mechanical Keyboard',
      description: 'Hot-swappable switches in an aluminium case.',
      image_url: image('keyboard'),
      price_cents: 10_900,
      stock: 0,
      sale: { starts_at: minutes(now, -60), ends_at: minutes(now, 60), max_per_user: 1 },
    });
    daypack = await api.createProduct({
      sku: `CNV-${run}`,
      name: 'Canvas Daypack 20 L',
      description: 'Waxed canvas backpack with a padded laptop sleeve.',
      image_url: image('backpack'),
      price_cents: 7_400,
      stock: 30,
      sale: { starts_at: minutes(now, -5), ends_at: null, max_per_user: 3 },
    });
    await api.createProduct({
      sku: `CAM-${run}`,
      name: 'Frame 35 mm Film Camera',
      description: 'A mechanical rangefinder.',
      image_url: 'https://images.invalid/camera.jpg',
      price_cents: 24_900,
      stock: 6,
      sale: null,
    });
  });

  afterAll(async () => {
    await browser?.close();
    console.log('[e2e] step timings (ms):', JSON.stringify(timings));
  });

  it('sends a visitor whose session the server refuses (401) back to login', async () => {
    await step('401 to login', async () => {
      const { page, context } = await newShopper(browser, baseUrl);
      openPages.add(page);
      await page.goto('/');
      // A token the server never issued, as if it had expired or been revoked.
      await page.evaluate(() => {
        const session = { accessToken: 'not-a-real-token', expiresAt: Date.now() + 3_600_000 };
        sessionStorage.setItem(
          'stampede-session',
          JSON.stringify({ state: { session }, version: 1 }),
        );
      });
      await page.goto('/orders');
      await page.waitForURL(
        (url) => url.pathname === '/login' && url.searchParams.get('next') === '/orders',
      );
      await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
      await context.close();
    });
  });

  it('two shoppers register', async () => {
    await step('register shoppers', async () => {
      const first = await newShopper(browser, baseUrl);
      const second = await newShopper(browser, baseUrl);
      shopper1 = first.page;
      shopper2 = second.page;
      openPages.add(shopper1).add(shopper2);
      pageErrors.push(first.errors, second.errors);
      await register(shopper1, 'Ada Shopper');
      await register(shopper2, 'Ben Shopper');
      // The token lives in sessionStorage, never in localStorage.
      const stored = await shopper1.evaluate(() => ({
        session: sessionStorage.getItem('stampede-session') ?? '',
        local: JSON.stringify({ ...localStorage }),
      }));
      expect(stored.session).toContain('accessToken');
      expect(stored.local).not.toContain('accessToken');
      // Who the token belongs to is asked of the server, never stored.
      expect(stored.session).not.toContain('Ada Shopper');
    });
  });

  it('both wait out the countdown; buying is impossible until the server says the sale is live', async () => {
    await step('countdown', async () => {
      const now = await api.serverNow();
      const startsAt = now + 12_000;
      drop = await api.createProduct({
        sku: `STR-DROP-${run}`,
        name: 'Stride Runner Sneakers, launch drop',
        description: 'The launch colourway. One pair only.',
        image_url: '/images/products/sneakers.svg',
        price_cents: 8_900,
        stock: 1,
        sale: {
          starts_at: new Date(startsAt).toISOString(),
          ends_at: minutes(startsAt, 30),
          max_per_user: 1,
        },
      });
      await Promise.all([
        shopper1.goto(`/products/${drop.id}`),
        shopper2.goto(`/products/${drop.id}`),
      ]);

      const timer = shopper1.getByRole('timer', { name: /Sale starts in/ });
      await timer.waitFor();
      expect(await timer.getAttribute('aria-live')).toBe('off');
      expect(await timer.textContent()).toMatch(/^00:(0\d|1[0-2])$/);
      const buy = shopper1.getByRole('button', { name: 'Buy now' });
      expect(await buy.isDisabled()).toBe(true);
      await shopper1.getByText('The sale has not started yet').waitFor();
      await screenshot(shopper1, screenshotDir, 'product-countdown');

      await until(async () => !(await buy.isDisabled()), 'Buy now never became available', 30_000);
      // Not early: the button opened on the server's clock, give or take a second of polling.
      expect(Date.now()).toBeGreaterThanOrEqual(startsAt - 1_500);
      await shopper1.getByText('Live now').first().waitFor();
      await shopper2.getByRole('button', { name: 'Add to cart' }).waitFor();
    });
  });

  it('the first shopper buys the last pair; the order is confirmed only by the server', async () => {
    await step('buy', async () => {
      // The second shopper puts the same pair in their cart, a moment too late.
      await shopper2.getByRole('button', { name: 'Add to cart' }).click();
      await shopper2.getByText('1 in your cart').waitFor();

      await shopper1.getByRole('button', { name: 'Buy now' }).click();
      await shopper1.waitForURL('**/cart');
      await shopper1.getByText('Stride Runner Sneakers, launch drop').first().waitFor();
      await shopper1.getByTestId('checkout-total').getByText('$89.00').waitFor();
      await screenshot(shopper1, screenshotDir, 'cart-checkout');
      await shopper1.getByRole('button', { name: 'Place order' }).click();
      await shopper1.waitForURL(/\/orders\/\d+$/);
      firstOrderId = Number(new URL(shopper1.url()).pathname.split('/').pop());
      await shopper1.getByText(`Order #${firstOrderId} is yours`).waitFor();
      await shopper1.getByText('Awaiting payment').waitFor();
      expect((await api.stock(drop.id)).available).toBe(0);
    });
  });

  it('the second shopper is told it sold out, in words, with a way forward', async () => {
    await step('sold out', async () => {
      await shopper2.goto('/cart');
      await shopper2.getByRole('button', { name: 'Place order' }).click();
      const alert = shopper2.getByRole('alert').filter({ hasText: 'Sold out' });
      await alert.waitFor();
      expect(await alert.textContent()).toContain('sold out before your order reached us');
      await alert.getByRole('button', { name: 'Remove it from the cart' }).waitFor();
      await screenshot(shopper2, screenshotDir, 'checkout-error');
      await alert.getByRole('button', { name: 'Remove it from the cart' }).click();
      await shopper2.getByRole('heading', { name: 'Your cart is empty' }).waitFor();

      await shopper2.goto(`/products/${drop.id}`);
      const buy = shopper2.getByRole('button', { name: 'Buy now' });
      await buy.waitFor();
      expect(await buy.isDisabled()).toBe(true);
      // The reason is visible text, tied to the button.
      expect(await buy.getAttribute('aria-describedby')).toBeTruthy();
      await shopper2.getByRole('meter', { name: 'Stock left' }).waitFor();
      expect(await shopper2.getByRole('meter').getAttribute('aria-valuenow')).toBe('0');
    });
  });

  it('the buyer sees the order with its pay-by countdown, cancels it, and the pair is back on sale', async () => {
    await step('cancel', async () => {
      await shopper1.goto('/orders');
      const card = shopper1.getByTestId('order-card').filter({ hasText: `Order #${firstOrderId}` });
      await card.waitFor();
      await card.getByText('Awaiting payment').waitFor();
      const payBy = card.getByRole('timer', { name: /Time left to pay/ });
      expect(await payBy.textContent()).toMatch(/^1[45]:\d\d$/);
      await screenshot(shopper1, screenshotDir, 'my-orders');

      await card.getByRole('button', { name: 'Cancel order' }).click();
      await card.getByRole('button', { name: 'Yes, cancel it' }).click();
      await card.getByText('Cancelled', { exact: true }).waitFor();
      expect((await api.stock(drop.id)).available).toBe(1);

      // The second shopper's open product page picks the returned pair up by polling.
      await shopper2.getByText('Only 1 left').waitFor();
      await until(
        async () => !(await shopper2.getByRole('button', { name: 'Buy now' }).isDisabled()),
        'the returned pair never became buyable again',
      );
    });
  });

  it('the buyer orders two daypacks and pays', async () => {
    await step('pay', async () => {
      await shopper1.goto(`/products/${daypack.id}`);
      await shopper1.getByRole('button', { name: 'Increase quantity' }).click();
      await shopper1.getByRole('button', { name: 'Buy now' }).click();
      await shopper1.waitForURL('**/cart');
      await shopper1.getByTestId('checkout-total').getByText('$148.00').waitFor();
      await shopper1.getByRole('button', { name: 'Place order' }).click();
      await shopper1.waitForURL(/\/orders\/\d+$/);
      await shopper1.getByRole('button', { name: 'Pay now' }).click();
      await shopper1.getByText('Paid', { exact: true }).waitFor();
      expect((await api.stock(daypack.id)).available).toBe(28);
    });
  });

  it('an operator creates a sale, sets its stock and watches the shop', async () => {
    await step('admin', async () => {
      const { page, context, errors } = await newShopper(browser, baseUrl);
      pageErrors.push(errors);
      openPages.add(page);
      await page.goto('/login?next=/admin');
      await page.getByLabel('Email').fill(adminEmail);
      await page.getByLabel('Password').fill(adminPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/admin');

      // Live sales: the daypack sale has sold 2 and has 28 left.
      const daypackCard = page.getByTestId('live-sale').filter({ hasText: 'Canvas Daypack 20 L' });
      await until(
        async () => (await daypackCard.getByTestId('live-sold').textContent()) === '2',
        'live sold count for the daypack',
      );
      expect(await daypackCard.getByTestId('live-remaining').textContent()).toBe('28');
      await screenshot(page, screenshotDir, 'admin-console', true);

      // A new sale starting in a minute, capped at 2 per customer.
      await page.getByRole('link', { name: 'Products', exact: true }).click();
      await page.getByRole('link', { name: 'New product' }).click();
      await page.getByLabel('Name').fill('Halo Desk Lamp');
      await page.getByLabel('SKU').fill(`HALO-${run}`);
      await page.getByLabel('Price').fill('59.00');
      await page.getByLabel('Image URL').fill('/images/products/lamp.svg');
      await page.getByLabel('Stock', { exact: true }).fill('5');
      await page.getByRole('button', { name: '+1 min' }).click();
      await page.getByLabel('Max per customer').fill('2');
      const before = await api.serverNow();
      await page.getByRole('button', { name: 'Create product' }).click();
      await page.waitForURL(/\/admin\/products\/\d+$/);
      const lampId = Number(new URL(page.url()).pathname.split('/').pop());

      await page.getByLabel('New stock').fill('25');
      await page.getByRole('button', { name: 'Set stock' }).click();
      await page.getByText('Stock set to 25.').waitFor();
      await until(
        async () => (await page.getByTestId('admin-live-stock').textContent()) === '25',
        'the editor never showed the new stock',
      );
      await screenshot(page, screenshotDir, 'admin-product', true);

      // Edit the sale: a new name and a stricter cap.
      await page.getByLabel('Name').fill('Halo Desk Lamp, walnut');
      await page.getByLabel('Max per customer').fill('1');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Changes saved.').waitFor();
      await page.getByRole('heading', { name: 'Halo Desk Lamp, walnut' }).waitFor();

      const lamp = await api.product(lampId);
      expect(lamp.available).toBe(25);
      expect(lamp.name).toBe('Halo Desk Lamp, walnut');
      expect(lamp.sale?.max_per_user).toBe(1);
      const startsIn = Date.parse(lamp.sale!.starts_at) - before;
      expect(startsIn).toBeGreaterThan(30_000);
      expect(startsIn).toBeLessThan(120_000);

      // Every order, filtered by status.
      await page.getByRole('link', { name: 'Orders', exact: true }).click();
      await page.getByLabel('Status').selectOption('cancelled');
      const rows = page.getByTestId('admin-order-row');
      await until(async () => (await rows.count()) === 1, 'the status filter never applied');
      await rows.filter({ hasText: `#${firstOrderId}` }).waitFor();
      await page.getByLabel('Status').selectOption('paid');
      await rows.filter({ hasText: 'Canvas Daypack 20 L' }).waitFor();
      await screenshot(page, screenshotDir, 'admin-orders');

      // Low stock: the sold-out keyboard and the one returned pair.
      await page.getByRole('link', { name: 'Low stock', exact: true }).click();
      await page.getByText('Lumen 75% Mechanical Keyboard').waitFor();
      await page.getByText('Stride Runner Sneakers, launch drop').waitFor();

      // Bulk sync of the stock cache.
      await page.getByRole('button', { name: 'Sync stock cache' }).click();
      await page.getByText(/Synced \d+ products?/).waitFor();
      await context.close();
    });
  });

  it('the catalogue, on a desktop and on a phone', async () => {
    await step('catalogue', async () => {
      await shopper2.goto('/');
      await shopper2.getByRole('heading', { name: 'Live now' }).waitFor();
      await shopper2.getByRole('heading', { name: 'Starting soon' }).waitFor();
      await shopper2.getByRole('heading', { name: 'Sold out & ended' }).waitFor();
      // The camera's image URL fails: the card shows the placeholder instead of a broken image.
      const camera = shopper2
        .getByTestId('product-card')
        .filter({ hasText: 'Frame 35 mm Film Camera' });
      await camera.locator('[role="img"]').first().waitFor();
      expect(await shopper2.getByTestId('product-card').count()).toBe(7);
      await screenshot(shopper2, screenshotDir, 'catalogue', true);

      const phone = await newShopper(browser, baseUrl, { mobile: true });
      pageErrors.push(phone.errors);
      openPages.add(phone.page);
      await phone.page.goto('/');
      await phone.page.getByRole('heading', { name: 'Live now' }).waitFor();
      await screenshot(phone.page, screenshotDir, 'mobile-catalogue');
      await phone.page.getByRole('button', { name: 'Menu' }).click();
      await phone.page.getByRole('navigation', { name: 'Mobile' }).getByText('Sign in').waitFor();
      await phone.context.close();
    });
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors.flat()).toEqual([]);
  });
});
