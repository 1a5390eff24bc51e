# One image for the hub and the worker; the command picks the role.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PUPPETEER_SKIP_DOWNLOAD=1 HOST=0.0.0.0 HUMMDESK_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# Install scripts run below, once the sources are in (npm 10 here does not read allowScripts).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY scripts ./scripts
COPY connectors ./connectors
COPY hub ./hub
COPY ai ./ai
COPY storage ./storage
COPY embeds ./embeds
COPY manifests ./manifests
COPY migrations ./migrations
# What postinstall does on a normal install: compile to dist/, prepare the embedded store templates.
RUN node scripts/postinstall.js
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "bin/hummdesk.js", "start"]
