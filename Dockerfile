# syntax=docker/dockerfile:1
# Stampede: the API (bundled by esbuild) serving the built web app, in three stages.
#   deps    every workspace's dependencies, dev ones included (to build)
#   build   the web app built by Vite, the API bundled into apps/api/dist
#   runtime production dependencies, the API bundle and the files it reads, the web build;
#           runs as `node`
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

FROM deps AS build
COPY tsconfig.base.json ./
COPY packages/contract packages/contract
COPY apps/web apps/web
RUN npm run build -w @stampede/web
COPY apps/api apps/api
RUN npm run build -w @stampede/api

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
# The bundle, and the files it reads at run time (Lua scripts, migrations, images).
COPY --from=build /app/apps/api/dist apps/api/dist
COPY apps/api/src/modules/stock/gate/lua apps/api/src/modules/stock/gate/lua
COPY apps/api/src/modules/auth/lua apps/api/src/modules/auth/lua
COPY apps/api/src/modules/queue/lua apps/api/src/modules/queue/lua
COPY apps/api/src/db/migrations apps/api/src/db/migrations
COPY apps/api/assets apps/api/assets
COPY --from=build /app/apps/web/dist apps/web/dist

USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Migrations run at start-up; SIGTERM finishes the requests in flight, then exits.
CMD ["node", "--enable-source-maps", "apps/api/dist/server.js"]
