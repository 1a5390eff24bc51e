// HummDesk never downloads a browser: whatsapp-web.js drives the system Chromium (executablePath).
module.exports = { skipDownload: true };
