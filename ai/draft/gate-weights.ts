// Written by `npx tsx ai/train/draft-gate.ts`: the citation gate's weights (ai/draft/gate.ts GATE_FEATURES order, then the bias).
import type { GateWeights } from './gate.js';

export const GATE: GateWeights = {
  weights: [1.3509, 0.9651, 2.017, -1.2943, 0.8573, 1.2679, 3.9704, -5.5274, 4.6127, -5.7013],
  languageBias: {},
  threshold: 0.54,
  fittedOn: "ai/eval/drafts/dev.csv (148 questions, 33 articles; 1155 pairs), 2026-12-07",
};
