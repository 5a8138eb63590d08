# One image for the api, the worker and the one-shot setup (migrations, search attributes, seed).
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV DO_NOT_TRACK=1
COPY package.json package-lock.json ./
# The workspaces (the typed client and vmctl): npm ci links them, so their manifests come first.
COPY libs/client/package.json libs/client/package.json
COPY apps/vmctl/package.json apps/vmctl/package.json
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY workflows workflows
COPY scripts scripts
COPY bench bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json /app/tsconfig.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/scripts/register-paths.js scripts/register-paths.js
USER node
CMD ["npm", "run", "start:api"]
