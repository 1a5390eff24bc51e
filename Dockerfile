# One image for the hub and the worker; the command picks the role.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PUPPETEER_SKIP_DOWNLOAD=1 HOST=0.0.0.0 HUMMDESK_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY connectors ./connectors
COPY hub ./hub
COPY ai ./ai
COPY storage ./storage
COPY embeds ./embeds
COPY manifests ./manifests
COPY migrations ./migrations
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "bin/hummdesk.js", "start"]
