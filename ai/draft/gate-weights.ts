// Written by `npx tsx ai/train/draft-gate.ts`: the citation gate's weights (ai/draft/gate.ts GATE_FEATURES order, then the bias).
import type { GateWeights } from './gate.js';

export const GATE: GateWeights = {
  weights: [1.3159, 0.9988, 1.8943, -1.1274, 0.7226, 1.2331, 4.1905, -5.1176, 4.6054, -5.9721],
  languageBias: {},
  threshold: 0.54,
  fittedOn: "ai/eval/drafts/dev.csv (171 questions, 33 articles; 1346 pairs), 2026-12-07",
};
