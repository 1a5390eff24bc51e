/** True for Postgres error 23505: an INSERT or UPDATE hit a unique constraint. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}
