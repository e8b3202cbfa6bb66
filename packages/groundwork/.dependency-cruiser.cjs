/**
 * The library's layers, lowest first (docs/architecture.md, "Layers"). A module may import its own layer and
 * the layers below it, types and lazy `import()`s included; `npm run lint` runs this check on src/.
 */
const layers = [
  ['base', '^src/(config|redact|workspace|cache-folder|private-directory|pg-names)\\.ts$|^src/security/'],
  ['adapters', '^src/adapters/'],
  ['observability', '^src/observability/'],
  ['database', '^src/database/'],
  ['migrations', '^src/migrations/'],
  ['adopt', '^src/adopt/'],
  ['seed', '^src/seed/'],
  ['http', '^src/http/'],
  ['auth', '^src/auth/'],
  ['app', '^src/app\\.ts$'],
  ['runtime', '^src/runtime\\.ts$'],
  ['server', '^src/(server|cluster)\\.ts$'],
  ['entry points', '^src/(cli|testing|scaffold)/|^src/(index|postgres-queue)\\.ts$'],
];

module.exports = {
  forbidden: [
    ...layers.slice(0, -1).map(([name, path], index) => ({
      name: `layer-${name.replace(' ', '-')}`,
      comment: `${name} may import only its own layer and those below it: ${layers
        .slice(0, index + 1)
        .map(([below]) => below)
        .join(', ')}`,
      severity: 'error',
      from: { path },
      to: { path: layers.slice(index + 1).map(([, above]) => above) },
    })),
    {
      name: 'layer-unassigned',
      comment: 'every module under src/ belongs to a layer: add its path to .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: layers.map(([, path]) => path) },
      to: {},
    },
  ],
  options: {
    includeOnly: '^src/',
    // `import type` counts: a layer may not even name a higher layer's types.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
