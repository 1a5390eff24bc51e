import { readFileSync } from 'node:fs';

/**
 * `npm run analyze` (custom-elements.json). The analyzer writes modules in the order its glob library (fast-glob)
 * finds the files, which is arbitrary: it reads directories concurrently, so under load `embeds/chat/` may come
 * before `embeds/admin/`. Analysed in path order instead, the same sources always give the same file.
 */
export default {
  // package.json already names custom-elements.json; writing it again from a scratch --outdir would repoint it.
  packagejson: false,
  overrideModuleCreation: ({ ts, globs }) =>
    // Paths are relative to the project folder, where npm runs the script (and this file lives).
    [...globs].sort().map((path) => ts.createSourceFile(path, readFileSync(new URL(path, import.meta.url), 'utf8'), ts.ScriptTarget.ES2015, true)),
};
