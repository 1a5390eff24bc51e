import { words } from '../text/features.js';

/*
 * The full-text half of knowledge-base search. Passages with every word of the query rank first;
 * passages with some of them fill up the candidates only when those are too few. Each tier ranks at
 * most WORDS_RANK_MAX matches, so a large account's search does not rank every passage that shares
 * one common word with the query (bench/ai: ts_rank_cd over ~28,000 matches took ~90 ms).
 */

const STOPWORDS = new Set('the and for you your are was with this that have has not but can how what why when where from into our out any all get got ja on ei se että mitä kun ole och att det som för med har inte kan hur var der die das und ist nicht ich wie los las que por con una'.split(' '));

/** Matches ranked per tier at most: every match of a normal account, a bounded share of a large one's. */
export const WORDS_RANK_MAX = 5_000;

/** The query's words as tsquery text: all of them AND-ed, and OR-ed (a whole message rarely has every word). */
export function wordQueries(text: string): { all: string; any: string } | undefined {
  const ws = [...new Set(words(text).filter((w) => /^[\p{L}\p{N}]{3,}$/u.test(w) && !STOPWORDS.has(w)))].slice(0, 32);
  return ws.length ? { all: ws.join(' & '), any: ws.join(' | ') } : undefined;
}

/**
 * SQL of rows (id, r) of the best word matches, best first, at most `$limit`. `$all`/`$any` are the
 * tsquery texts (null: no words), `lang` more WHERE conditions. ts_rank, not ts_rank_cd: a quarter of
 * the cost, and for OR-ed words it rewards passages with more distinct words of the query.
 */
export function wordMatchSql(p: { all: string; any: string; limit: string }, lang: string): string {
  const all = `to_tsquery('simple', ${p.all})`;
  const any = `to_tsquery('simple', ${p.any})`;
  const matches = (q: string, extra = '') =>
    `SELECT id, search FROM kb_chunks WHERE search @@ ${q} ${extra} AND published ${lang} LIMIT ${WORDS_RANK_MAX}`;
  return `WITH all_words AS (
      SELECT id, ts_rank(search, ${all}) AS rank FROM (${matches(all)}) m WHERE ${p.all} IS NOT NULL ORDER BY rank DESC LIMIT ${p.limit}
    ), some_words AS (
      SELECT id, ts_rank(search, ${any}) AS rank FROM (${matches(any, `AND NOT search @@ ${all}`)}) m
      WHERE ${p.any} IS NOT NULL AND (SELECT count(*) FROM all_words) < ${p.limit} ORDER BY rank DESC LIMIT ${p.limit}
    )
    SELECT id, row_number() OVER (ORDER BY tier, rank DESC) AS r FROM (
      SELECT id, 0 AS tier, rank FROM all_words UNION ALL SELECT id, 1, rank FROM some_words
    ) matched ORDER BY tier, rank DESC LIMIT ${p.limit}`;
}
