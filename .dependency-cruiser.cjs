// The house's dependency rules (README, "Architecture"): infrastructure knows no domain, and a
// domain reaches another domain's writes only through the composition root. Checked in CI by
// `npm run check:deps` (scripts/check-deps.ts).

// Infrastructure: what every domain may use and that serves none in particular. audit and
// idempotency belong here: they are written by the mutation contract (src/shared/mutation.ts) for
// every mutation alike and import nothing of a domain.
const INFRA = '^src/(db|cache|shared|server|auth|audit|idempotency)/|^src/config\\.ts$';
// Domains: a folder each. src/app.ts, src/index.ts, src/resolvers.ts are the composition root and
// may import anything; src/__generated__/ is codegen output, src/process-guards.ts process glue.
const DOMAINS = 'accounts|reviews|bookings|businesses|customers|partners|services|slots|holds|schedules|availability|payments|payouts|webhooks|events|node|seed|viewer|retention|stats|messages';

const PAYMENT_CONFIRMS_BOOKING = '^src/payments/payment-webhooks\\.actions\\.ts$';
// The demo seed onboards its businesses through the domains' own steps (issue 11's rule).
const SEED = '^src/seed/';

module.exports = {
  forbidden: [
    {
      name: 'infrastructure-imports-no-domain',
      severity: 'error',
      comment:
        'db, cache, shared, server, auth, audit, idempotency and config.ts serve every domain and know none: ' +
        'what a domain must give them is passed in by the composition root (src/app.ts).',
      from: {
        path: INFRA,
        // The request context declares the services the composition root builds; naming their types is
        // a description of the wiring, not a dependency on how a domain works.
        pathNot: '^src/server/context\\.ts$',
      },
      to: {
        path: `^src/(${DOMAINS})/`,
        // The mutation contract writes a mutation's outbox events in its own transaction (that is the
        // point of the contract), so it names the outbox's writer and the payment event it carries.
        pathNot: '^src/events/booking-events\\.repository\\.ts$|^src/payments/payment\\.model\\.ts$',
      },
    },
    {
      name: 'context-names-domain-types-only',
      severity: 'error',
      comment: 'src/server/context.ts may name a domain service\'s type (import type), never import its code.',
      from: { path: '^src/server/context\\.ts$' },
      to: { path: `^src/(${DOMAINS})/`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-other-domain-writes',
      severity: 'error',
      comment:
        'A domain may read another domain (its repository, loaders, model), but changes it only through that ' +
        'domain\'s resolvers: another domain\'s *.actions.ts and *.mutations.ts are its own.',
      from: { path: `^src/(${DOMAINS})/`, pathNot: `${PAYMENT_CONFIRMS_BOOKING}|${SEED}` },
      to: {
        path: `^src/(${DOMAINS})/[^/]+\\.(actions|mutations)\\.ts$`,
        pathNot: '^src/$1/',
      },
    },
    {
      name: 'no-other-domain-writes-but-the-confirmation',
      severity: 'error',
      comment:
        'A succeeded payment confirms its booking in the payment\'s own transaction (a paid booking that stays ' +
        'pending, or a confirmation without the payment, would be a lie), through the one function that changes ' +
        'a booking\'s status (transitionBooking); that one import, and no other write of another domain.',
      from: { path: PAYMENT_CONFIRMS_BOOKING },
      to: {
        path: `^src/(${DOMAINS})/[^/]+\\.(actions|mutations)\\.ts$`,
        pathNot: '^src/payments/|^src/bookings/bookings\\.actions\\.ts$',
      },
    },
    {
      name: 'seed-writes-through-actions-only',
      severity: 'error',
      comment:
        'The demo data is created through the same steps the mutations run (their checks and audit rows), so ' +
        'src/seed/ imports other domains\' *.actions.ts; never their *.mutations.ts (resolvers, not steps).',
      from: { path: SEED },
      to: { path: `^src/(${DOMAINS})/[^/]+\\.mutations\\.ts$`, pathNot: '^src/seed/' },
    },
    {
      name: 'no-circular-infrastructure',
      severity: 'error',
      comment: 'Infrastructure modules in a cycle cannot be understood or loaded one at a time.',
      from: { path: INFRA },
      to: { circular: true, path: INFRA },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/__generated__/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
