import type { Page } from './connection.js';

/** Edges and page info of any connection, derived from its page when (and only when) asked for. */
export const connectionResolvers = {
  edges: <T>(page: Page<T>) => page.nodes.map((node) => ({ cursor: page.cursorOf(node), node })),
  pageInfo: <T>(page: Page<T>) => ({
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    startCursor: page.nodes.length ? page.cursorOf(page.nodes[0]) : null,
    endCursor: page.nodes.length ? page.cursorOf(page.nodes[page.nodes.length - 1]) : null,
  }),
};

export function emptyPage<T>(): Page<T> {
  return { nodes: [], hasNextPage: false, hasPreviousPage: false, cursorOf: () => '' };
}
