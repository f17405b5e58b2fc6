import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiHelper } from './support/api';
import { launchChromium, newShopper } from './support/browser';
import './support/context';

const { baseUrl, adminEmail, adminPassword } = inject('e2e');
const run = randomBytes(3).toString('hex');
const api = new ApiHelper(baseUrl);

/** A buyer of its own, straight through the API: the console is what is under test here. */
async function buyer(index: number): Promise<string> {
  const response = await fetch(`${baseUrl}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: `live.${run}.${index}@example.com`,
      password: 'correct-horse-battery',
      name: `Live buyer ${index}`,
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function order(token: string, productId: number): Promise<number> {
  const response = await fetch(`${baseUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the live console in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
    await api.signInAsAdmin(adminEmail, adminPassword);
  });
  afterAll(() => browser?.close());

  it('draws the sale from the stream as it happens, then its report', async () => {
    const now = await api.serverNow();
    const product = await api.createProduct({
      sku: `LIVE-${run}`,
      name: `Live console drop ${run}`,
      price_cents: 4_900,
      stock: 4,
      sale: { starts_at: new Date(now - 60_000).toISOString(), ends_at: null, max_per_user: 1 },
    });
    const { page, errors } = await newShopper(browser, baseUrl);
    await page.goto('/login?next=/admin');
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('live · every second').waitFor();
    const card = page.getByLabel(`${product.name} units`);
    await card.waitFor();

    // Six buyers for four units while the operator watches.
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(buyer));
    const statuses = await Promise.all(tokens.map((token) => order(token, product.id)));
    expect(statuses.sort()).toEqual([201, 201, 201, 201, 409, 409]);

    // Pushed by the stream, not reloaded: units sold and left, the sell-out, the refusals.
    await card.getByText('sold out').waitFor();
    await expect
      .poll(async () => card.getByRole('listitem').allTextContents(), { timeout: 15_000 })
      .toEqual(['sold4', 'left0']);
    await page
      .getByTestId('chart-refusals')
      .getByRole('listitem')
      .filter({ hasText: 'sold out' })
      .waitFor();
    expect(await page.getByTestId('chart-rates').locator('path').count()).toBe(2);

    await card.getByRole('link', { name: 'Report' }).click();
    await page.getByTestId('report-orders').waitFor();
    expect(await page.getByTestId('report-orders').textContent()).toBe('4');
    expect(await page.getByTestId('report-units').textContent()).toBe('4 of 4');
    expect(await page.getByTestId('report-sell-out').textContent()).toMatch(/after the start/);
    expect(errors).toEqual([]);
  });
});
