/** The widget's texts; a language is one more file of this shape (see i18n/index.ts). */
const en = {
  title: 'Chat with us',
  openChat: 'Open chat',
  closeChat: 'Close chat',
  unread: (n: number) => (n === 1 ? '1 unread message' : `${n} unread messages`),
  messages: 'Messages',
  you: 'You',
  support: 'Support',
  inputLabel: 'Your message',
  placeholder: 'Write a message…',
  send: 'Send',
  sending: 'Sending…',
  queued: 'Waiting for connection',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
  retry: 'Retry',
  connecting: 'Connecting…',
  online: 'Connected',
  offline: 'Offline — messages will be sent when the connection returns',
  prechatIntro: 'Leave your email so we can reply even if you leave this page.',
  email: 'Email',
  name: 'Name (optional)',
  startChat: 'Start chat',
  invalidEmail: 'Please enter a valid email address.',
  newMessageFrom: (name: string) => `New message from ${name}`,
};

export type ChatStrings = typeof en;
export default en;
