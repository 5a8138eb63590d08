// Resolves the @vmops/* aliases of tsconfig.json against the compiled tree in dist/ at run time.
const path = require('path');
const tsconfigPaths = require('tsconfig-paths');
const { compilerOptions } = require('../tsconfig.json');

tsconfigPaths.register({
  baseUrl: path.resolve(__dirname, '..', 'dist'),
  paths: compilerOptions.paths,
});
