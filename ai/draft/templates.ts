/**
 * Per-category reply templates by language; `{name}` is the customer's first name, `{answer}` the
 * knowledge-base passage. Languages without a template fall back to English.
 */
export const TEMPLATES: Record<string, Record<string, { withAnswer: string; without: string }>> = {
  en: {
    _: { withAnswer: 'Hi {name},\n\nThanks for getting in touch. This should help:\n\n{answer}\n\nLet us know if anything is still unclear.', without: 'Hi {name},\n\nThanks for getting in touch. We have received your message and an agent will get back to you shortly.' },
    billing: { withAnswer: 'Hi {name},\n\nThanks for reaching out about your billing. Here is what applies:\n\n{answer}\n\nIf the amount still looks wrong, reply with the invoice number and we will check it.', without: 'Hi {name},\n\nThanks for reaching out about your billing. Could you send us the invoice number so we can look into it?' },
    technical: { withAnswer: 'Hi {name},\n\nSorry for the trouble. Please try this:\n\n{answer}\n\nIf it still does not work, tell us what you see and which device you use.', without: 'Hi {name},\n\nSorry for the trouble. Could you tell us what you see, when it started and which device you use?' },
    complaint: { withAnswer: 'Hi {name},\n\nI am sorry about this experience, and thank you for telling us.\n\n{answer}\n\nWe will follow up personally.', without: 'Hi {name},\n\nI am sorry about this experience, and thank you for telling us. We are looking into it and will follow up personally.' },
  },
  fi: {
    _: { withAnswer: 'Hei {name},\n\nkiitos yhteydenotostasi. Tästä pitäisi olla apua:\n\n{answer}\n\nKerro, jos jokin on vielä epäselvää.', without: 'Hei {name},\n\nkiitos yhteydenotostasi. Olemme vastaanottaneet viestisi ja palaamme asiaan pian.' },
    billing: { withAnswer: 'Hei {name},\n\nkiitos viestistäsi laskutukseen liittyen:\n\n{answer}\n\nJos summa näyttää yhä väärältä, lähetä meille laskun numero.', without: 'Hei {name},\n\nkiitos viestistäsi. Voisitko lähettää laskun numeron, niin tarkistamme asian?' },
    complaint: { withAnswer: 'Hei {name},\n\npahoittelemme tapahtunutta ja kiitos palautteestasi.\n\n{answer}\n\nPalaamme asiaan henkilökohtaisesti.', without: 'Hei {name},\n\npahoittelemme tapahtunutta ja kiitos palautteestasi. Selvitämme asian ja palaamme pian.' },
  },
  sv: {
    _: { withAnswer: 'Hej {name},\n\ntack för att du hörde av dig. Det här bör hjälpa:\n\n{answer}\n\nHör av dig om något är oklart.', without: 'Hej {name},\n\ntack för att du hörde av dig. Vi har tagit emot ditt meddelande och återkommer snart.' },
    complaint: { withAnswer: 'Hej {name},\n\nvi beklagar det som hänt och tackar för att du berättade.\n\n{answer}\n\nVi återkommer personligen.', without: 'Hej {name},\n\nvi beklagar det som hänt och tackar för att du berättade. Vi undersöker saken och återkommer.' },
  },
  de: {
    _: { withAnswer: 'Hallo {name},\n\nvielen Dank für Ihre Nachricht. Das sollte helfen:\n\n{answer}\n\nMelden Sie sich gern, falls noch etwas unklar ist.', without: 'Hallo {name},\n\nvielen Dank für Ihre Nachricht. Wir melden uns in Kürze.' },
  },
};

export function template(language: string | undefined, category: string): { language: string; withAnswer: string; without: string } {
  const lang = language && TEMPLATES[language] ? language : 'en';
  const set = TEMPLATES[lang]!;
  return { language: lang, ...(set[category] ?? set._!) };
}

export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '').replace(/Hi ,|Hei ,|Hej ,|Hallo ,/g, (m) => m.replace(' ,', ','));
}
