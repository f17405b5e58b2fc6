// Bundle the API for production: one ES module at dist/server.js, the workspace contract
// compiled in, every npm dependency left to node_modules. Running the bundle with plain node
// spares each process the TypeScript loader (about 35 MB of memory). Files read at run time
// (Lua scripts, migrations, images) are found from the package root (src/paths.ts).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const external = Object.keys(manifest.dependencies).filter(
  (name) => !name.startsWith('@stampede/'),
);

await build({
  entryPoints: { server: 'src/server.ts' },
  absWorkingDir: new URL('.', import.meta.url).pathname,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  logLevel: 'warning',
});
