import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, headless; background networking is off (nothing may leave this machine). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** A shopper of their own: separate cookies, storage and session. */
export async function newShopper(
  browser: Browser,
  baseUrl: string,
  options: { mobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: options.mobile ? 2 : 1,
    isMobile: options.mobile ?? false,
    hasTouch: options.mobile ?? false,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  // Generous: argon2 hashing and a cold build share the CPU with everything else on a CI box.
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  // The shop runs under a strict Content-Security-Policy: anything it blocks is a defect.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      errors.push(`csp: ${message.text()}`);
    }
  });
  return { context, page, errors };
}

export async function screenshot(page: Page, dir: string, name: string, fullPage = false) {
  // Let transitions (stock bar width, badges) settle so the picture is what a person sees.
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage });
}
