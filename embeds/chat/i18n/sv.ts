import type { ChatStrings } from './en.js';

const sv: ChatStrings = {
  title: 'Chatta med oss',
  openChat: 'Öppna chatten',
  closeChat: 'Stäng chatten',
  unread: (n) => (n === 1 ? '1 oläst meddelande' : `${n} olästa meddelanden`),
  messages: 'Meddelanden',
  you: 'Du',
  support: 'Support',
  inputLabel: 'Ditt meddelande',
  placeholder: 'Skriv ett meddelande…',
  send: 'Skicka',
  sending: 'Skickar…',
  queued: 'Väntar på anslutning',
  sent: 'Skickat',
  delivered: 'Levererat',
  read: 'Läst',
  failed: 'Inte skickat',
  retry: 'Försök igen',
  connecting: 'Ansluter…',
  online: 'Ansluten',
  offline: 'Offline — meddelanden skickas när anslutningen är tillbaka',
  prechatIntro: 'Lämna din e-postadress så kan vi svara även om du lämnar sidan.',
  email: 'E-post',
  name: 'Namn (valfritt)',
  startChat: 'Starta chatten',
  invalidEmail: 'Ange en giltig e-postadress.',
  newMessageFrom: (name) => `Nytt meddelande från ${name}`,
};

export default sv;
