import { createRequire } from 'node:module';
import { cruise, type ICruiseResult } from 'dependency-cruiser';

/**
 * `npm run check:deps`: the rules of .dependency-cruiser.cjs over src/. Through dependency-cruiser's
 * API rather than its `depcruise` command, which refuses to start on Node 20 (its CLI checks the
 * engine; the library itself runs here).
 */
const require = createRequire(import.meta.url);
const config = require('../.dependency-cruiser.cjs');

const { output } = await cruise(['src'], { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } });
const result = output as ICruiseResult;
const violations = result.summary.violations.filter((v) => v.rule.severity === 'error');
for (const v of violations) console.error(`${v.rule.name}: ${v.from} -> ${v.to}`);
console.log(`check:deps: ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} dependencies, ${violations.length} violations of ${config.forbidden.length} rules.`);
if (violations.length) process.exit(1);
