import type { Hub } from './context.js';

/** The channel connectors this hub runs; each channel adds its line here. */
export function installConnectors(hub: Hub): void {
  void hub;
}
