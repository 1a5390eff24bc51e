import { describe, expect, it } from 'vitest';
import { sensesOf, sharedSenses } from './senses.js';

describe('senses of support questions and help articles', () => {
  it('relates a question to an article that words the same thing otherwise, in each language', () => {
    expect(sharedSenses('Please end my membership', 'Cancelling your subscription').sort()).toEqual(['cancel', 'subscription']);
    expect(sharedSenses('Lopettakaa jäsenyyteni', 'Voit lopettaa kuukausitilauksesi milloin tahansa').sort()).toEqual(['cancel', 'subscription']);
    expect(sharedSenses('Avsluta mitt medlemskap tack', 'Säga upp ditt abonnemang').sort()).toEqual(['cancel', 'subscription']);
    expect(sharedSenses('Bitte beenden Sie meine Mitgliedschaft', 'Abo kündigen').sort()).toEqual(['cancel', 'subscription']);
  });

  it('reads compounds and hyphenated words', () => {
    expect(sensesOf('Auf meiner Kreditkartenabrechnung stehen zwei identische Zahlungen')).toContain('twice');
    expect(sensesOf('Tarvitsen kuitin, jossa on yrityksemme Y-tunnus')).toContain('invoice');
    expect([...sensesOf('Ich habe mein Handy verloren und bekomme keinen Anmeldecode')]).toEqual(expect.arrayContaining(['device', 'lost', 'code']));
  });

  it('does not take an email address for a delivery address', () => {
    expect(sensesOf('enter the email address of your account')).not.toContain('address');
    expect(sensesOf('anna tilisi sähköpostiosoite')).not.toContain('address');
    expect(sensesOf('ange e-postadressen till ditt konto')).not.toContain('address');
    expect(sensesOf('Geben Sie die E-Mail-Adresse Ihres Kontos ein')).not.toContain('address');
    expect(sensesOf('I entered the wrong delivery address')).toContain('address');
  });

  it('names nothing for a question about a topic it has no words for', () => {
    expect(sensesOf('Do you sell gift cards?')).toEqual(new Set());
    expect(sensesOf('Is your store open on Sundays?')).toEqual(new Set());
  });

  // Issue #15: "phone support" and "rabattkoder" cited the two-factor article, read as a lost device and a sign-in code.
  it('does not read a phone as a second-factor device when its neighbours make it the support line or a product, in each language', () => {
    for (const text of [
      'What are your opening hours for phone support?',
      'Which number do I call to reach you by phone?',
      'Does the phone I bought from you come with a warranty?',
      'Milloin puhelinpalvelunne on auki?',
      'Puhelimeni hajosi, korjaatteko sen takuussa?',
      'Vilka är era telefontider?',
      'Har telefonen jag köpte av er garanti?',
      'Unter welcher Telefonnummer erreiche ich den Kundenservice?',
      'Kann ich Sie telefonisch erreichen?',
      'Hvornår har I åbent på telefonen?',
      'Kan jeg betale med MobilePay?',
      'Hva er telefonnummeret til kundeservice?',
    ]) expect(sensesOf(text), text).not.toContain('device');
  });

  it('still reads a lost, stolen, new or old phone as the device, also beside a word of the other meaning', () => {
    for (const text of [
      'I got a new phone and my login codes no longer arrive',
      'I lost my phone, what number do I call?',
      'Vaihdoin uuteen puhelimeen enkä saa enää kirjautumiskoodia',
      'Jag har bytt telefon och får inte längre någon inloggningskod',
      'Ich habe ein neues Handy und bekomme keinen Anmeldecode mehr',
      'Jeg har mistet telefonen min og får ikke koden',
      'Jeg har fått ny telefon og kommer ikke inn',
    ]) expect(sensesOf(text), text).toContain('device');
  });

  it('does not read a discount, tracking or order code as a sign-in code', () => {
    for (const text of [
      'Do you have a promo code for new customers?',
      'My discount code is not accepted at checkout',
      'Where do I find the tracking code for my parcel?',
      'Onko teillä alennuskoodia uusille asiakkaille?',
      'Mistä löydän pakettini seurantakoodin?',
      'Har ni några rabattkoder just nu?',
      'Mein Rabatt-Code wird im Warenkorb nicht angenommen',
      'Virker rabat-koden ikke?',
      'Har dere en kampanje-kode?',
    ]) expect(sensesOf(text), text).not.toContain('code');
    expect(sensesOf('I lost my phone and can\'t get the login code')).toContain('code');
    expect(sensesOf('Ich habe mein Handy verloren und bekomme keinen Anmeldecode')).toContain('code');
    expect(sensesOf('Koodi ei tule puhelimeeni')).toContain('code');
  });
});
