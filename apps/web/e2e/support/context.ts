/** What the global setup hands to the tests (through Vitest's provide/inject). */
export type E2eContext = {
  baseUrl: string;
  adminEmail: string;
  adminPassword: string;
  screenshotDir: string;
};

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}
