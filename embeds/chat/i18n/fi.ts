import type { ChatStrings } from './en.js';

const fi: ChatStrings = {
  title: 'Keskustele kanssamme',
  openChat: 'Avaa chat',
  closeChat: 'Sulje chat',
  unread: (n) => (n === 1 ? '1 lukematon viesti' : `${n} lukematonta viestiä`),
  messages: 'Viestit',
  you: 'Sinä',
  support: 'Asiakastuki',
  inputLabel: 'Viestisi',
  placeholder: 'Kirjoita viesti…',
  send: 'Lähetä',
  sending: 'Lähetetään…',
  queued: 'Odottaa yhteyttä',
  sent: 'Lähetetty',
  delivered: 'Toimitettu',
  read: 'Luettu',
  failed: 'Ei lähetetty',
  retry: 'Yritä uudelleen',
  connecting: 'Yhdistetään…',
  online: 'Yhdistetty',
  offline: 'Ei yhteyttä — viestit lähetetään, kun yhteys palaa',
  prechatIntro: 'Jätä sähköpostiosoitteesi, niin voimme vastata, vaikka poistuisit sivulta.',
  email: 'Sähköposti',
  name: 'Nimi (valinnainen)',
  startChat: 'Aloita keskustelu',
  invalidEmail: 'Anna kelvollinen sähköpostiosoite.',
  newMessageFrom: (name) => `Uusi viesti: ${name}`,
};

export default fi;
