import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, newShopper } from './support/browser';
import './support/context';

const { baseUrl } = inject('e2e');

/** What a browser makes of the shop's security headers: a real Chromium, a real third party. */
describe('the shop in a browser, against another site', () => {
  let browser: Browser;
  let thirdParty: Server;
  let thirdPartyUrl: string;
  beforeAll(async () => {
    browser = await launchChromium();
    // Another origin (another port) that tries to show the shop inside its own page.
    thirdParty = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<!doctype html><title>elsewhere</title><iframe src="${baseUrl}/"></iframe>`);
    });
    await new Promise<void>((done) => thirdParty.listen(0, '127.0.0.1', done));
    thirdPartyUrl = `http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => thirdParty?.close(done));
  });

  it('refuses to render inside a third-party frame', async () => {
    const { context, page } = await newShopper(browser, thirdPartyUrl);
    const blocked = page.waitForEvent('console', {
      predicate: (message) => /frame-ancestors|refused to (display|frame)/i.test(message.text()),
      timeout: 10_000,
    });
    await page.goto(thirdPartyUrl);
    await blocked;
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(frame).toBeDefined();
    // The frame holds Chromium's error page, not the shop.
    expect(await frame!.locator('#root').count()).toBe(0);
    await context.close();
  });

  it('runs the shop itself under its policy without a single violation', async () => {
    const { context, page, errors } = await newShopper(browser, baseUrl);
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const seen = ((window as unknown as { violations?: string[] }).violations ??= []);
        seen.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    const response = await page.goto('/');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('heading').first().waitFor();
    await page.goto('/login');
    await page.getByLabel('Email').waitFor();
    const violations = await page.evaluate(
      () => (window as unknown as { violations?: string[] }).violations ?? [],
    );
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the built scripts point at no source map, and the maps are not served', async () => {
    const page = await (await fetch(`${baseUrl}/`, { headers: { accept: 'text/html' } })).text();
    const scripts = [...page.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const res = await fetch(`${baseUrl}${script}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('sourcemap')).toBeNull();
      expect(await res.text()).not.toContain('sourceMappingURL');
      const map = await fetch(`${baseUrl}${script}.map`);
      expect(map.status).toBe(404);
    }
  });
});
