// Written by `npx tsx ai/train/draft-gate.ts`: the citation gate's weights (ai/draft/gate.ts GATE_FEATURES order, then the bias).
import type { GateWeights } from './gate.js';

export const GATE: GateWeights = {
  weights: [1.3494, 0.9592, 2.0272, -1.293, 0.8655, 1.2735, 3.9717, -5.5349, 4.6107, -5.7048],
  languageBias: {},
  threshold: 0.55,
  fittedOn: "ai/eval/drafts/dev.csv (148 questions, 33 articles; 1147 pairs), 2026-12-07",
};
