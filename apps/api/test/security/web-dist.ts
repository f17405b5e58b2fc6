import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A built web app in a temporary directory: the files given, beside an index.html. */
export function makeWebDist(files: Record<string, string> = {}): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'stampede-web-'));
  const all = {
    'index.html':
      '<!doctype html><html><head><script type="module" src="/assets/app.js"></script></head>' +
      '<body><div id="root"></div></body></html>',
    'assets/app.js': 'console.log("shop");\n',
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
