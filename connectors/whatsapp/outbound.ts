import type { OutboundRich, OutboundTemplate } from '../core/types.js';

/**
 * What WhatsApp's Cloud API takes in one message, checked before anything is uploaded or sent (pure:
 * the hub's reply route and the connector run the same checks). Limits as Meta documents them.
 */
export const WHATSAPP_LIMITS = {
  text: 4096,
  caption: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  buttonBody: 1024,
  listRows: 10,
  listSections: 10,
  listButton: 20,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24,
  templateVariable: 1024,
  templateHeaderText: 60,
  templateButtonPayload: 128,
  templateUrlSuffix: 2000,
} as const;

/** Upload limits per media type (bytes). */
const MEDIA_MAX: Record<WhatsAppMediaType, number> = { image: 5 * 1024 * 1024, video: 16 * 1024 * 1024, audio: 16 * 1024 * 1024, document: 100 * 1024 * 1024 };

export type WhatsAppMediaType = 'image' | 'video' | 'audio' | 'document';

/** A refusal with a stable code: nothing was sent. */
export interface WhatsAppRefusal {
  code: string;
  message: string;
}

const length = (s: string) => [...s].length;

/** The media type a file goes out as: images and videos WhatsApp plays inline, audio it plays, the rest as documents. */
export function whatsappMediaType(mimeType: string): WhatsAppMediaType {
  const m = mimeType.toLowerCase().split(';')[0]!.trim();
  if (m === 'image/jpeg' || m === 'image/png') return 'image';
  if (m === 'video/mp4' || m === 'video/3gpp') return 'video';
  if (['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'].includes(m)) return 'audio';
  return 'document';
}

/**
 * The first reason WhatsApp would refuse this message, or undefined. `text` is the body (or caption),
 * `attachments` the files (name, type, size), `rich` the structured parts.
 */
export function checkWhatsAppOutbound(input: { text: string; attachments: { name: string; mimeType: string; size: number }[]; rich?: OutboundRich }): WhatsAppRefusal | undefined {
  const { text, attachments, rich } = input;
  const n = length(text);
  if (rich?.template) return checkTemplateVariables(rich.template.variables) ?? checkTemplateExtras(rich.template, attachments);
  if (rich?.reaction) {
    if (!rich.reaction.externalId) return { code: 'whatsapp_reaction_target_unknown', message: 'the message reacted to has no WhatsApp id (it was never sent)' };
    // The text is what the desk shows (the emoji); only files cannot come along.
    if (attachments.length) return { code: 'whatsapp_reaction_alone', message: 'a reaction is sent on its own, without files' };
    if (length(rich.reaction.emoji) > 0 && !/^\p{Extended_Pictographic}/u.test(rich.reaction.emoji)) return { code: 'whatsapp_reaction_invalid', message: 'a reaction is one emoji' };
    return undefined;
  }
  if (attachments.length > 1) return { code: 'whatsapp_one_attachment', message: `WhatsApp sends one file per message; this reply has ${attachments.length}` };
  const file = attachments[0];
  if (file) {
    if (rich?.buttons || rich?.list) return { code: 'whatsapp_interactive_with_attachment', message: 'buttons and lists are sent without a file' };
    const type = whatsappMediaType(file.mimeType);
    if (file.size > MEDIA_MAX[type]) return { code: 'whatsapp_attachment_too_large', message: `WhatsApp takes ${type} files up to ${MEDIA_MAX[type] / 1024 / 1024} MB; "${file.name}" has ${(file.size / 1024 / 1024).toFixed(1)} MB` };
    if (type === 'audio' && text.trim()) return { code: 'whatsapp_caption_unsupported', message: 'WhatsApp shows no caption with audio; send the text as its own reply' };
    if (n > WHATSAPP_LIMITS.caption) return { code: 'whatsapp_caption_too_long', message: `a caption takes at most ${WHATSAPP_LIMITS.caption} characters; this one has ${n}` };
    return undefined;
  }
  if (!text.trim()) return { code: 'whatsapp_text_empty', message: 'a WhatsApp message needs text' };
  if (rich?.buttons && rich.list) return { code: 'whatsapp_interactive_invalid', message: 'a message has buttons or a list, not both' };
  if (rich?.buttons) {
    const b = rich.buttons;
    if (b.length < 1 || b.length > WHATSAPP_LIMITS.buttons) return { code: 'whatsapp_too_many_buttons', message: `WhatsApp takes 1 to ${WHATSAPP_LIMITS.buttons} reply buttons; this reply has ${b.length}` };
    for (const x of b) {
      if (!x.title.trim() || length(x.title) > WHATSAPP_LIMITS.buttonTitle) return { code: 'whatsapp_button_title_too_long', message: `a button title takes 1 to ${WHATSAPP_LIMITS.buttonTitle} characters; "${x.title}" has ${length(x.title)}` };
      if (!x.id || length(x.id) > WHATSAPP_LIMITS.buttonId) return { code: 'whatsapp_interactive_invalid', message: `a button id takes 1 to ${WHATSAPP_LIMITS.buttonId} characters` };
    }
    if (new Set(b.map((x) => x.id)).size !== b.length || new Set(b.map((x) => x.title)).size !== b.length) return { code: 'whatsapp_interactive_invalid', message: 'button ids and titles must each be different' };
    if (n > WHATSAPP_LIMITS.buttonBody) return { code: 'whatsapp_text_too_long', message: `a message with buttons takes at most ${WHATSAPP_LIMITS.buttonBody} characters; this one has ${n}` };
    return undefined;
  }
  if (rich?.list) {
    const { button, sections } = rich.list;
    const rows = sections.flatMap((s) => s.rows);
    if (!button.trim() || length(button) > WHATSAPP_LIMITS.listButton) return { code: 'whatsapp_button_title_too_long', message: `the list's button takes 1 to ${WHATSAPP_LIMITS.listButton} characters` };
    if (sections.length < 1 || sections.length > WHATSAPP_LIMITS.listSections || (sections.length > 1 && sections.some((s) => !s.title?.trim())))
      return { code: 'whatsapp_interactive_invalid', message: `a list has 1 to ${WHATSAPP_LIMITS.listSections} sections, each titled when there are several` };
    if (rows.length < 1 || rows.length > WHATSAPP_LIMITS.listRows || sections.some((s) => s.rows.length === 0)) return { code: 'whatsapp_too_many_rows', message: `a list has 1 to ${WHATSAPP_LIMITS.listRows} rows in all, at least one per section; this one has ${rows.length}` };
    for (const s of sections) if (s.title && length(s.title) > WHATSAPP_LIMITS.sectionTitle) return { code: 'whatsapp_row_title_too_long', message: `a section title takes at most ${WHATSAPP_LIMITS.sectionTitle} characters` };
    for (const r of rows) {
      if (!r.title.trim() || length(r.title) > WHATSAPP_LIMITS.rowTitle) return { code: 'whatsapp_row_title_too_long', message: `a row title takes 1 to ${WHATSAPP_LIMITS.rowTitle} characters; "${r.title}" has ${length(r.title)}` };
      if (r.description && length(r.description) > WHATSAPP_LIMITS.rowDescription) return { code: 'whatsapp_row_description_too_long', message: `a row description takes at most ${WHATSAPP_LIMITS.rowDescription} characters; "${r.title}"'s has ${length(r.description)}` };
      if (!r.id || length(r.id) > WHATSAPP_LIMITS.rowId) return { code: 'whatsapp_interactive_invalid', message: `a row id takes 1 to ${WHATSAPP_LIMITS.rowId} characters` };
    }
    if (new Set(rows.map((r) => r.id)).size !== rows.length) return { code: 'whatsapp_interactive_invalid', message: 'row ids must each be different' };
    if (n > WHATSAPP_LIMITS.text) return { code: 'whatsapp_text_too_long', message: `WhatsApp takes at most ${WHATSAPP_LIMITS.text} characters; this reply has ${n}` };
    return undefined;
  }
  if (n > WHATSAPP_LIMITS.text) return { code: 'whatsapp_text_too_long', message: `WhatsApp takes at most ${WHATSAPP_LIMITS.text} characters; this reply has ${n}` };
  return undefined;
}

/**
 * A template's body variables as Meta takes them: each non-empty, on one line (no newline or tab), no
 * more than four spaces in a row, at most 1,024 characters.
 */
export function checkTemplateVariables(variables: string[]): WhatsAppRefusal | undefined {
  for (const [i, v] of variables.entries()) {
    const at = `variable {{${i + 1}}}`;
    if (!v.trim()) return { code: 'whatsapp_template_variable_invalid', message: `${at} is empty` };
    if (/[\n\r\t]/.test(v)) return { code: 'whatsapp_template_variable_invalid', message: `${at} has a newline or tab; template variables are one line` };
    if (/ {5,}/.test(v)) return { code: 'whatsapp_template_variable_invalid', message: `${at} has more than four spaces in a row` };
    if (length(v) > WHATSAPP_LIMITS.templateVariable) return { code: 'whatsapp_template_variable_invalid', message: `${at} has ${length(v)} characters, more than ${WHATSAPP_LIMITS.templateVariable}` };
  }
  return undefined;
}

/** A template's header and button parameters on their own (shape and length), and its one file only as a media header. */
function checkTemplateExtras(t: OutboundTemplate, attachments: { name: string; mimeType: string; size: number }[]): WhatsAppRefusal | undefined {
  const header = t.header;
  if (header?.type === 'text') {
    const bad = checkTemplateVariables([header.text]);
    if (bad) return { code: bad.code, message: bad.message.replace('variable {{1}}', 'the header variable') };
    if (length(header.text) > WHATSAPP_LIMITS.templateHeaderText) return { code: 'whatsapp_template_variable_invalid', message: `the header variable has ${length(header.text)} characters; a template header takes at most ${WHATSAPP_LIMITS.templateHeaderText}` };
  }
  const media = header && header.type !== 'text';
  if (attachments.length > (media ? 1 : 0) || (media && attachments.length === 0))
    return media
      ? { code: 'whatsapp_template_header_missing', message: `this template's ${header.type} header needs exactly one file; ${attachments.length} given` }
      : { code: 'whatsapp_template_header_unexpected', message: 'a template carries a file only as its media header' };
  if (media) {
    const file = attachments[0]!;
    const type = whatsappMediaType(file.mimeType);
    if (type !== header.type) return { code: 'whatsapp_template_header_format', message: `"${file.name}" (${file.mimeType}) goes out as ${type === 'document' ? 'a document' : `${type === 'image' ? 'an' : 'a'} ${type}`}; this template's header is ${header.type === 'image' ? 'an image (JPEG or PNG)' : header.type === 'video' ? 'a video (MP4 or 3GPP)' : 'a document'}` };
    if (file.size > MEDIA_MAX[type]) return { code: 'whatsapp_attachment_too_large', message: `WhatsApp takes ${type} files up to ${MEDIA_MAX[type] / 1024 / 1024} MB; "${file.name}" has ${(file.size / 1024 / 1024).toFixed(1)} MB` };
  }
  const seen = new Set<number>();
  for (const b of t.buttons ?? []) {
    if (!Number.isInteger(b.index) || b.index < 0 || b.index > 9 || seen.has(b.index)) return { code: 'whatsapp_template_button_mismatch', message: `button index ${b.index} is not one of the template's buttons (0 to 9, each once)` };
    seen.add(b.index);
    const value = b.subType === 'quick_reply' ? b.payload : b.text;
    const max = b.subType === 'quick_reply' ? WHATSAPP_LIMITS.templateButtonPayload : WHATSAPP_LIMITS.templateUrlSuffix;
    const what = b.subType === 'quick_reply' ? `button ${b.index}'s payload` : `button ${b.index}'s URL suffix`;
    if (!value.trim() || /[\n\r\t]/.test(value) || length(value) > max) return { code: 'whatsapp_template_variable_invalid', message: `${what} takes 1 to ${max} characters on one line` };
    if (b.subType === 'url' && /\s/.test(value)) return { code: 'whatsapp_template_variable_invalid', message: `${what} goes into a link: no spaces` };
  }
  return undefined;
}

/** A template component as Graph lists it (`GET /{waba-id}/message_templates`). */
type TemplateComponent = { type?: unknown; format?: unknown; text?: unknown; buttons?: { type?: unknown; text?: unknown; url?: unknown }[] };

/**
 * The parameters a send gives, against the synced template's components (as Graph listed them): body
 * variables counted, the header as the template has it (a text variable, or one image/video/document
 * file), and button parameters only for its quick-reply buttons (a payload, optional) and dynamic URL
 * buttons (the suffix, required). The first mismatch, or undefined.
 */
export function checkTemplateAgainst(components: unknown[], t: Pick<OutboundTemplate, 'variables' | 'header' | 'buttons'>): (WhatsAppRefusal & { expected?: number }) | undefined {
  const list = components.filter((c): c is TemplateComponent => !!c && typeof c === 'object');
  const of = (type: string) => list.find((c) => typeof c.type === 'string' && c.type.toUpperCase() === type);
  const bodyText = of('BODY')?.text;
  const params = templateBodyParams(typeof bodyText === 'string' ? bodyText : '');
  if (t.variables.length !== params) return { code: 'whatsapp_template_params_mismatch', message: `the template's body takes ${params} variable${params === 1 ? '' : 's'}; ${t.variables.length} given`, expected: params };

  const header = of('HEADER');
  const format = typeof header?.format === 'string' ? header.format.toUpperCase() : header ? 'TEXT' : undefined;
  const headerParams = format === 'TEXT' ? templateBodyParams(typeof header?.text === 'string' ? header.text : '') : 0;
  if (format && !['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT'].includes(format))
    return { code: 'whatsapp_template_unsupported', message: `the template's header is ${format.toLowerCase()}; HummDesk sends text, image, video and document headers` };
  if (format === 'TEXT' || !format) {
    if (t.header?.type === 'text' && headerParams === 0) return { code: 'whatsapp_template_header_unexpected', message: format ? "the template's header text has no variable" : 'the template has no header' };
    if (t.header && t.header.type !== 'text') return { code: format ? 'whatsapp_template_header_format' : 'whatsapp_template_header_unexpected', message: format ? `the template's header is text; ${t.header.type} given` : 'the template has no header; a template carries no other file' };
    if (headerParams > 0 && t.header?.type !== 'text') return { code: 'whatsapp_template_header_missing', message: "the template's header text takes a variable (header: { text })" };
  } else {
    const want = format.toLowerCase();
    if (!t.header) return { code: 'whatsapp_template_header_missing', message: `the template's header is ${want === 'image' ? 'an' : 'a'} ${want}: give the file (header: { uploadId })` };
    if (t.header.type !== want) return { code: 'whatsapp_template_header_format', message: `the template's header is ${want === 'image' ? 'an' : 'a'} ${want}; ${t.header.type === 'text' ? 'text' : `${t.header.type === 'image' ? 'an' : 'a'} ${t.header.type}`} given` };
  }

  const buttons = Array.isArray(of('BUTTONS')?.buttons) ? of('BUTTONS')!.buttons! : [];
  for (const b of t.buttons ?? []) {
    const def = buttons[b.index];
    const type = typeof def?.type === 'string' ? def.type.toUpperCase() : undefined;
    if (!def) return { code: 'whatsapp_template_button_mismatch', message: `the template has ${buttons.length} button${buttons.length === 1 ? '' : 's'}; there is no button ${b.index}` };
    if (b.subType === 'quick_reply' && type !== 'QUICK_REPLY') return { code: 'whatsapp_template_button_mismatch', message: `button ${b.index} is ${String(type).toLowerCase()}, not a quick reply: it takes no payload` };
    if (b.subType === 'url' && (type !== 'URL' || templateBodyParams(typeof def.url === 'string' ? def.url : '') === 0))
      return { code: 'whatsapp_template_button_mismatch', message: `button ${b.index} is ${type === 'URL' ? 'a fixed link' : String(type).toLowerCase()}: it takes no URL suffix` };
  }
  for (const [index, def] of buttons.entries()) {
    const type = typeof def?.type === 'string' ? def.type.toUpperCase() : '';
    if (type === 'URL' && templateBodyParams(typeof def.url === 'string' ? def.url : '') > 0 && !t.buttons?.some((b) => b.index === index))
      return { code: 'whatsapp_template_button_missing', message: `button ${index} ("${String(def.text ?? '')}") is a link that takes a suffix (buttons: [{ index: ${index}, urlSuffix }])` };
    if (['COPY_CODE', 'OTP', 'FLOW', 'CATALOG', 'MPM'].includes(type)) return { code: 'whatsapp_template_unsupported', message: `button ${index} is ${type.toLowerCase()}; HummDesk sends templates whose buttons are quick replies, links and phone numbers` };
  }
  return undefined;
}

/** The `{{1}}`, `{{2}}` … placeholders of a template body, counted (named `{{name}}` ones too). */
export function templateBodyParams(body: string): number {
  return new Set([...body.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!)).size;
}

/** A template body with its placeholders filled in order, as the customer will read it. */
export function renderTemplateBody(body: string, variables: string[]): string {
  const order = [...new Set([...body.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!))];
  return body.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, k: string) => variables[order.indexOf(k)] ?? `{{${k}}}`);
}

/** The `type`-specific part of a Graph `/messages` body for text, interactive, reaction and template messages. */
export function whatsappMessagePart(text: string, rich: OutboundRich | undefined): Record<string, unknown> {
  if (rich?.template) return { type: 'template', template: templatePart(rich.template) };
  if (rich?.reaction) return { type: 'reaction', reaction: { message_id: rich.reaction.externalId, emoji: rich.reaction.emoji } };
  if (rich?.buttons)
    return { type: 'interactive', interactive: { type: 'button', body: { text }, action: { buttons: rich.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) } } };
  if (rich?.list)
    return {
      type: 'interactive',
      interactive: {
        type: 'list', body: { text },
        action: { button: rich.list.button, sections: rich.list.sections.map((s) => ({ ...(s.title ? { title: s.title } : {}), rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description ? { description: r.description } : {}) })) })) },
      },
    };
  return { type: 'text', text: { body: text, preview_url: false } };
}

/**
 * A template as Graph's `/messages` takes it: header, body and button components with their parameters;
 * a media header by the id of the file uploaded first (`mediaId`, with the file's name for documents).
 */
export function templatePart(t: OutboundTemplate, media?: { id: string; filename: string }): Record<string, unknown> {
  const components: Record<string, unknown>[] = [];
  if (t.header?.type === 'text') components.push({ type: 'header', parameters: [{ type: 'text', text: t.header.text }] });
  else if (t.header) {
    if (!media) throw new Error(`a template's ${t.header.type} header is sent with the id of its uploaded file`);
    components.push({ type: 'header', parameters: [{ type: t.header.type, [t.header.type]: { id: media.id, ...(t.header.type === 'document' ? { filename: media.filename } : {}) } }] });
  }
  if (t.variables.length) components.push({ type: 'body', parameters: t.variables.map((v) => ({ type: 'text', text: v })) });
  for (const b of [...(t.buttons ?? [])].sort((x, y) => x.index - y.index))
    components.push({ type: 'button', sub_type: b.subType, index: String(b.index), parameters: [b.subType === 'quick_reply' ? { type: 'payload', payload: b.payload } : { type: 'text', text: b.text }] });
  return { name: t.name, language: { code: t.language }, ...(components.length ? { components } : {}) };
}
