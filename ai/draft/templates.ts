/**
 * The building blocks of offline drafts, per language. Nothing here names a topic: what a draft says
 * about the customer's matter comes only from a cited knowledge-base passage, so a misread category
 * can never put "your billing" into a reply about a delivery. `{name}` is the customer's first name.
 */
export interface Phrases {
  greeting: string;
  /** Opens a neutral message. */
  thanksForWriting: string;
  /** Opens a negative message: an apology. */
  apology: string;
  /** Opens an urgent message that is not negative: an acknowledgement. */
  urgent: string;
  /** The whole reply to a thank-you. */
  thanksReply: string;
  /** Before the cited passage. */
  answerIntro: string;
  /** After the cited passage. */
  answerClose: string;
  /** No passage answers the message: an honest holding reply that promises nothing else. */
  holding: string;
  /** Reflects the details the customer gave: `{details}` is the list. */
  noted: string;
  /** How each kind of detail is named in `noted`. */
  detail: { order: string; invoice: string; ticket: string; email: string };
  and: string;
}

export const PHRASES: Record<string, Phrases> = {
  en: {
    greeting: 'Hi {name},',
    thanksForWriting: 'Thanks for getting in touch.',
    apology: 'I am sorry about the trouble this has caused you.',
    urgent: 'I understand this is urgent, and we are on it.',
    thanksReply: 'Thank you for letting us know. Glad we could help, and have a great day!',
    answerIntro: 'Here is how this works:',
    answerClose: 'If anything is still unclear, just reply to this message.',
    holding: 'We have received your message, and an agent will look into it and get back to you shortly.',
    noted: 'I have noted {details}.',
    detail: { order: 'order {v}', invoice: 'invoice {v}', ticket: 'case {v}', email: 'your email address {v}' },
    and: 'and',
  },
  fi: {
    greeting: 'Hei {name},',
    thanksForWriting: 'kiitos yhteydenotostasi.',
    apology: 'olen pahoillani tästä aiheutuneesta harmista.',
    urgent: 'ymmärrän, että asia on kiireellinen, ja hoidamme sitä.',
    thanksReply: 'kiitos, kun kerroit. Mukava kuulla, että saimme autettua. Hyvää päivänjatkoa!',
    answerIntro: 'Näin asia toimii:',
    answerClose: 'Jos jokin on vielä epäselvää, vastaa tähän viestiin.',
    holding: 'Olemme vastaanottaneet viestisi. Asiakaspalvelijamme selvittää asian ja palaa sinulle pian.',
    noted: 'Olen kirjannut ylös {details}.',
    detail: { order: 'tilauksen {v}', invoice: 'laskun {v}', ticket: 'tapauksen {v}', email: 'sähköpostiosoitteesi {v}' },
    and: 'ja',
  },
  sv: {
    greeting: 'Hej {name},',
    thanksForWriting: 'tack för att du hörde av dig.',
    apology: 'jag beklagar besväret som det här har orsakat dig.',
    urgent: 'jag förstår att det är brådskande, och vi arbetar på det.',
    thanksReply: 'tack för att du berättade. Vad roligt att vi kunde hjälpa till, ha en fin dag!',
    answerIntro: 'Så här fungerar det:',
    answerClose: 'Svara gärna på det här meddelandet om något fortfarande är oklart.',
    holding: 'Vi har tagit emot ditt meddelande, och en handläggare tittar på det och återkommer till dig inom kort.',
    noted: 'Jag har noterat {details}.',
    detail: { order: 'order {v}', invoice: 'faktura {v}', ticket: 'ärende {v}', email: 'din e-postadress {v}' },
    and: 'och',
  },
  da: {
    greeting: 'Hej {name},',
    thanksForWriting: 'tak fordi du kontaktede os.',
    apology: 'jeg beklager det besvær, det her har givet dig.',
    urgent: 'jeg forstår, at det haster, og vi arbejder på det.',
    thanksReply: 'tak fordi du gav besked. Dejligt at vi kunne hjælpe, og hav en god dag!',
    answerIntro: 'Sådan fungerer det:',
    answerClose: 'Hvis noget stadig er uklart, så svar bare på denne besked.',
    holding: 'Vi har modtaget din besked, og en medarbejder ser på den og vender tilbage til dig snarest.',
    noted: 'Jeg har noteret {details}.',
    detail: { order: 'ordre {v}', invoice: 'faktura {v}', ticket: 'sag {v}', email: 'din e-mailadresse {v}' },
    and: 'og',
  },
  nb: {
    greeting: 'Hei {name},',
    thanksForWriting: 'takk for at du tok kontakt.',
    apology: 'jeg beklager bryet dette har påført deg.',
    urgent: 'jeg forstår at dette haster, og vi jobber med saken.',
    thanksReply: 'takk for at du ga beskjed. Så fint at vi kunne hjelpe, og ha en fin dag!',
    answerIntro: 'Slik fungerer det:',
    answerClose: 'Hvis noe fortsatt er uklart, er det bare å svare på denne meldingen.',
    holding: 'Vi har mottatt meldingen din, og en medarbeider ser på saken og kommer tilbake til deg snart.',
    noted: 'Jeg har notert {details}.',
    detail: { order: 'ordre {v}', invoice: 'faktura {v}', ticket: 'sak {v}', email: 'e-postadressen din {v}' },
    and: 'og',
  },
  de: {
    greeting: 'Hallo {name},',
    thanksForWriting: 'vielen Dank für Ihre Nachricht.',
    apology: 'es tut mir leid, dass Ihnen dadurch Ärger entstanden ist.',
    urgent: 'ich verstehe, dass es dringend ist, und wir kümmern uns darum.',
    thanksReply: 'vielen Dank für Ihre Rückmeldung. Schön, dass wir helfen konnten, und einen schönen Tag noch!',
    answerIntro: 'So funktioniert es:',
    answerClose: 'Wenn noch etwas unklar ist, antworten Sie einfach auf diese Nachricht.',
    holding: 'Wir haben Ihre Nachricht erhalten. Ein Mitarbeiter prüft Ihr Anliegen und meldet sich in Kürze bei Ihnen.',
    noted: 'Ich habe {details} notiert.',
    detail: { order: 'die Bestellung {v}', invoice: 'die Rechnung {v}', ticket: 'den Vorgang {v}', email: 'Ihre E-Mail-Adresse {v}' },
    and: 'und',
  },
};

/** Languages the offline drafts are written in; a message in any other gets no draft (and the agent is told why). */
export const DRAFT_LANGUAGES = Object.keys(PHRASES);

export function phrasesFor(language: string | undefined): Phrases | undefined {
  return language ? PHRASES[language] : undefined;
}

/** A greeting with or without a name ("Hi," when the name is unknown). */
export function greet(p: Phrases, name: string | undefined): string {
  return p.greeting.replace(/ ?\{name\}/, name ? ` ${name}` : '');
}

/** Capitalises a phrase that opens a paragraph of its own (the greeting line ends with a comma in fi/sv/da/nb/de). */
export function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
