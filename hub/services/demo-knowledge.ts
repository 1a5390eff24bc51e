import type { Database } from '../../storage/database.js';
import type { Embedder } from '../../ai/embed/embedder.js';
import type { ArticleInput } from '../../ai/kb/articles.js';
import { saveArticles } from '../../ai/kb/save.js';

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
  {
    externalId: 'demo-toimitus', title: 'Missä tilaukseni on?', language: 'fi', tags: ['shipping'],
    body: 'Tilaukset lähtevät kahden arkipäivän kuluessa. Saat seurantalinkin sähköpostiisi, kun paketti lähtee varastostamme. ' +
      'Jos seuranta ei ole liikkunut viiteen päivään, lähetä tilausnumerosi, niin selvitämme asian kuljetusyhtiön kanssa.',
  },
];

export async function seedDemoKnowledge(db: Database, accountId: string, embedder: Embedder): Promise<number> {
  return (await saveArticles(db, accountId, ARTICLES, embedder)).length;
}
