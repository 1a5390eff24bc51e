/**
 * Test support, not product code: Slack's documented Block Kit rules and limits (docs.slack.dev
 * reference/block-kit: blocks, block elements, composition objects; reference/views), so the emulator
 * refuses what Slack refuses. Each problem is reported the way Slack words it in
 * `response_metadata.messages`: `[ERROR] <reason> [json-pointer:/blocks/0/text/text]`.
 *
 * Lengths count characters (code points), as Slack does, not UTF-16 units.
 */

type Json = Record<string, unknown>;

export type BlockSurface = 'message' | 'modal' | 'home';

/** Blocks per surface: 50 in a message, 100 in a modal or Home tab. */
export const MAX_BLOCKS: Record<BlockSurface, number> = { message: 50, modal: 100, home: 100 };

const TEXT_TYPES = ['plain_text', 'mrkdwn'] as const;

/** Block types and where Slack accepts them. */
const BLOCK_SURFACES: Record<string, readonly BlockSurface[]> = {
  actions: ['message', 'modal', 'home'],
  context: ['message', 'modal', 'home'],
  divider: ['message', 'modal', 'home'],
  file: ['message'],
  header: ['message', 'modal', 'home'],
  image: ['message', 'modal', 'home'],
  input: ['message', 'modal', 'home'],
  markdown: ['message'],
  rich_text: ['message', 'modal', 'home'],
  section: ['message', 'modal', 'home'],
  video: ['message', 'modal', 'home'],
};

/** Properties each block type may carry; Slack answers "invalid additional property" for others. */
const BLOCK_PROPS: Record<string, readonly string[]> = {
  actions: ['elements'],
  context: ['elements'],
  divider: [],
  file: ['external_id', 'source'],
  header: ['text'],
  image: ['image_url', 'slack_file', 'alt_text', 'title'],
  input: ['label', 'element', 'dispatch_action', 'hint', 'optional'],
  markdown: ['text'],
  rich_text: ['elements'],
  section: ['text', 'fields', 'accessory', 'expand'],
  video: ['alt_text', 'author_name', 'description', 'provider_icon_url', 'provider_name', 'title', 'title_url', 'thumbnail_url', 'video_url'],
};

const SELECTS = ['static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select'];
const MULTI_SELECTS = SELECTS.map((s) => `multi_${s}`);
const ACTIONS_ELEMENTS = ['button', 'checkboxes', 'datepicker', 'datetimepicker', 'overflow', 'radio_buttons', 'timepicker', 'workflow_button', ...SELECTS, ...MULTI_SELECTS];
const SECTION_ACCESSORIES = ['button', 'checkboxes', 'datepicker', 'image', 'overflow', 'radio_buttons', 'timepicker', 'workflow_button', ...SELECTS, ...MULTI_SELECTS];
const INPUT_ELEMENTS = ['checkboxes', 'datepicker', 'datetimepicker', 'email_text_input', 'file_input', 'number_input', 'plain_text_input', 'radio_buttons', 'rich_text_input', 'timepicker', 'url_text_input', ...SELECTS, ...MULTI_SELECTS];

const COMMON_ELEMENT_PROPS = ['type', 'action_id'];
const ELEMENT_PROPS: Record<string, readonly string[]> = {
  button: ['text', 'value', 'url', 'style', 'confirm', 'accessibility_label'],
  checkboxes: ['options', 'initial_options', 'confirm', 'focus_on_load'],
  datepicker: ['initial_date', 'confirm', 'focus_on_load', 'placeholder'],
  datetimepicker: ['initial_date_time', 'confirm', 'focus_on_load'],
  email_text_input: ['initial_value', 'dispatch_action_config', 'focus_on_load', 'placeholder'],
  file_input: ['filetypes', 'max_files'],
  image: ['image_url', 'slack_file', 'alt_text'],
  number_input: ['is_decimal_allowed', 'initial_value', 'min_value', 'max_value', 'dispatch_action_config', 'focus_on_load', 'placeholder'],
  overflow: ['options', 'confirm'],
  plain_text_input: ['initial_value', 'multiline', 'min_length', 'max_length', 'dispatch_action_config', 'focus_on_load', 'placeholder'],
  radio_buttons: ['options', 'initial_option', 'confirm', 'focus_on_load'],
  rich_text_input: ['initial_value', 'dispatch_action_config', 'focus_on_load', 'placeholder'],
  timepicker: ['initial_time', 'confirm', 'focus_on_load', 'placeholder', 'timezone'],
  url_text_input: ['initial_value', 'dispatch_action_config', 'focus_on_load', 'placeholder'],
  workflow_button: ['text', 'workflow', 'style', 'accessibility_label'],
  static_select: ['options', 'option_groups', 'initial_option', 'confirm', 'focus_on_load', 'placeholder'],
  external_select: ['initial_option', 'min_query_length', 'confirm', 'focus_on_load', 'placeholder'],
  users_select: ['initial_user', 'confirm', 'focus_on_load', 'placeholder'],
  conversations_select: ['initial_conversation', 'default_to_current_conversation', 'response_url_enabled', 'filter', 'confirm', 'focus_on_load', 'placeholder'],
  channels_select: ['initial_channel', 'response_url_enabled', 'confirm', 'focus_on_load', 'placeholder'],
  multi_static_select: ['options', 'option_groups', 'initial_options', 'max_selected_items', 'confirm', 'focus_on_load', 'placeholder'],
  multi_external_select: ['initial_options', 'min_query_length', 'max_selected_items', 'confirm', 'focus_on_load', 'placeholder'],
  multi_users_select: ['initial_users', 'max_selected_items', 'confirm', 'focus_on_load', 'placeholder'],
  multi_conversations_select: ['initial_conversations', 'default_to_current_conversation', 'filter', 'max_selected_items', 'confirm', 'focus_on_load', 'placeholder'],
  multi_channels_select: ['initial_channels', 'max_selected_items', 'confirm', 'focus_on_load', 'placeholder'],
};

const RICH_TEXT_CONTAINERS = ['rich_text_section', 'rich_text_list', 'rich_text_quote', 'rich_text_preformatted'];
const RICH_TEXT_LEAVES: Record<string, readonly string[]> = {
  text: ['text'],
  link: ['url'],
  emoji: ['name'],
  user: ['user_id'],
  channel: ['channel_id'],
  usergroup: ['usergroup_id'],
  team: ['team_id'],
  broadcast: ['range'],
  date: ['timestamp', 'format'],
  color: ['value'],
};

/** Code points; a string within `max` UTF-16 units is within `max` characters, so only long ones are counted. */
const chars = (s: string, max = 0) => {
  if (s.length <= max) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
};
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects every problem of one payload, each with its JSON pointer. */
class Problems {
  readonly list: string[] = [];
  add(reason: string, at: string): void {
    this.list.push(`${reason} [json-pointer:${at}]`);
  }

  object(v: unknown, at: string): v is Json {
    if (isObject(v)) return true;
    this.add('must provide an object', at);
    return false;
  }

  array(v: unknown, at: string, min: number, max: number): v is unknown[] {
    if (!Array.isArray(v)) {
      this.add('must provide an array', at);
      return false;
    }
    if (v.length < min) this.add(`must provide at least ${min} item${min === 1 ? '' : 's'}`, at);
    if (v.length > max) this.add(`no more than ${max} items allowed`, at);
    return true;
  }

  /** A required (or, with `optional`, present) string of `min`..`max` characters. */
  string(v: unknown, at: string, max: number, { min = 1, optional = false } = {}): v is string {
    if (v === undefined && optional) return false;
    if (typeof v !== 'string') {
      this.add('must provide a string', at);
      return false;
    }
    const n = chars(v, max);
    if (n < min) this.add(`must be more than ${min - 1} characters`, at);
    if (n > max) this.add(`must be less than ${max + 1} characters`, at);
    return true;
  }

  props(o: Json, allowed: readonly string[], at: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.add(`invalid additional property: ${k}`, at);
  }

  oneOf(v: unknown, values: readonly unknown[], at: string): void {
    if (!values.includes(v)) this.add(`must be one of [${values.join(', ')}]`, at);
  }
}

/** A text object: `plain_text` (optionally `emoji`) or `mrkdwn` (optionally `verbatim`), 1..max characters. */
function textObject(p: Problems, v: unknown, at: string, max: number, only?: 'plain_text'): void {
  if (!p.object(v, at)) return;
  const allowed = only ? [only] : TEXT_TYPES;
  if (!allowed.includes(v.type as never)) {
    // Slack's wording when a field takes only plain_text and gets mrkdwn (a button's text, a header…).
    p.add(only ? `failed to match all allowed schemas: must be ${only}` : `must be one of [${allowed.join(', ')}]`, `${at}/type`);
    return;
  }
  p.props(v, v.type === 'plain_text' ? ['type', 'text', 'emoji'] : ['type', 'text', 'verbatim'], at);
  p.string(v.text, `${at}/text`, max);
  if (v.emoji !== undefined && typeof v.emoji !== 'boolean') p.add('must provide a boolean', `${at}/emoji`);
  if (v.verbatim !== undefined && typeof v.verbatim !== 'boolean') p.add('must provide a boolean', `${at}/verbatim`);
}

function imageSource(p: Problems, o: Json, at: string): void {
  if ((o.image_url === undefined) === (o.slack_file === undefined)) p.add('must provide exactly one of image_url or slack_file', at);
  if (o.image_url !== undefined && p.string(o.image_url, `${at}/image_url`, 3000)) {
    if (!/^https?:\/\//.test(o.image_url)) p.add('must be a valid URL', `${at}/image_url`);
  }
  if (o.slack_file !== undefined && p.object(o.slack_file, `${at}/slack_file`)) {
    const f = o.slack_file;
    if ((f.url === undefined) === (f.id === undefined)) p.add('must provide exactly one of url or id', `${at}/slack_file`);
  }
}

function confirmObject(p: Problems, v: unknown, at: string): void {
  if (!p.object(v, at)) return;
  p.props(v, ['title', 'text', 'confirm', 'deny', 'style'], at);
  textObject(p, v.title, `${at}/title`, 100, 'plain_text');
  textObject(p, v.text, `${at}/text`, 300);
  textObject(p, v.confirm, `${at}/confirm`, 30, 'plain_text');
  textObject(p, v.deny, `${at}/deny`, 30, 'plain_text');
  if (v.style !== undefined) p.oneOf(v.style, ['primary', 'danger'], `${at}/style`);
}

/** An option of a select or overflow (plain_text only) or of checkboxes and radio buttons (either text type). */
function option(p: Problems, v: unknown, at: string, textType: 'plain_text' | undefined, withUrl: boolean): void {
  if (!p.object(v, at)) return;
  p.props(v, ['text', 'value', 'description', ...(withUrl ? ['url'] : [])], at);
  textObject(p, v.text, `${at}/text`, 75, textType);
  p.string(v.value, `${at}/value`, 150);
  if (v.description !== undefined) textObject(p, v.description, `${at}/description`, 75, textType);
  if (withUrl) p.string(v.url, `${at}/url`, 3000, { optional: true });
}

function options(p: Problems, v: unknown, at: string, min: number, max: number, textType: 'plain_text' | undefined, withUrl = false): void {
  if (p.array(v, at, min, max)) v.forEach((o, i) => option(p, o, `${at}/${i}`, textType, withUrl));
}

/** A block element in an actions block, a section's accessory, an input block or a context block (image only). */
function element(p: Problems, v: unknown, at: string, allowed: readonly string[]): void {
  if (!p.object(v, at)) return;
  const type = v.type;
  if (typeof type !== 'string' || !allowed.includes(type) || !ELEMENT_PROPS[type]) {
    p.add(`unsupported type: ${String(type)} (one of ${allowed.join(', ')})`, `${at}/type`);
    return;
  }
  p.props(v, [...COMMON_ELEMENT_PROPS, ...ELEMENT_PROPS[type]!], at);
  if (v.action_id !== undefined) p.string(v.action_id, `${at}/action_id`, 255);
  if (v.placeholder !== undefined) textObject(p, v.placeholder, `${at}/placeholder`, 150, 'plain_text');
  if (v.confirm !== undefined) confirmObject(p, v.confirm, `${at}/confirm`);
  if (v.max_selected_items !== undefined && !(Number.isInteger(v.max_selected_items) && (v.max_selected_items as number) >= 1)) p.add('must be an integer of at least 1', `${at}/max_selected_items`);
  switch (type) {
    case 'button':
    case 'workflow_button':
      textObject(p, v.text, `${at}/text`, 75, 'plain_text');
      p.string(v.value, `${at}/value`, 2000, { optional: true });
      p.string(v.url, `${at}/url`, 3000, { optional: true });
      p.string(v.accessibility_label, `${at}/accessibility_label`, 75, { optional: true });
      if (v.style !== undefined) p.oneOf(v.style, ['primary', 'danger'], `${at}/style`);
      break;
    case 'static_select':
    case 'multi_static_select':
      if ((v.options === undefined) === (v.option_groups === undefined)) p.add('must provide exactly one of options or option_groups', at);
      if (v.options !== undefined) options(p, v.options, `${at}/options`, 1, 100, 'plain_text');
      if (v.option_groups !== undefined && p.array(v.option_groups, `${at}/option_groups`, 1, 100))
        v.option_groups.forEach((g, i) => {
          const gat = `${at}/option_groups/${i}`;
          if (!p.object(g, gat)) return;
          p.props(g, ['label', 'options'], gat);
          textObject(p, g.label, `${gat}/label`, 75, 'plain_text');
          options(p, g.options, `${gat}/options`, 1, 100, 'plain_text');
        });
      if (v.initial_option !== undefined) option(p, v.initial_option, `${at}/initial_option`, 'plain_text', false);
      break;
    case 'overflow':
      options(p, v.options, `${at}/options`, 1, 5, 'plain_text', true);
      break;
    case 'checkboxes':
    case 'radio_buttons':
      options(p, v.options, `${at}/options`, 1, 10, undefined);
      break;
    case 'plain_text_input': {
      p.string(v.initial_value, `${at}/initial_value`, 3000, { min: 0, optional: true });
      const lengths = ['min_length', 'max_length'] as const;
      for (const k of lengths) {
        const n = v[k];
        if (n === undefined) continue;
        if (!Number.isInteger(n) || (n as number) < (k === 'min_length' ? 0 : 1) || (n as number) > 3000) p.add(`must be an integer from ${k === 'min_length' ? 0 : 1} to 3000`, `${at}/${k}`);
      }
      if (typeof v.min_length === 'number' && typeof v.max_length === 'number' && v.min_length > v.max_length) p.add('min_length must not exceed max_length', at);
      if (v.multiline !== undefined && typeof v.multiline !== 'boolean') p.add('must provide a boolean', `${at}/multiline`);
      break;
    }
    case 'number_input':
      if (typeof v.is_decimal_allowed !== 'boolean') p.add('must provide a boolean', `${at}/is_decimal_allowed`);
      break;
    case 'datepicker':
      if (v.initial_date !== undefined && !(typeof v.initial_date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.initial_date))) p.add('must be a date YYYY-MM-DD', `${at}/initial_date`);
      break;
    case 'timepicker':
      if (v.initial_time !== undefined && !(typeof v.initial_time === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(v.initial_time))) p.add('must be a time HH:mm', `${at}/initial_time`);
      break;
    case 'image':
      imageSource(p, v, at);
      p.string(v.alt_text, `${at}/alt_text`, 2000);
      break;
    case 'file_input':
      if (v.max_files !== undefined && !(Number.isInteger(v.max_files) && (v.max_files as number) >= 1 && (v.max_files as number) <= 10)) p.add('must be an integer from 1 to 10', `${at}/max_files`);
      break;
  }
}

/** action_id is unique within its block (Slack generates one where it is missing). */
function uniqueActionIds(p: Problems, elements: unknown[], at: string): void {
  const seen = new Set<string>();
  elements.forEach((e, i) => {
    const id = isObject(e) ? e.action_id : undefined;
    if (typeof id !== 'string') return;
    if (seen.has(id)) p.add(`duplicate action_id: ${id}`, `${at}/${i}/action_id`);
    seen.add(id);
  });
}

function richTextLeaf(p: Problems, v: unknown, at: string): void {
  if (!p.object(v, at)) return;
  const type = v.type as string;
  const required = RICH_TEXT_LEAVES[type];
  if (!required) {
    p.add(`unsupported type: ${String(type)}`, `${at}/type`);
    return;
  }
  for (const k of required) if (v[k] === undefined) p.add(`missing required field: ${k}`, at);
  if (type === 'text' && typeof v.text === 'string' && v.text.length === 0) p.add('must be more than 0 characters', `${at}/text`);
}

function richTextContainer(p: Problems, v: unknown, at: string, depth = 0): void {
  if (!p.object(v, at)) return;
  if (!RICH_TEXT_CONTAINERS.includes(v.type as string)) {
    p.add(`unsupported type: ${String(v.type)}`, `${at}/type`);
    return;
  }
  if (!p.array(v.elements, `${at}/elements`, 0, 10_000)) return;
  if (v.type === 'rich_text_list') {
    p.oneOf(v.style, ['bullet', 'ordered'], `${at}/style`);
    v.elements.forEach((e, i) => {
      if (isObject(e) && e.type !== 'rich_text_section') p.add('must be rich_text_section', `${at}/elements/${i}/type`);
      else richTextContainer(p, e, `${at}/elements/${i}`, depth + 1);
    });
  } else v.elements.forEach((e, i) => richTextLeaf(p, e, `${at}/elements/${i}`));
}

function block(p: Problems, b: unknown, at: string, surface: BlockSurface): void {
  if (!p.object(b, at)) return;
  const type = b.type;
  if (typeof type !== 'string' || !BLOCK_PROPS[type]) {
    p.add(`unsupported block type: ${String(type)}`, `${at}/type`);
    return;
  }
  if (!BLOCK_SURFACES[type]!.includes(surface)) p.add(`block type ${type} is not allowed in a ${surface}`, `${at}/type`);
  p.props(b, ['type', 'block_id', ...BLOCK_PROPS[type]!], at);
  switch (type) {
    case 'section':
      if (b.text === undefined && b.fields === undefined) p.add('must provide text or fields', at);
      if (b.text !== undefined) textObject(p, b.text, `${at}/text`, 3000);
      if (b.fields !== undefined && p.array(b.fields, `${at}/fields`, 1, 10)) b.fields.forEach((f, i) => textObject(p, f, `${at}/fields/${i}`, 2000));
      if (b.accessory !== undefined) element(p, b.accessory, `${at}/accessory`, SECTION_ACCESSORIES);
      if (b.expand !== undefined && typeof b.expand !== 'boolean') p.add('must provide a boolean', `${at}/expand`);
      break;
    case 'actions':
      if (p.array(b.elements, `${at}/elements`, 1, 25)) {
        b.elements.forEach((e, i) => element(p, e, `${at}/elements/${i}`, ACTIONS_ELEMENTS));
        uniqueActionIds(p, b.elements, `${at}/elements`);
      }
      break;
    case 'context':
      if (p.array(b.elements, `${at}/elements`, 1, 10))
        b.elements.forEach((e, i) => {
          const eat = `${at}/elements/${i}`;
          if (isObject(e) && e.type === 'image') element(p, e, eat, ['image']);
          else textObject(p, e, eat, 3000);
        });
      break;
    case 'divider':
      break;
    case 'header':
      textObject(p, b.text, `${at}/text`, 150, 'plain_text');
      break;
    case 'image':
      imageSource(p, b, at);
      p.string(b.alt_text, `${at}/alt_text`, 2000);
      if (b.title !== undefined) textObject(p, b.title, `${at}/title`, 2000, 'plain_text');
      break;
    case 'input':
      textObject(p, b.label, `${at}/label`, 2000, 'plain_text');
      if (b.hint !== undefined) textObject(p, b.hint, `${at}/hint`, 2000, 'plain_text');
      if (b.element === undefined) p.add('missing required field: element', at);
      else element(p, b.element, `${at}/element`, INPUT_ELEMENTS);
      break;
    case 'markdown':
      p.string(b.text, `${at}/text`, 12_000);
      break;
    case 'rich_text':
      if (p.array(b.elements, `${at}/elements`, 1, 10_000)) b.elements.forEach((e, i) => richTextContainer(p, e, `${at}/elements/${i}`));
      break;
    case 'file':
      p.string(b.external_id, `${at}/external_id`, 255);
      p.oneOf(b.source, ['remote'], `${at}/source`);
      break;
    case 'video':
      p.string(b.alt_text, `${at}/alt_text`, 2000);
      textObject(p, b.title, `${at}/title`, 199, 'plain_text');
      p.string(b.thumbnail_url, `${at}/thumbnail_url`, 3000);
      p.string(b.video_url, `${at}/video_url`, 3000);
      break;
  }
}

/**
 * The problems Slack finds in a `blocks` array (empty when Slack accepts it). `at` is the array's own
 * pointer: `/blocks` for a message, `/view/blocks` for a view.
 */
export function blockKitProblems(blocks: unknown, surface: BlockSurface, at = '/blocks'): string[] {
  const p = new Problems();
  if (!p.array(blocks, at, 0, MAX_BLOCKS[surface])) return p.list;
  const ids = new Set<string>();
  let markdown = 0;
  blocks.forEach((b, i) => {
    block(p, b, `${at}/${i}`, surface);
    if (!isObject(b)) return;
    if (b.block_id !== undefined && p.string(b.block_id, `${at}/${i}/block_id`, 255)) {
      if (ids.has(b.block_id)) p.add(`duplicate block_id: ${b.block_id}`, `${at}/${i}/block_id`);
      ids.add(b.block_id);
    }
    if (b.type === 'markdown' && typeof b.text === 'string') markdown += chars(b.text);
  });
  // The markdown blocks of one payload share one 12,000-character budget.
  if (markdown > 12_000) p.add('markdown blocks of a message must total less than 12001 characters', at);
  return p.list;
}

/** The problems Slack finds in a view (`views.open`, `update`, `push`: a modal; `views.publish`: a Home tab). */
export function viewProblems(view: unknown, type: 'modal' | 'home'): string[] {
  const p = new Problems();
  const at = '/view';
  if (!p.object(view, at)) return p.list;
  if (view.type !== type) {
    p.add(`must be ${type}`, `${at}/type`);
    return p.list;
  }
  const shared = ['type', 'blocks', 'private_metadata', 'callback_id', 'external_id'];
  p.props(view, type === 'modal' ? [...shared, 'title', 'close', 'submit', 'submit_disabled', 'clear_on_close', 'notify_on_close'] : shared, at);
  p.string(view.private_metadata, `${at}/private_metadata`, 3000, { min: 0, optional: true });
  p.string(view.callback_id, `${at}/callback_id`, 255, { optional: true });
  p.string(view.external_id, `${at}/external_id`, 255, { optional: true });
  if (type === 'modal') {
    textObject(p, view.title, `${at}/title`, 24, 'plain_text');
    if (view.close !== undefined) textObject(p, view.close, `${at}/close`, 24, 'plain_text');
    if (view.submit !== undefined) textObject(p, view.submit, `${at}/submit`, 24, 'plain_text');
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) p.add('submit is required when an input block is within the blocks array', `${at}/submit`);
  }
  p.list.push(...blockKitProblems(view.blocks, type, `${at}/blocks`));
  return p.list;
}
