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
});
