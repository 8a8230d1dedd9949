/**
 * Dependency rules for Playhouse: the "Boundaries (what may import what)"
 * section of docs/ARCHITECTURE.md, checked mechanically by `npm run lint:deps`.
 *
 * Paths are relative to the repository root (depcruise runs from there).
 * Type-only imports count too (tsPreCompilationDeps), so `import type` cannot
 * be used to sneak across a boundary.
 */

/** Our own top-level source folders (anything else resolvable is npm or node). */
const OURS = '^(packages|actors|protocol|infra|games|scripts|benchmarks|test)/';
/** Code that ships / runs in production (not tests). */
const NON_TEST = '^(packages|actors|protocol|infra|games|scripts)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- games/: pure rules, talk only to games/api.ts ---------------------
    {
      name: 'games-only-api',
      severity: 'error',
      comment:
        'A game (games/<game>/*) may import only games/api.ts and files in its own folder: ' +
        'no node builtins, no npm packages (zod comes re-exported through api), no actors/infra/protocol, ' +
        'no other game. Keeps rules pure and replays exact.',
      from: { path: '^games/([^/]+)/' },
      to: { pathNot: ['^games/api\\.ts$', '^games/$1/'] },
    },
    {
      name: 'games-top-level-only-api',
      severity: 'error',
      comment: 'Files directly in games/ (other than api.ts) may import only games/api.ts.',
      from: { path: '^games/[^/]+$', pathNot: '^games/api\\.ts$' },
      to: { pathNot: '^games/api\\.ts$' },
    },
    {
      name: 'games-api-only-zod',
      severity: 'error',
      comment:
        'games/api.ts is the whole rules API: it may import zod, and the types of the wire it describes games ' +
        "in (the client SDK's protocol types, type-only: nothing of them runs in a game), and nothing else.",
      from: { path: '^games/api\\.ts$' },
      to: {
        pathNot: '^node_modules/zod/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'games-api-types-only-from-the-wire',
      severity: 'error',
      comment: "games/api.ts may take only types, and only from the client SDK's protocol types.",
      from: { path: '^games/api\\.ts$' },
      to: { dependencyTypes: ['type-only'], pathNot: ['^packages/client/src/protocol/'] },
    },

    // ---- packages/client/: the client SDK (@playhouse/client), ships to studios and browsers ----
    {
      name: 'client-sdk-self-contained',
      severity: 'error',
      comment:
        'The client SDK (packages/client/src) imports only its own files and socket.io-client: ' +
        'it is published alone, so nothing of the server may come with it, and it runs in browsers (no node builtins).',
      from: { path: '^packages/client/src/' },
      to: { pathNot: ['^packages/client/src/', '^node_modules/socket\\.io-client/'] },
    },

    // ---- protocol/: the server's side of the wire --------------------------
    {
      name: 'protocol-imports-nothing-of-ours',
      severity: 'error',
      comment:
        'protocol/ (the wire schemas the gateway checks) imports nothing of ours outside protocol/ but the wire ' +
        'types the client SDK owns (packages/client/src/protocol/); npm packages are fine. Never the SDK itself: ' +
        'it would bring socket.io-client into the server.',
      from: { path: '^protocol/' },
      to: { pathNot: ['^protocol/', '^packages/client/src/protocol/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'protocol-no-node-builtins',
      severity: 'error',
      comment:
        'protocol/ must not import node builtins (only `import type` is tolerated): ' +
        'it is pure wire checking (schemas and functions over values, no I/O).',
      from: { path: '^protocol/' },
      to: { dependencyTypes: ['core'], dependencyTypesNot: ['type-only'] },
    },

    // ---- actors/: no transport, no infra, comedy behind the kit ----------
    {
      name: 'actors-no-socket-io',
      severity: 'error',
      comment: 'actors/ never imports Socket.IO (server or client); the gateway in infra/ owns the transport.',
      from: { path: '^actors/' },
      to: { path: '^node_modules/(socket\\.io|socket\\.io-client|socket\\.io-parser|socket\\.io-adapter|engine\\.io|engine\\.io-client|@socket\\.io/[^/]+)/' },
    },
    {
      name: 'actors-no-socket-io-transitively',
      severity: 'error',
      comment:
        'actors/ may not reach Socket.IO through one of our modules either ' +
        '(e.g. through the client SDK, @playhouse/client, which wraps socket.io-client).',
      from: { path: '^actors/' },
      to: {
        path: '^node_modules/(socket\\.io|socket\\.io-client|engine\\.io|engine\\.io-client|@socket\\.io/[^/]+)/',
        reachable: true,
      },
    },
    {
      name: 'actors-no-infra',
      severity: 'error',
      comment:
        'actors/ never imports anything in infra/ (gateway, drivers, config): ' +
        'infra hands capabilities in through actors/ports.ts.',
      from: { path: '^actors/' },
      to: { path: '^infra/' },
    },
    {
      name: 'actors-no-store-drivers',
      severity: 'error',
      comment:
        'actors/ reaches stores only through their interfaces, never a driver; ' +
        'which driver runs is decided at boot in infra/.',
      from: { path: '^actors/' },
      to: {
        // also matches when the driver isn't installed (unresolved name)
        path: '^(node_modules/)?(redis|ioredis|@redis/[^/]+|mariadb|mysql|mysql2|pg|knex|better-sqlite3)(/|$)',
      },
    },
    {
      name: 'comedy-only-in-kit',
      severity: 'error',
      comment:
        'Only actors/kit/comedy.ts touches the comedy framework; everything else uses its typed surface.',
      from: { pathNot: '^actors/kit/comedy\\.ts$' },
      to: { path: '^node_modules/comedy/' },
    },

    // ---- benchmarks/: drive the server only through the SDK --------------
    {
      name: 'benchmarks-only-client-sdk',
      severity: 'error',
      comment:
        'benchmarks/ drives the server only through the client SDK (@playhouse/client), ' +
        'like a studio load test would; npm packages and node builtins are fine. It starts the server ' +
        'with the Node flags the project ships (scripts/server-node-flags.ts), so it measures what runs.',
      from: { path: '^benchmarks/', pathNot: ['^benchmarks/ceiling/', '^benchmarks/actor-path\\.ts$', '^benchmarks/sqlite-stores\\.ts$'] },
      to: { pathNot: ['^benchmarks/', '^packages/client/src/', '^node_modules/', '^scripts/server-node-flags\\.ts$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'actor-path-bench-in-process',
      severity: 'error',
      comment:
        'benchmarks/actor-path.ts measures the actors alone, in process, with no sockets: it boots them ' +
        'like infra/ does (config, resources, the actor system) and plays Connect Four; nothing else.',
      from: { path: '^benchmarks/actor-path\\.ts$' },
      to: {
        pathNot: ['^protocol/', '^node_modules/', '^actors/(system|messages)\\.ts$', '^infra/(config|cluster/worker-supervisor|actor-resources/index)\\.ts$', '^games/connect-four/rules\\.ts$'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'sqlite-bench-only-the-stores',
      severity: 'error',
      comment: 'benchmarks/sqlite-stores.ts measures the SQLite stores alone, in process: the SQL database and the store types, nothing else.',
      from: { path: '^benchmarks/sqlite-stores\\.ts$' },
      to: { pathNot: ['^node_modules/', '^infra/stores/sql/', '^actors/persistence/stores\\.ts$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ceiling-only-protocol-and-rules',
      severity: 'error',
      comment:
        'The ceiling server (benchmarks/ceiling/) is the same game logic with no actors: it may use ' +
        'the protocol, the game rules and the room\'s pure game-logic class (actors/room/room-state.ts and ' +
        'its random generator, which hold no actor machinery), never other actors/ code or infra/.',
      from: { path: '^benchmarks/ceiling/' },
      to: {
        pathNot: ['^benchmarks/', '^protocol/', '^games/', '^node_modules/', '^actors/room/room-state\\.ts$', '^actors/room/seeded-random\\.ts$'],
        dependencyTypesNot: ['core'],
      },
    },

    // ---- general hygiene -------------------------------------------------
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular dependencies make load order fragile and boundaries meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'Non-test code (actors, protocol, infra, games, scripts) must not use devDependencies ' +
        "at run time; they are not installed in production (playwright-core is for test/ only).",
      from: { path: NON_TEST },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-dev-dep-types',
      severity: 'error',
      comment:
        "Non-test code may import types only from 'typescript' and @types/* among the devDependencies.",
      from: { path: NON_TEST },
      to: {
        dependencyTypes: ['npm-dev'],
        pathNot: ['^node_modules/typescript/', '^node_modules/@types/'],
      },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: "Depends on an npm package that isn't declared in package.json.",
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Depends on a module that cannot be resolved on disk.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],

  options: {
    // Look at the imports as written in TypeScript, including `import type`.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Record npm packages as leaves; don't crawl into them.
    doNotFollow: { path: '^node_modules' },
    // Only our own folders are cruised; non-code assets are ignored.
    exclude: { path: '\\.(css|html|json|md)$' },
    moduleSystems: ['cjs', 'es6'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.json', '.d.ts'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
