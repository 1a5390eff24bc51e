import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** What an external model must return (the `submit_analysis` tool's input, or the JSON reply). */
export const AnalysisOutput = Type.Object({
  category: Type.String({ description: 'one of the listed categories, or "unknown"' }),
  language: Type.String({ pattern: '^[a-z]{2,3}$', description: "ISO 639-1 code of the customer's language (Norwegian: nb)" }),
  sentiment: Type.Union([Type.Literal('negative'), Type.Literal('neutral'), Type.Literal('positive')]),
  priority: Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high'), Type.Literal('urgent')]),
  confidence: Type.Number({ minimum: 0, maximum: 1, description: 'confidence in the category' }),
  draft: Type.String({ minLength: 1, maxLength: 6000, description: "reply to the customer in the customer's language" }),
  citations: Type.Array(Type.String({ pattern: '^p[0-9]{1,3}$' }), { maxItems: 10, description: 'ids of the passages the draft rests on' }),
}, { additionalProperties: false });
export type AnalysisOutput = Static<typeof AnalysisOutput>;

/** The one lookup a model may make: more passages from this account's knowledge base. No ids of any kind. */
export const SearchInput = Type.Object({
  query: Type.String({ minLength: 1, maxLength: 500 }),
}, { additionalProperties: false });

export function schemaErrors(schema: TSchema, value: unknown): string[] {
  if (Value.Check(schema, value)) return [];
  return Value.Errors(schema, value).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** A plain JSON Schema object (TypeBox schemas carry symbols the wire does not need). */
export function jsonSchema(schema: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
