// Draws the app icons Teams requires (color 192×192 full-bleed, outline 32×32 white on transparent):
// `npx tsx manifests/teams/make-icons.ts` rewrites color.png and outline.png beside this file.
import { writeFileSync } from 'node:fs';
import { encodePng } from '../../connectors/teams/png.js';

type Rgba = [number, number, number, number];
const ACCENT: Rgba = [0x1f, 0x6f, 0xeb, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const CLEAR: Rgba = [0, 0, 0, 0];

/** Inside a speech bubble (rounded rectangle with a tail), in unit coordinates. */
function inBubble(u: number, v: number, grow = 0): boolean {
  const [x0, y0, x1, y1, r] = [0.16 - grow, 0.2 - grow, 0.84 + grow, 0.66 + grow, 0.12 + grow];
  const cx = Math.min(Math.max(u, x0 + r), x1 - r);
  const cy = Math.min(Math.max(v, y0 + r), y1 - r);
  const inRect = u >= x0 && u <= x1 && v >= y0 && v <= y1 && (u - cx) ** 2 + (v - cy) ** 2 <= r * r;
  // The tail: a triangle under the bubble's left side.
  const t = (v - y1) / (0.84 + grow - y1);
  const inTail = v > y1 - 0.01 && t <= 1 && u >= 0.28 - grow + t * -0.04 && u <= 0.44 + grow - t * 0.16;
  return inRect || inTail;
}

const dot = (u: number, v: number) => [0.34, 0.5, 0.66].some((cx) => (u - cx) ** 2 + (v - 0.43) ** 2 <= 0.055 ** 2);

const color = encodePng(192, 192, (x, y) => {
  const u = (x + 0.5) / 192;
  const v = (y + 0.5) / 192;
  return inBubble(u, v) && !dot(u, v) ? WHITE : ACCENT;
});
const outline = encodePng(32, 32, (x, y) => {
  const u = (x + 0.5) / 32;
  const v = (y + 0.5) / 32;
  return inBubble(u, v, 0.02) && !inBubble(u, v, -0.06) ? WHITE : dot(u, v) ? WHITE : CLEAR;
});
writeFileSync(new URL('color.png', import.meta.url), color);
writeFileSync(new URL('outline.png', import.meta.url), outline);
