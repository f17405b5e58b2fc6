import { fileURLToPath, URL } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const apiTarget = 'http://localhost:8000';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  // Served by the API at `/`; absolute asset URLs keep deep links such as /products/3 working.
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Maps are built for whoever debugs a release, but no script points at them: the API
    // serves them (with a SourceMap header) only when its operator sets WEB_SOURCE_MAPS=true.
    sourcemap: 'hidden',
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: separate chunks stay cached across releases.
        codeSplitting: {
          groups: [
            {
              name: 'react',
              test: /node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/,
            },
            { name: 'vendor', test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    port: 3000,
    strictPort: true,
    // Product images may be paths such as /images/x.svg that the API serves.
    proxy: { '/api': apiTarget, '/images': apiTarget },
  },
  preview: { port: 3000, proxy: { '/api': apiTarget, '/images': apiTarget } },
});
