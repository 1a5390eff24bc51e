import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEmail, type ParsedEmail } from './parse.js';
import { corpusDir } from './corpus.js';

const mime = corpusDir('email/mime');
if (!mime) console.warn('SKIPPED: MIME corpus not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');
const opts = { channelId: 'ch1', mailbox: 'support@example.com', receivedAt: new Date('2024-06-03T10:00:00Z') };
const load = (f: string) => parseEmail(readFileSync(join(mime!, f)), opts);
const eml = (lines: string[]) => Buffer.from(lines.join('\r\n'));

interface Expect {
  from?: string;
  subject?: string | RegExp;
  visible?: string | RegExp;
  attachments?: string[];
  inReplyTo?: string;
  references?: number;
  autoReply?: boolean;
  status?: [string, string, RegExp?];
  ignored?: RegExp;
  messageId?: string;
}

// Hand-checked against the raw files: what an agent must see for each of these awkward messages.
const EXPECTED: Record<string, Expect> = {
  'mailpit/inline-attachment.eml': { from: 'sender@example.com', subject: 'Test inline image proper', attachments: ['test1.png'], autoReply: false },
  'mailpit/mime-attachment.eml': { from: 'sender2@example.com', subject: 'inline + attachment', visible: 'Message with inline image and attachment:', attachments: ['inline-image.jpg', 'Sample PDF.pdf'], messageId: '33af2ac1-c33d-9738-35e3-a6daf90bbd89@gmail.com' },
  'mimekit/japanese.txt': { from: 'x@x.com', subject: '日本語メールテスト (testing Japanese emails)', visible: /日本語が\n正常に\n送れているか\nテスト\./u },
  'mimekit/disposition-notification.txt': { status: ['199509192301.23456@example.org', 'read'] },
  'mimekit/delivery-status.txt': { status: ['31FC7EB4.41C6@netscape.com', 'failed', /newsletter-request@imusic\.com: .*500 \(err\.nosuchuser\)/u] },
  'mimekit/bounce.txt': { status: ['44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com', 'failed', /User unknown/u] },
  'mimekit/stack-overflow.txt': { from: 'test@test.com', subject: 'Message Subject', visible: 'Message Body' },
  'mimekit/simple-embedded-message.eml': { visible: 'This is the message body.', attachments: ['message/rfc822'] },
  'mimekit/missing-subtype.txt': { from: 'someone@somewhere.com', attachments: ['document.xml.gz'] },
  'postal_mime/arf.eml': { ignored: /^complaint for 8787KJKJ3K4J3K4J3K4J3\.mail@example\.net: abuse report: abuse/u },
  'postal_mime/bounce.eml': { status: ['e85f1c9b-9b51-4028-8ec0-0a657155028e@app.fastmail.com', 'failed', /550 No such user here/u] },
  'postal_mime/calendar-event.eml': { from: 'andris@postalsys.com', subject: /^Invitation: Test event ⏰/u, attachments: ['text/calendar', 'invite.ics'] },
  'postal_mime/mimetorture.eml': { from: 'rfinnie@domain.dom', subject: "Ryan Finnie's MIME Torture Test v1.0", attachments: ['foo.gz', 'blah.gz', 'blah1.gz', 'application/x-gzip', 'htmlfile.html', 'smiley-3.png', 'dot.gif', 'signature.asc', 'image/gif'] },
  'sisimai_bounces/bsd/rfc3834-01.eml': { subject: 'Away until May 5', autoReply: true },
  'sisimai_bounces/bsd/rfc3834-02.eml': { subject: 'Automatic reply: Nyaan', autoReply: true },
  'sisimai_bounces/bsd/rfc3834-03.eml': { subject: 'Auto reply: Nyaan', autoReply: true, inReplyTo: '25203A4E-F90F-4A14-BF51-3E7B9D39BE8E@libsisimai.org', references: 1 },
  'sisimai_bounces/bsd/rfc3834-05.eml': { autoReply: true, inReplyTo: 'foobar@dummy.org' },
  'sisimai_bounces/bsd/lhost-gmail-01.eml': { status: ['D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com', 'failed', /550 5\.1\.1 <userunknown@example\.jp>\.\.\. User Unknown/u] },
  'sisimai_bounces/bsd/lhost-qmail-01.eml': { status: ['000000000.9999999999999.JavaMail.postmaster@mailhub', 'failed'] },
  'sisimai_bounces/bsd/lhost-exim-01.eml': { status: ['E1P1ce6-000Egt-GZ@e1.example.org', 'failed', /550 5\.7\.0/u] },
  'sisimai_bounces/bsd/lhost-postfix-01.eml': { ignored: /^delivery report \(failed\) without the original Message-ID/u },
  'sisimai_bounces/not/is-not-bounce-01.eml': { subject: 'にゃんこ', autoReply: false, visible: 'にゃーーーーーーーーーーー' },
  'sisimai_bounces/not/is-not-bounce-02.eml': { visible: "it shouldn't be considered as bounce", attachments: ['original.eml'], autoReply: false },
  'python_email/msg_07.txt': { from: 'barry@digicool.com', subject: 'Here is your dingus fish', attachments: ['dingusfish.gif'] },
  'python_email/msg_16.txt': { status: ['002001c144a6$8752e060$56104586@oxy.edu', 'failed', /recipient reached disk quota/u] },
  'spam.eml': { from: 'noreply@guide-des-vins-de-bourgogne.fr', autoReply: true },
};

function check(p: ParsedEmail, e: Expect): void {
  expect(p.rejected).toBeUndefined();
  if (e.from !== undefined) expect(p.from?.address).toBe(e.from);
  if (e.subject !== undefined) expect(p.subject).toMatch(e.subject instanceof RegExp ? e.subject : new RegExp(`^${e.subject.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')}$`, 'u'));
  if (e.visible !== undefined) e.visible instanceof RegExp ? expect(p.visibleText).toMatch(e.visible) : expect(p.visibleText).toBe(e.visible);
  if (e.attachments) expect(p.attachments.map((a) => a.name ?? a.mimeType)).toEqual(e.attachments);
  if (e.inReplyTo) expect(p.inReplyTo).toBe(e.inReplyTo);
  if (e.references !== undefined) expect(p.references).toHaveLength(e.references);
  if (e.autoReply !== undefined) expect(p.autoReply).toBe(e.autoReply);
  if (e.messageId) expect(p.messageId).toBe(e.messageId);
  if (e.status) {
    // Recognised as a report about that message; none of these came back to a signed return path of ours, so it changes nothing.
    expect(p.bounce).toMatchObject({ originalMessageId: e.status[0], outcome: e.status[1] });
    if (e.status[2]) expect(`${p.bounce!.recipient ?? ''}: ${p.bounce!.reason}`).toMatch(e.status[2]);
    expect(p.event.type === 'ignored' && p.event.reason).toMatch(/not addressed to that message's signed return path/u);
  } else if (e.ignored) {
    expect(p.event.type === 'ignored' && p.event.reason).toMatch(e.ignored);
  } else {
    expect(p.event.type).toBe('message');
  }
}

describe('parseEmail on hand-checked corpus messages', () => {
  it.skipIf(!mime)(`gives the expected fields for ${Object.keys(EXPECTED).length} nasty messages`, async () => {
    expect(Object.keys(EXPECTED).length).toBeGreaterThanOrEqual(20);
    for (const [file, e] of Object.entries(EXPECTED)) {
      try {
        check(await load(file), e);
      } catch (err) {
        throw new Error(`${file}: ${(err as Error).message}`);
      }
    }
  });

  it.skipIf(!mime)('parses or keeps-and-reports every corpus file, with counts', async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (!/^(?:MANIFEST\.csv|SOURCE\.txt)$/u.test(f)) files.push(p);
      }
    };
    walk(mime!);
    const counts: Record<string, number> = {};
    for (const f of files) {
      const p = await parseEmail(readFileSync(f), { ...opts, timeoutMs: 15_000 });
      const kind = p.rejected ? 'kept_raw' : p.event.type === 'message' ? (p.autoReply ? 'auto_reply' : 'message') : p.event.type === 'status' ? `status_${p.event.status}` : 'reported_ignored';
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (p.event.type === 'message') {
        expect(p.event.message.externalId, f).toBeTruthy();
        expect(p.event.message.threadKey.startsWith('email:ch1:'), f).toBe(true);
      }
      if (p.event.type === 'ignored') expect(p.event.reason.length, f).toBeGreaterThan(0);
    }
    console.log(`MIME corpus: ${files.length} files ${JSON.stringify(counts)}`);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(files.length);
  }, 240_000);
});

describe('parseEmail on crafted messages', () => {
  const base = ['From: "Jane Doe" <Jane@Customer.example>', 'To: support@example.com', 'Subject: Re: Router broken', 'Date: Mon, 03 Jun 2024 10:12:00 +0000', 'Message-ID: <reply-1@customer.example>'];

  it('threads on the first References id and carries hints for the hub', async () => {
    const p = await parseEmail(eml([...base, 'In-Reply-To: <hd-11111111-1111-1111-1111-111111111111@example.com>', 'References: <root@customer.example> <hd-11111111-1111-1111-1111-111111111111@example.com>', '', 'It works now.', '', 'On Mon, 3 Jun 2024 at 09:00, Support <support@example.com> wrote:', '> Restart it.']), opts);
    expect(p.event.type).toBe('message');
    const m = p.event.type === 'message' ? p.event.message : undefined;
    expect(m).toMatchObject({
      externalId: 'reply-1@customer.example',
      threadKey: 'email:ch1:root@customer.example',
      inReplyToExternalId: 'hd-11111111-1111-1111-1111-111111111111@example.com',
      direction: 'inbound',
      sender: { externalId: 'jane@customer.example', displayName: 'Jane Doe', address: 'jane@customer.example', isBot: false },
      sentAt: '2024-06-03T10:12:00.000Z',
      text: 'It works now.',
      threadHints: { references: ['root@customer.example', 'hd-11111111-1111-1111-1111-111111111111@example.com'], subjectKey: 'router broken' },
    });
    expect(p.text).toContain('> Restart it.');
  });

  it('reads a plus-address reply token when a client dropped the thread headers', async () => {
    const p = await parseEmail(eml(['From: jane@customer.example', 'To: support+c0123456789abcdef0123456789abcdef@example.com', 'Subject: my answer', 'Message-ID: <x@y>', '', 'hi']), opts);
    expect(p.replyToken).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(p.event.type === 'message' && p.event.message.threadHints).toEqual({ references: [], replyToken: '01234567-89ab-cdef-0123-456789abcdef' });
  });

  it('flags RFC 3834 and Exchange auto-replies but not "Auto-Submitted: no"', async () => {
    for (const h of ['Auto-Submitted: auto-replied', 'X-Autoreply: yes', 'Precedence: bulk', 'X-Auto-Response-Suppress: OOF', 'Precedence: junk']) {
      const p = await parseEmail(eml([...base, h, '', 'I am away']), opts);
      expect(p.autoReply, h).toBe(true);
      expect(p.event.type === 'message' && p.event.message.autoReply, h).toBe(true);
    }
    expect((await parseEmail(eml([...base, 'Auto-Submitted: no', '', 'hello']), opts)).autoReply).toBe(false);
  });

  it('recognises an echo of our own outbound message', async () => {
    const p = await parseEmail(eml(['From: Agent <support@example.com>', 'To: jane@customer.example', 'Message-ID: <hd-22222222-2222-2222-2222-222222222222@example.com>', 'Subject: Re: x', '', 'reply']), opts);
    expect(p.event.type === 'message' && p.event.message.direction).toBe('outbound');
  });

  it('decodes RFC 2047/2231 names and non-UTF-8 charsets', async () => {
    const p = await parseEmail(eml(['From: =?iso-8859-1?Q?J=F6rg_M=FCller?= <j@x.example>', 'Subject: =?utf-8?B?w4RydGVy?=', 'Message-ID: <c@x>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain; charset=windows-1252', 'Content-Transfer-Encoding: quoted-printable', '', 'K=E4ytt=E4j=E4', '--b', 'Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''Lasku%20%C3%A4.pdf", 'Content-Transfer-Encoding: base64', '', 'JVBERg==', '--b--']), opts);
    expect(p.from).toEqual({ address: 'j@x.example', name: 'Jörg Müller' });
    expect(p.subject).toBe('Ärter');
    expect(p.visibleText).toBe('Käyttäjä');
    expect(p.attachments).toEqual([{ name: 'Lasku ä.pdf', mimeType: 'application/pdf', size: 4, inline: false, contentId: undefined }]);
    const a = p.event.type === 'message' ? p.event.message.attachments[0] : undefined;
    expect(a).toEqual({ kind: 'file', name: 'Lasku ä.pdf', mimeType: 'application/pdf', size: 4, ref: `inline:${Buffer.from('%PDF').toString('base64')}` });
  });

  it('sanitises HTML and lists big attachments by size instead of inlining them', async () => {
    const big = Buffer.alloc(3000, 1).toString('base64');
    const p = await parseEmail(eml(['From: a@b.example', 'Message-ID: <h@b>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/html', '', '<p onclick="x()">Hi<script>alert(1)</script><img src="cid:i1"><a href="javascript:evil()">x</a></p>', '--b', 'Content-Type: application/octet-stream; name=big.bin', 'Content-Transfer-Encoding: base64', '', big, '--b--']), { ...opts, maxAttachmentBytes: 1000, sourceRef: 'imap:INBOX/1/7' });
    expect(p.html).toBe('<p>Hi<img src="cid:i1" /><a>x</a></p>');
    expect(p.event.type === 'message' && p.event.message.attachments[0]).toMatchObject({ name: 'big.bin', size: 3000, ref: 'imap:INBOX/1/7#part=2' });
  });

  it('keeps mail it cannot parse, with the raw bytes and the reason', async () => {
    const raw = eml(['From: x@y.example', 'Message-ID: <big@y>', '', 'x'.repeat(200)]);
    const p = await parseEmail(raw, { ...opts, maxMessageBytes: 100 });
    expect(p.rejected).toMatch(/limit 100/u);
    expect(p.event.type === 'message' && p.event.message).toMatchObject({ externalId: 'big@y', sender: { address: 'x@y.example' }, keptRaw: { code: 'email_too_large' }, attachments: [{ name: 'original.eml', mimeType: 'message/rfc822', size: raw.length, ref: `inline:${raw.toString('base64')}` }] });
  });

  it('drops NUL bytes, which Postgres text cannot store, and keeps the full body beside the visible reply', async () => {
    const p = await parseEmail(Buffer.from('From: a@b.example\r\nMessage-ID: <nul@b>\r\nSubject: odd\x00subject\r\n\r\nFixed it\x00.\r\n\r\nOn Mon, Support wrote:\r\n> Try again\r\n', 'latin1'), opts);
    const m = p.event.type === 'message' ? p.event.message : undefined;
    expect(m).toMatchObject({ subject: 'oddsubject', text: 'Fixed it.', fullText: 'Fixed it.\n\nOn Mon, Support wrote:\n> Try again\n' });
    expect(JSON.stringify(p.event)).not.toContain('\\u0000');
  });

  it('lists who the sender copied, never the mailbox, its plus-addresses or the sender', async () => {
    const p = await parseEmail(eml([...base, 'Cc: Bob <Bob@Partner.example>, support@example.com, "Token" <support+c0123456789abcdef0123456789abcdef@example.com>, jane@customer.example, bob@partner.example, undisclosed-recipients:;', '', 'hi']), opts);
    expect(p.cc).toContain('support@example.com');
    expect(p.event.type === 'message' && p.event.message.cc).toEqual(['bob@partner.example']);
    const none = await parseEmail(eml([...base, 'Cc: support@example.com', '', 'hi']), opts);
    expect(none.event.type === 'message' && 'cc' in none.event.message).toBe(false);
  });

  it("keeps an inline image's Content-ID so cid: links in the HTML find it", async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const p = await parseEmail(eml(['From: a@b.example', 'Message-ID: <cid@b>', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary=b', '', '--b', 'Content-Type: text/html', '', '<p>Look: <img src="cid:logo.1@b.example"></p>', '--b', 'Content-Type: image/png; name=logo.png', 'Content-ID: <logo.1@b.example>', 'Content-Disposition: inline; filename=logo.png', 'Content-Transfer-Encoding: base64', '', png.toString('base64'), '--b--']), opts);
    expect(p.html).toBe('<p>Look: <img src="cid:logo.1@b.example" /></p>');
    const m = p.event.type === 'message' ? p.event.message : undefined;
    expect(m?.attachments).toEqual([{ kind: 'image', name: 'logo.png', mimeType: 'image/png', size: png.length, ref: `inline:${png.toString('base64')}`, contentId: 'logo.1@b.example' }]);
  });

  it('gives mail without a Message-ID a stable id from its bytes', async () => {
    const raw = eml(['From: x@y.example', 'Subject: no id', '', 'hello']);
    const a = await parseEmail(raw, opts);
    expect(a.messageId).toMatch(/^sha256-[0-9a-f]{40}@hummdesk\.invalid$/u);
    expect((await parseEmail(raw, opts)).messageId).toBe(a.messageId);
  });
});
