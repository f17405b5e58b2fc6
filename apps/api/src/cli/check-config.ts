import { ConfigError, loadConfig } from '../config.ts';

/** Exit 1 with one line when the environment is not a valid configuration (used by `npm start`). */
try {
  loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
