import { Type } from 'typebox';
import type { RichReply } from '../services/reply-limits.js';
import { Uuid } from '../schemas.js';

/**
 * The WhatsApp parts of `POST /conversations/:id/reply`: a quote, reply buttons, a list or a reaction.
 * The schema takes generous bounds; WhatsApp's own limits (3 buttons of 20 characters, 10 rows …) are
 * checked by the reply with their codes, so an agent learns which one was passed.
 */
export const RichReplyFields = {
  quoteMessageId: Type.Optional(Uuid),
  buttons: Type.Optional(Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }), title: Type.String({ maxLength: 100 }) }, { additionalProperties: false }), { maxItems: 10, description: 'WhatsApp: up to 3 reply buttons, titles up to 20 characters' })),
  list: Type.Optional(Type.Object({
    button: Type.String({ maxLength: 100 }),
    sections: Type.Array(Type.Object({
      title: Type.Optional(Type.String({ maxLength: 100 })),
      rows: Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }), title: Type.String({ maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false }), { maxItems: 20 }),
    }, { additionalProperties: false }), { maxItems: 20 }),
  }, { additionalProperties: false, description: 'WhatsApp: a list of up to 10 rows (titles ≤ 24, descriptions ≤ 72 characters)' })),
  reaction: Type.Optional(Type.Object({ messageId: Uuid, emoji: Type.String({ maxLength: 20, description: 'one emoji; empty removes the reaction' }) }, { additionalProperties: false, description: 'WhatsApp: react to a message of the conversation (text is ignored)' })),
};

export interface RichReplyBody {
  quoteMessageId?: string;
  buttons?: RichReply['buttons'];
  list?: RichReply['list'];
  reaction?: RichReply['reaction'];
}

export function richOfBody(b: RichReplyBody): { rich?: RichReply } {
  const rich: RichReply = {
    ...(b.quoteMessageId ? { quoteMessageId: b.quoteMessageId } : {}),
    ...(b.buttons ? { buttons: b.buttons } : {}),
    ...(b.list ? { list: b.list } : {}),
    ...(b.reaction ? { reaction: b.reaction } : {}),
  };
  return Object.keys(rich).length ? { rich } : {};
}
