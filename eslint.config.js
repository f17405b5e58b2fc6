import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

/**
 * What the import rules need to follow an import as TypeScript does: the workspace's tsconfig.json
 * (its paths, such as `@/`), and which files to read (a .tsx file is skipped otherwise).
 */
const importSettings = (project) => ({
  'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
  'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
  'import-x/resolver-next': [createTypeScriptImportResolver({ project })],
});

const API_MODULES = 'apps/api/src/modules';
const apiModules = readdirSync(new URL(`./${API_MODULES}`, import.meta.url), {
  withFileTypes: true,
})
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
/**
 * What one API module may import of another (apps/api/src/modules/README.md): its services and
 * selectors; and the exceptions written down there with their reasons.
 */
const apiMeetingPoints = (module) => [
  ...apiModules.flatMap((other) =>
    other === module ? [`./${other}`] : [`./${other}/services.ts`, `./${other}/selectors.ts`],
  ),
  './stock/gate/types.ts',
  ...(module === 'admin' ? ['./orders/responses.ts', './products/responses.ts'] : []),
];

const WEB_SRC = 'apps/web/src';
// Read at lint time, so a feature folder added later is fenced in without touching this file.
const webFeatures = readdirSync(new URL(`./${WEB_SRC}/features`, import.meta.url), {
  withFileTypes: true,
})
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const WEB_SHARED = ['api', 'components', 'hooks', 'store', 'types', 'utils'].map(
  (folder) => `${WEB_SRC}/${folder}`,
);

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },

  // Every workspace's TypeScript: a promise is awaited, returned or explicitly voided, and never
  // handed to a place that expects a plain function (an event handler, a timer, a callback).
  // These rules need type information, so they run where a tsconfig.json covers every linted
  // file.
  {
    files: ['apps/web/**/*.{ts,tsx}', 'bench/**/*.ts', 'apps/api/**/*.ts', 'packages/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },

  // Web app boundaries (STYLE.md habit 10). A feature is one folder under src/features; it uses
  // shared code and its own files only. Two features meet in an app/ route, which composes them.
  // Shared code never reaches up into a feature or app/, so it cannot carry one feature's code
  // into another. And no import cycle anywhere in the web app.
  {
    files: [`${WEB_SRC}/**/*.{ts,tsx}`],
    plugins: { 'import-x': importX },
    settings: importSettings('apps/web/tsconfig.json'),
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            ...webFeatures.map((feature) => ({
              target: `${WEB_SRC}/features/${feature}`,
              from: `${WEB_SRC}/features`,
              except: [`./${feature}`],
              message: `Web features never import each other: features/${feature} may not use another feature. Move what both need to components/, hooks/, utils/, api/ or store/, or compose the two in an app/ route.`,
            })),
            {
              target: `${WEB_SRC}/features`,
              from: `${WEB_SRC}/app`,
              message: 'A feature never imports app/: the app composes features, not the reverse.',
            },
            {
              target: WEB_SHARED,
              from: [`${WEB_SRC}/features`, `${WEB_SRC}/app`],
              message: `Shared code (${WEB_SHARED.map((path) => path.slice(WEB_SRC.length + 1)).join(', ')}) never imports a feature or app/: features build on it, not the reverse.`,
            },
          ],
        },
      ],
    },
  },

  // API boundaries: no import cycle anywhere in the API; a module uses another only through its
  // services and selectors (and the exceptions apps/api/src/modules/README.md gives reasons for).
  {
    files: ['apps/api/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: importSettings('apps/api/tsconfig.json'),
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: apiModules.map((module) => ({
            target: `${API_MODULES}/${module}`,
            from: API_MODULES,
            except: apiMeetingPoints(module),
            message: `API modules meet only through services.ts and selectors.ts: ${module} may not import this (see apps/api/src/modules/README.md).`,
          })),
        },
      ],
    },
  },

  // Benchmark: no import cycle.
  {
    files: ['bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: importSettings('bench/tsconfig.json'),
    rules: { 'import-x/no-cycle': 'error' },
  },
);
