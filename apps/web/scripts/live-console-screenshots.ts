/**
 * Pictures of the operator's live console during a real, benchmark-driven flash sale, for
 * docs/screenshots: `node --import tsx apps/web/scripts/live-console-screenshots.ts` from the
 * repository root after `npm run build` (needs PostgreSQL and Redis on their usual ports and
 * Chromium at /usr/bin/chromium). The benchmark starts the production-shape API (PostgreSQL and
 * the Redis gate, bundle and built web app) and drives its scenario; an operator's Chromium
 * watches the console meanwhile and after, then opens the sale's report.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Progress } from '../../../bench/src/progress.ts';
import { runMode } from '../../../bench/src/run-mode.ts';
import { QUICK, type Scenario } from '../../../bench/src/scenario.ts';
import { MODES, startServer, stopAllServers } from '../../../bench/src/servers.ts';
import { launchChromium, newShopper, screenshot } from '../e2e/support/browser.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const out = resolve(repoRoot, 'docs/screenshots');
mkdirSync(out, { recursive: true });

// The quick scenario with longer phases, so the charts have a sale to draw, not a blip.
const scenario: Scenario = {
  ...QUICK,
  units: 1500,
  rush: { rate: 2500, durationMs: 4000 },
  steady: { share: 0.6, durationMs: 6000 },
  pauseMs: 1500,
};
const spec = MODES.find((mode) => mode.name === 'redis')!;
const runId = `shots${Date.now().toString(36)}`;
const options = {
  repoRoot,
  runDir: mkdtempSync(join(tmpdir(), 'stampede-shots-')),
  runId,
  rateLimitMs: scenario.rateLimitMs,
};

const server = await startServer(spec, options);
const browser = await launchChromium();
try {
  const { page, errors } = await newShopper(browser, server.origin);
  await page.goto('/login?next=/admin');
  await page.getByLabel('Email').fill(server.admin.email);
  await page.getByLabel('Password').fill(server.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('live · every second').waitFor();
  await page.getByRole('button', { name: '2 min' }).click();

  // The benchmark stops its server when it is done: after the pictures.
  let pictures: Promise<void> | undefined;
  const result = await runMode(spec, scenario, options, new Progress(), {
    // The server stops once the pictures are taken.
    server: Promise.resolve({
      ...server,
      stop: async () => {
        await pictures?.catch(() => undefined);
        return server.stop();
      },
    }),
    onPhase: (name, edge) => {
      if (name !== 'storm' || edge !== 'end') return;
      pictures = (async () => {
        // The last seconds of the sale reach the charts, then the report of the hot product.
        await page.waitForTimeout(2500);
        await screenshot(page, out, 'admin-live-sale', true);
        await page.getByRole('link', { name: 'Report' }).first().click();
        await page.getByTestId('report-orders').waitFor();
        await screenshot(page, out, 'admin-sale-report', true);
      })();
    },
  });
  await pictures;
  if (errors.length) throw new Error(`the console logged errors: ${errors.join('; ')}`);
  console.log(
    `sale driven: ${Math.round(result.attempts_per_s)} attempts/s, ${Math.round(result.orders_per_s ?? 0)} orders/s, ` +
      `sold out in ${result.sellout_ms} ms, correct: ${result.correct}; screenshots in ${out}`,
  );
} finally {
  await browser.close();
  await stopAllServers();
}
