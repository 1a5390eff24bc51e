/**
 * Which words of the drafts' senses (senses.ts) are read by their neighbours, and which senses name no article's
 * topic on their own (the citation gate, gate.ts). Data only, in en/fi/sv/de/da/nb; cue syntax as in SENSES.
 */

/**
 * Senses whose words are read by their neighbours, because each word also has an everyday meaning: "phone" is the
 * second-factor device in "I lost my phone" but the support line in "phone support", the product in "the phone's
 * warranty"; "koder" is a sign-in code in "inloggningskoder" but a discount in "rabattkoder". A word of the sense
 * (not a phrase: those are specific) does not count when a word of `other` is part of the same compound or up to
 * six words away and no word nearer names the sense's company (a sense in `with`, or a word of `alsoWith`).
 * Cue syntax as in SENSES, for single words.
 */
export const READ_IN_CONTEXT: Record<string, { other: string[]; with: string[]; alsoWith: string[] }> = {
  device: {
    other: [
      // Calling support: the line, its number and hours.
      'support', 'service', 'hours=', 'hour=', 'opening', 'open=', 'number', 'line=', 'lines=', 'hotline', 'helpline', 'call', 'ring', 'reach', 'contact', 'talk', 'speak', 'agent',
      'palvel', 'aukiolo', 'auki=', 'aika', 'ajat', 'aikoja', 'numero', 'soit', 'tavoit', 'tuki', 'tuen', 'tukea', 'linja', 'päivyst', 'mitse', 'puhu',
      'fontid', 'tider', 'tiden', 'öppet', 'nummer', 'ringa', 'ringer', 'kundtjänst', 'kundservice', 'tjänst', 'linje', 'prata',
      'zeit', 'erreich', 'anruf', 'anzuruf', 'kundendienst', 'kundenservice', 'sprech', 'telefonisch',
      'åbningstid', 'åpningstid', 'åben', 'åpen', 'ringe', 'kundeservice', 'snakke', 'tale=',
      // The phone as a product bought, not the one that holds a sign-in factor.
      'warranty', 'guarantee', 'repair', 'broken', 'screen', 'battery', 'charger', 'case=', 'cover=', 'models', 'sell', 'stock', 'bought', 'buy', 'purchas',
      'takuu', 'korjau', 'rikki', 'näyttö', 'akku', 'laturi', 'kuori', 'myytte', 'ostin', 'ostamani', 'ostaa',
      'garanti', 'reparat', 'trasig', 'skärm', 'batteri', 'laddare', 'skal=', 'säljer', 'köpte', 'köpa', 'köpt',
      'garantie', 'kaputt', 'bildschirm', 'ladegerät', 'hülle', 'verkauf', 'gekauft', 'kaufen',
      'ødelagt', 'ødelagd', 'skærm', 'skjerm', 'oplader', 'lader', 'sælger', 'selger', 'købte', 'købe', 'kjøpte', 'kjøpe',
      // Paying with a phone app (MobilePay, Vipps) is paying.
      'pay', 'vipps', 'swish',
    ],
    with: ['lost', 'code', 'login', 'password'],
    alsoWith: ['new=', 'old=', 'uusi', 'uuteen', 'uuden', 'vanha', 'vanhassa', 'vanhaan', 'ny=', 'nya=', 'nytt=', 'gamla', 'gammal', 'neue', 'neues', 'neuen', 'alten', 'altes', 'alte=', 'gamle', 'gammel', 'nye=', 'byt', 'bytt', 'vaihdoin', 'gewechselt', 'skiftet', 'switched', 'changed', 'replaced'],
  },
  code: {
    other: [
      // Discounts, vouchers, gift cards, campaigns.
      'discount', 'promo', 'coupon', 'voucher', 'gift', 'offer', 'sale=', 'referral', 'campaign', 'deal=', 'deals=', 'checkout',
      'alennus', 'ale=', 'alen', 'kampanja', 'tarjous', 'lahja', 'kuponki', 'etukood', 'etu=', 'kassa',
      'rabatt', 'kampanj', 'present', 'kupong', 'erbjud', 'rea=', 'kassan',
      'gutschein', 'aktion', 'angebot', 'warenkorb',
      'rabat', 'kampagne', 'gavekort', 'tilbud', 'kupon',
      // A parcel's tracking code, an order's confirmation, a postal code, an error code.
      'track', 'seuran', 'spårn', 'sporing', 'sendungs', 'verfolg', 'order', 'tilaus', 'beställ', 'bestell', 'bestill', 'postal', 'zip=', 'postinumero', 'postnummer', 'postleitzahl',
      'error', 'virhe', 'felkod', 'fehler', 'fejl', 'feilkode',
    ],
    with: ['login', 'device', 'password', 'forgot'],
    alsoWith: ['sms', 'text=', 'texts=', 'app=', 'tekstivies', 'sovellu', 'appen', 'sign', 'verification', 'backup', 'reserv', 'vara'],
  },
};

/**
 * Senses that name no article's topic on their own: a phone, a code, something lost, a copy, a company, paying, twice.
 * One of them alone is one loose word ("Do you have a code for me?"), so the gate reads a title by them only
 * beside a second shared sense (gate.ts `titleSenses`).
 */
export const SUPPORTING_SENSES: ReadonlySet<string> = new Set(['device', 'code', 'lost', 'copy', 'company', 'pay', 'twice']);
