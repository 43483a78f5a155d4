# syntax=docker/dockerfile:1
# Build stage: full dependencies, compile TypeScript to dist/.
# Node 20: the major CI and the test suite run on (.github/workflows/ci.yml, .ci/run). Moving to 22
# means moving CI, this image and package.json engines together.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The local stand-ins (@vercel/cosmosdb-server, selfsigned) are devDependencies: pruned here (rhea stays:
# @azure/service-bus speaks AMQP with it). Source maps and type declarations of the dependencies are never
# loaded at run time (no --enable-source-maps): deleting them halves node_modules (210 MB -> 110 MB when
# measured with `npm ci --omit=dev`, see docs/DEPLOY.md, Image).
RUN npm run build && npm prune --omit=dev \
    && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# Runtime stage: production dependencies only, non-root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    SPOOL_DIR=/var/spool/voice-worker
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /var/spool/voice-worker && chown node:node /var/spool/voice-worker \
    && ln -s /app/dist/cli.js /usr/local/bin/voice-worker && chmod +x /app/dist/cli.js
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "serve"]
