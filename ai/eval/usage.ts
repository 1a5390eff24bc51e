/** The eval command's lines in `hummdesk help`; kept apart so the CLI does not load models to print usage. */
export const EVAL_USAGE = `  eval classify --train FILE --test FILE | --folds K FILE  [--text-col text] [--label-col label]
                             category classifier accuracy (CSV, JSONL, or CLINC150 data_full.json)
  eval classify --test FILE  the default categories as shipped (threshold included) on FILE; a lang
                             column adds per-language figures (also for --train/--test and sentiment)
  eval language FILE [--langs fi,sv,...] [--prior] [--lang CODE]
                             language ID accuracy overall, by word count and on two-word cuts
  eval sentiment FILE [--train FILE | --model FILE]  sentiment accuracy (text,label CSV)
  eval draft FILE.csv [--kb FILE.json] [--sweep] [--threshold T]
                             offline drafts: language accuracy, citation precision/recall, "none" questions cited
                             (CSV columns question,language,expected; expected is an article key or none)`;
