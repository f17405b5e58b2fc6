import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root, where docker-compose.yml and observability/ live. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

export const repoPath = (relative: string) => `${REPO_ROOT}${relative}`;

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

export function readRepoYaml<T = unknown>(relative: string): T {
  return parse(readRepoFile(relative)) as T;
}
