// Production build of the app with webpack 5: the package's `new URL('…wasm', import.meta.url)`
// becomes an emitted asset, as for any app that installs the package.
const path = require('node:path');

module.exports = (env) => ({
  mode: 'production',
  context: __dirname,
  entry: './src/index.js',
  output: { path: env.out, filename: 'main.js', publicPath: 'auto', clean: true },
  resolve: { modules: [env.modules, 'node_modules'] },
  performance: { hints: false },
});
