import type { Sentiment } from './sentiment.js';

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

// Urgency cues in the languages we serve; matched on word starts, case-insensitively.
const URGENT_CUES = /\b(urgent|asap|immediately|emergency|right now|outage|down for everyone|security breach|hacked|fraud|kiireellinen|kiire|heti|välittömästi|hätä|brådskande|akut|omedelbart|genast|dringend|sofort|urgente|inmediatamente|срочно|haster|straks|snarest)/iu;
const HIGH_CUES = /\b(today|deadline|can't work|cannot work|not working|stopped working|blocked|refund|charged twice|tänään|ei toimi|idag|fungerar inte|heute|funktioniert nicht|hoy|no funciona)/iu;

/**
 * The priority rule (also in ai/README.md):
 *   urgent — an urgency cue ("urgent", "asap", "outage", "hacked", "kiireellinen", "brådskande", …)
 *            together with negative sentiment or a complaint/technical category, or two urgency cues;
 *   high   — one urgency cue; or negative sentiment (confidence ≥ 0.6) in complaint, billing or technical;
 *            or a high cue ("not working", "charged twice", "deadline", "today", …) with negative sentiment;
 *   low    — positive sentiment in the general or sales category with no cue (thanks, pre-sales questions);
 *   normal — everything else.
 */
export function decidePriority(text: string, sentiment: { sentiment: Sentiment; confidence: number } | undefined, category: string): { priority: Priority; reasons: string[] } {
  const urgent = text.match(new RegExp(URGENT_CUES.source, 'giu')) ?? [];
  const high = HIGH_CUES.test(text);
  const negative = sentiment?.sentiment === 'negative';
  const reasons: string[] = [];
  if (urgent.length) reasons.push(`urgency cue: ${urgent[0]}`);
  if (high) reasons.push('high cue');
  if (negative) reasons.push('negative sentiment');
  if (urgent.length >= 2 || (urgent.length && (negative || category === 'complaint' || category === 'technical'))) return { priority: 'urgent', reasons };
  if (urgent.length) return { priority: 'high', reasons };
  if (negative && (sentiment?.confidence ?? 0) >= 0.6 && ['complaint', 'billing', 'technical'].includes(category)) return { priority: 'high', reasons };
  if (high && negative) return { priority: 'high', reasons };
  if (sentiment?.sentiment === 'positive' && (category === 'general' || category === 'sales')) return { priority: 'low', reasons: ['positive, no urgency'] };
  return { priority: 'normal', reasons };
}
