# syntax=docker/dockerfile:1
# Stampede: the API (TypeScript run by tsx) serving the built web app, in three stages.
#   deps    every workspace's dependencies, dev ones included (to build the web app)
#   web     the web app built by Vite
#   runtime production dependencies, tsx, the API sources and the web build; runs as `node`
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Only the manifests first: this layer is rebuilt when dependencies change, not on every edit.
COPY package.json package-lock.json ./
COPY packages/contract/package.json packages/contract/
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund

FROM deps AS web
COPY tsconfig.base.json ./
COPY packages/contract packages/contract
COPY apps/web apps/web
RUN npm run build -w @stampede/web

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    DATA_DIR=/tmp/stampede
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contract/package.json packages/contract/
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# tsx runs the TypeScript sources; it is a dev dependency of the workspace root, so it (and the
# esbuild it drives) comes from the deps stage, at the version the lockfile pins.
COPY --from=deps /app/node_modules/tsx node_modules/tsx
COPY --from=deps /app/node_modules/esbuild node_modules/esbuild
COPY --from=deps /app/node_modules/@esbuild node_modules/@esbuild
COPY tsconfig.base.json ./
COPY packages/contract packages/contract
COPY apps/api/tsconfig.json apps/api/
COPY apps/api/src apps/api/src
COPY apps/api/assets apps/api/assets
COPY --from=web /app/apps/web/dist apps/web/dist

USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Migrations run at start-up; SIGTERM finishes the requests in flight, then exits.
CMD ["node", "--import", "tsx", "apps/api/src/server.ts"]
