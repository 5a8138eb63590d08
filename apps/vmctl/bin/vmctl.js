#!/usr/bin/env node
// vmctl's entry point (npx vmctl): the compiled CLI, built by `npm run build`.
require('../dist/main.js')
  .main(process.argv)
  .then(
    (code) => process.exit(code),
    (err) => {
      console.error(`vmctl: ${err && err.message ? err.message : err}`);
      process.exit(2);
    },
  );
