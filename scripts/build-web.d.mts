/** Bundles the SDK and the demo page into `outdir` (default `dist/web`, relative to the repository root); resolves with the absolute path. */
export function buildWeb(outdir?: string): Promise<string>;
