import { defineConfig } from 'tsup';

/**
 * Two entries (the SDK, and the wire types alone), each as ES module (.mjs,
 * declarations .d.mts) and CommonJS (.cjs, declarations .d.ts: the package is
 * "type": "commonjs"). socket.io-client
 * stays a dependency, not bundled: the studio's bundler dedupes it.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', protocol: 'src/protocol/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'es2020',
  platform: 'neutral',
  sourcemap: true,
  clean: true,
  // Explicit extensions: each file says which module system it is, whatever the importing project's "type".
  outExtension: ({ format }) => (format === 'cjs' ? { js: '.cjs' } : { js: '.mjs' }),
});
