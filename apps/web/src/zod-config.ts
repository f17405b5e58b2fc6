import { z } from 'zod';

// The shop's Content-Security-Policy allows no eval, and Zod's compiled fast path probes for it
// (`new Function`), which the browser reports as a violation. Imported before anything parses,
// so every schema takes the interpreted path, fast enough for the answers a shopper gets.
z.config({ jitless: true });
