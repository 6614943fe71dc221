#!/usr/bin/env node
// Runs the compiled gateway (npm run build produces dist/).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
