/** Hostile documents shared by the attack script (bench/attacks.ts) and the limits tests. */

/** `business -> partners(first: 4) -> nodes -> business -> ...` until `depth` fields are nested. */
export function deepQuery(slug: string, depth: number): string {
  const cycle = ['partners(first: 4) {', 'nodes {', 'business {'];
  let open = `business(slug: "${slug}") {`;
  let innermost = 'business {';
  let levels = 1;
  for (; levels < depth - 1; levels++) open += innermost = cycle[(levels - 1) % 3];
  // Close on a field of the innermost type: a connection has `totalCount`, a business or partner `name`.
  const leaf = innermost.startsWith('partners') ? 'totalCount' : 'name';
  return `{ ${open} ${leaf}${' }'.repeat(levels)} }`;
}
