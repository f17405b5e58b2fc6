#!/usr/bin/env node
// `npm start`: check the configuration, build the web app and the API bundle when they are
// missing or older than their sources, then run the API (which serves the web app).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsx = ['--import', 'tsx'];

const check = spawnSync(process.execPath, [...tsx, 'apps/api/src/cli/check-config.ts'], {
  cwd: root,
  stdio: 'inherit',
});
if (check.status !== 0) process.exit(check.status ?? 1);

function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), 0);
}

const builtAt = newest(join(root, 'apps/web/dist/index.html'));
const sourcesAt = Math.max(
  newest(join(root, 'apps/web/src')),
  newest(join(root, 'apps/web/index.html')),
  newest(join(root, 'apps/web/public')),
  newest(join(root, 'packages/contract/src')),
);
if (builtAt === 0 || sourcesAt > builtAt) {
  console.log('Building the web app (first start, or its sources changed)...');
  const build = spawnSync('npm', ['run', 'build', '-w', '@stampede/web'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const bundledAt = newest(join(root, 'apps/api/dist/server.js'));
const apiSourcesAt = Math.max(
  newest(join(root, 'apps/api/src')),
  newest(join(root, 'apps/api/build.mjs')),
  newest(join(root, 'packages/contract/src')),
);
if (bundledAt === 0 || apiSourcesAt > bundledAt) {
  const bundle = spawnSync('npm', ['run', 'build', '-w', '@stampede/api'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (bundle.status !== 0) process.exit(bundle.status ?? 1);
}

const server = spawn(process.execPath, ['--enable-source-maps', 'apps/api/dist/server.js'], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
