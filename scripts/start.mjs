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

/** Build a workspace when its output is missing or older than any of its sources. */
function buildIfStale(workspace, output, sources, message) {
  const builtAt = newest(join(root, output));
  const sourcesAt = Math.max(...sources.map((source) => newest(join(root, source))));
  if (builtAt > 0 && sourcesAt <= builtAt) return;
  if (message) console.log(message);
  const build = spawnSync('npm', ['run', 'build', '-w', workspace], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

buildIfStale(
  '@stampede/web',
  'apps/web/dist/index.html',
  ['apps/web/src', 'apps/web/index.html', 'apps/web/public', 'packages/contract/src'],
  'Building the web app (first start, or its sources changed)...',
);
buildIfStale('@stampede/api', 'apps/api/dist/server.js', [
  'apps/api/src',
  'apps/api/build.mjs',
  'packages/contract/src',
]);

const server = spawn(process.execPath, ['--enable-source-maps', 'apps/api/dist/server.js'], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
