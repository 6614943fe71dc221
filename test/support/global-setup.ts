// The page and SDK bundle are served from dist/web; build them once before any test runs.
import { buildWeb } from '../../scripts/build-web.mjs';

export default async function setup(): Promise<void> {
  await buildWeb();
}
