import fastJson from 'fast-json-stringify';

type Schema = Record<string, unknown>;

const PRIMITIVE = new Set(['string', 'number', 'integer', 'boolean']);

const ANNOTATION = new Set(['description', 'title', 'examples', 'default']);

/** A branch the serializer can write without checking it: one primitive type, string constants, or anything (JSON as is). */
function plain(s: Schema): Schema | null {
  if (Object.keys(s).every((k) => ANNOTATION.has(k))) return s;
  if (typeof s.type === 'string' && PRIMITIVE.has(s.type) && !s.anyOf && !s.oneOf && !s.allOf) return s;
  const any = s.anyOf as Schema[] | undefined;
  if (Array.isArray(any) && any.length > 0 && any.every((b) => b.type === 'string' && typeof b.const === 'string')) return { type: 'string', enum: any.map((b) => b.const) };
  return null;
}

/**
 * The response schema as the serializer reads it: `Nullable(x)` (anyOf null or x) becomes x with
 * `nullable: true`, and a union of string literals one string. fast-json-stringify picks an anyOf
 * branch by running each branch's validator on the value (a format regexp for a uuid) for every
 * field of every row; this way a field is one `=== null` test (null or anything: JSON.stringify, as
 * without a schema). The documented schema is unchanged.
 */
export function leanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(leanSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const s = schema as Schema;
  const any = s.anyOf as Schema[] | undefined;
  if (Array.isArray(any) && any.length === 2 && any[0]?.type === 'null' && Object.keys(any[0]).length === 1) {
    const other = plain(any[1]!);
    if (other) {
      const { anyOf: _anyOf, ...rest } = s;
      return { ...rest, ...other, ...(other.type ? { nullable: true } : {}) };
    }
  }
  const simple = Array.isArray(any) ? plain(s) : null;
  if (simple && simple !== s) {
    const { anyOf: _anyOf, ...rest } = s;
    return { ...rest, ...simple };
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'const' || k === 'enum' || k === 'default' || k === 'examples' ? v : leanSchema(v)]));
}

/** A route's `serializerCompiler`: its response schemas compiled lean (see leanSchema). For schemas without $ref. */
export const leanSerializerCompiler = ({ schema }: { schema: unknown }) => fastJson(leanSchema(schema) as Parameters<typeof fastJson>[0]);
