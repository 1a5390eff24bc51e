// Written by `npx tsx ai/train/draft-gate.ts`: the citation gate's weights (ai/draft/gate.ts GATE_FEATURES order, then the bias).
import type { GateWeights } from './gate.js';

export const GATE: GateWeights = {
  weights: [4.1298, 2.1571, 1.2988, 1.0043, 1.2488, 2.3713, -4.9782],
  languageBias: {},
  threshold: 0.59,
  fittedOn: "ai/eval/drafts/dev.csv (132 questions, 33 articles; 1015 pairs), 2026-12-07",
};
