// Bundles index.jsx (GraphiQL, React, graphql-ws) into ../../playground/dist,
// which the server embeds. Run through scripts/build-playground.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('../../playground/dist/', import.meta.url));

await build({
  entryPoints: { playground: fileURLToPath(new URL('index.jsx', import.meta.url)) },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  jsx: 'automatic',
  // Fonts and icons are inlined: the page loads nothing but its two files.
  loader: { '.svg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'info',
});
