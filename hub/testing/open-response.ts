import { EventEmitter } from 'node:events';

/** A response still being worked on, as ForegroundPressure sees one, for tests that need no HTTP server; `answer()` sends it. */
export function openResponse(): EventEmitter & { headersSent: boolean; writableEnded: boolean; destroyed: boolean; answer(): void } {
  return Object.assign(new EventEmitter(), {
    headersSent: false,
    writableEnded: false,
    destroyed: false,
    answer(this: EventEmitter & { headersSent: boolean; writableEnded: boolean }) {
      this.headersSent = true;
      this.writableEnded = true;
      this.emit('close');
    },
  });
}
