import type { Database } from '../../storage/database.js';
import type { Embedder } from '../../ai/embed/embedder.js';
import type { ArticleInput } from '../../ai/kb/articles.js';
import { saveArticles, saveVariant } from '../../ai/kb/save.js';
import { VariantExistsError } from '../../ai/kb/articles.js';

/** A small help centre for the demo account, so the first drafts have passages to cite. */
const ARTICLES: ArticleInput[] = [
  {
    externalId: 'demo-shipping', title: 'Where is my order?', language: 'en', tags: ['shipping'],
    body: 'Orders ship within 2 business days. You get a tracking link by email as soon as the parcel leaves our warehouse. ' +
      'If the tracking has not moved for 5 days, reply with your order number and we will open an investigation with the carrier.',
  },
  {
    externalId: 'demo-refunds', title: 'Refunds and returns', language: 'en', tags: ['billing'],
    body: 'You can return any item within 30 days. Refunds go back to the original payment method within 5 to 7 business days after we receive the return. ' +
      'Duplicate charges are refunded automatically within 3 business days.',
  },
  {
    externalId: 'demo-password', title: 'Resetting your password', language: 'en', tags: ['account'],
    body: 'Use "Forgot password" on the sign-in page. The reset link is valid for one hour. If the email does not arrive, check the spam folder, then contact us from the address on your account.',
  },
];

/** Finnish and Swedish variants of the English articles, so a demo customer gets an answer in their own language. */
const VARIANTS: { of: string; article: ArticleInput & { language: string } }[] = [
  { of: 'demo-shipping', article: { externalId: 'demo-toimitus', title: 'Missä tilaukseni on?', language: 'fi', tags: ['shipping'],
    body: 'Tilaukset lähtevät kahden arkipäivän kuluessa. Saat seurantalinkin sähköpostiisi, kun paketti lähtee varastostamme. ' +
      'Jos seuranta ei ole liikkunut viiteen päivään, lähetä tilausnumerosi, niin selvitämme asian kuljetusyhtiön kanssa.' } },
  { of: 'demo-shipping', article: { externalId: 'demo-shipping-sv', title: 'Var är min beställning?', language: 'sv', tags: ['shipping'],
    body: 'Beställningar skickas inom två arbetsdagar. Du får en spårningslänk via e-post när paketet lämnar vårt lager. Om spårningen inte har rört sig på fem dagar startar vi en utredning med transportören.' } },
  { of: 'demo-refunds', article: { externalId: 'demo-refunds-fi', title: 'Palautukset ja hyvitykset', language: 'fi', tags: ['billing'],
    body: 'Voit palauttaa tuotteen 30 päivän kuluessa. Hyvitys maksetaan alkuperäiselle maksutavalle 5–7 arkipäivän kuluessa siitä, kun palautus on saapunut meille. Aiheeton kaksoisveloitus palautetaan automaattisesti kolmen arkipäivän kuluessa.' } },
  { of: 'demo-refunds', article: { externalId: 'demo-refunds-sv', title: 'Returer och återbetalningar', language: 'sv', tags: ['billing'],
    body: 'Du kan returnera varor inom 30 dagar. Pengarna betalas tillbaka till ditt ursprungliga betalsätt inom 5–7 arbetsdagar efter att vi tagit emot returen. En dubbeldebitering återbetalas automatiskt inom tre arbetsdagar.' } },
  { of: 'demo-password', article: { externalId: 'demo-password-fi', title: 'Salasanan vaihtaminen', language: 'fi', tags: ['account'],
    body: 'Valitse kirjautumissivulla "Unohtuiko salasana?". Salasanan vaihtolinkki on voimassa tunnin. Jos viestiä ei kuulu, katso roskapostikansio ja ota sitten yhteyttä tilisi sähköpostiosoitteesta.' } },
  { of: 'demo-password', article: { externalId: 'demo-password-sv', title: 'Återställa ditt lösenord', language: 'sv', tags: ['account'],
    body: 'Välj "Glömt lösenord" på inloggningssidan. Länken för att återställa lösenordet gäller i en timme. Om mejlet inte kommer fram, titta i skräpposten och kontakta oss sedan från adressen på ditt konto.' } },
];

export async function seedDemoKnowledge(db: Database, accountId: string, embedder: Embedder): Promise<number> {
  const saved = await saveArticles(db, accountId, ARTICLES, embedder);
  let n = saved.length;
  for (const v of VARIANTS) {
    const of = saved.find((s) => s.article.externalId === v.of)!.article;
    try {
      if (await saveVariant(db, accountId, of.id, v.article, embedder)) n++;
    } catch (err) {
      // Seeded before: the variant is there.
      if (!(err instanceof VariantExistsError)) throw err;
    }
  }
  return n;
}
