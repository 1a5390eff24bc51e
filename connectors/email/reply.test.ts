import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitReply, visibleReply } from './reply.js';
import { corpusDir } from './corpus.js';

const norm = (s: string) => s.replace(/\s+/gu, ' ').trim();
const replies = corpusDir('email/replies');
if (!replies) console.warn('SKIPPED: reply corpus not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');

describe('visible reply extraction', () => {
  it('cuts a Gmail-style attribution and the quote below it', () => {
    const body = 'Thanks, that fixed it!\n\nOn Mon, 3 Jun 2024 at 10:12, Support <support@example.com> wrote:\n> Please restart the router.\n> Regards';
    expect(splitReply(body)).toEqual({ visible: 'Thanks, that fixed it!', elided: 'On Mon, 3 Jun 2024 at 10:12, Support <support@example.com> wrote:\n> Please restart the router.\n> Regards' });
  });

  it('handles attributions wrapped over several lines and in other languages', () => {
    expect(visibleReply('Kiitos!\n\nma 3.6.2024 klo 10.12 Asiakaspalvelu <support@example.com>\nkirjoitti:\n\n> Hei')).toBe('Kiitos!');
    expect(visibleReply('Tack!\n\nDen 3 juni 2024 kl. 10:12 skrev Support <support@example.com>:\n> Hej')).toBe('Tack!');
    expect(visibleReply('Danke\n\nAm 03.06.2024 um 10:12 schrieb Support <support@example.com>:\n> Hallo')).toBe('Danke');
    expect(visibleReply('Merci\nLe 4 janv. 2016 19:03, "Neil"\n<info@example.org>\na écrit :\n\n> Bonjour')).toBe('Merci');
  });

  it('cuts Outlook header blocks and drops phone signatures', () => {
    const body = 'Works now.\n\nSent from my iPhone\n\n________________________________\nFrom: Support <support@example.com>\nSent: Monday, June 3, 2024 10:12 AM\nTo: Jane\nSubject: RE: Router\n\nPlease restart.';
    expect(visibleReply(body)).toBe('Works now.');
  });

  it('keeps inline answers below a quote and a sentence that merely starts like a signature', () => {
    expect(visibleReply('> Which model?\nThe X200.\n\n> Since when?\nYesterday.')).toBe('> Which model?\nThe X200.\n\n> Since when?\nYesterday.');
    expect(visibleReply('Here it is\n\nSent from my desk, is much easier then my mobile phone.')).toBe('Here it is\n\nSent from my desk, is much easier then my mobile phone.');
  });

  it('cuts an RFC 3676 "-- " signature', () => {
    expect(visibleReply('See you\n\n-- \nJane Doe\nACME Ltd')).toBe('See you');
  });

  it('is linear on pathological input', () => {
    const body = `${'> '.repeat(5000)}\n`.repeat(50) + 'On '.repeat(20000);
    expect(typeof visibleReply(body)).toBe('string');
  });

  it.skipIf(!replies)('matches ≥ 90% of the Discourse trimmer set (whitespace-normalised exact)', () => {
    const dir = join(replies!, 'discourse_email_reply_trimmer');
    const names = readdirSync(join(dir, 'trimmed')).filter((f) => readdirSync(join(dir, 'emails')).includes(f));
    const failed = names.filter((f) => norm(visibleReply(readFileSync(join(dir, 'emails', f), 'utf8'))) !== norm(readFileSync(join(dir, 'trimmed', f), 'utf8')));
    const rate = (names.length - failed.length) / names.length;
    console.log(`discourse reply extraction: ${names.length - failed.length}/${names.length} (${(rate * 100).toFixed(1)}%); misses: ${failed.join(', ')}`);
    expect(names.length).toBe(64);
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  it.skipIf(!replies)('gets every exact visible-reply expectation of github/email_reply_parser', () => {
    const dir = join(replies!, 'github_email_reply_parser');
    const cases = (JSON.parse(readFileSync(join(dir, 'expected_assertions.json'), 'utf8')) as { cases: { email: string; expected_parse_reply?: string }[] }).cases.filter((c) => c.expected_parse_reply !== undefined);
    expect(cases.length).toBeGreaterThanOrEqual(8);
    for (const c of cases) expect(norm(visibleReply(readFileSync(join(dir, c.email), 'utf8'))), c.email).toBe(norm(c.expected_parse_reply!));
    // Its ReDoS and size torture inputs finish (no timing asserted).
    for (const f of ['pathological.txt', 'email_long_quote.txt']) expect(typeof visibleReply(readFileSync(join(dir, f), 'utf8'))).toBe('string');
  });
});
