import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  getIntrospectionQuery,
  parse,
} from 'graphql';
import type { LimitsConfig } from '../config.js';
import { BoundedMap } from '../cache/bounded-map.js';

/**
 * What an operation asks for, measured on its document before anything runs. The cost is an
 * estimate of the objects the answer holds (every composite value counts 1, leaves count 0), with
 * list sizes multiplied along each path, like GitHub's node limit: `businesses(first: 20) { nodes {
 * bookings(first: 10) { nodes { customer { name } } } } }` costs 1 + 20 + 20 + 200 + 200 = 441.
 */
export interface QueryMeasures {
  /** The deepest chain of nested fields (root fields are at depth 1; fragments add nothing). */
  depth: number;
  /** Fields given an alias, counted every time their fragment is used. */
  aliases: number;
  /** Directives used (`@skip`, `@include`...), counted every time their fragment is used. */
  directives: number;
  /** Field selections, with fragments inlined where they are used. */
  fields: number;
}

export type LimitName = 'depth' | 'aliases' | 'directives' | 'fields' | 'tokens' | 'cost';

/** The limits measured before execution (the response cap is checked after it, in http.ts). */
export type QueryLimits = Omit<LimitsConfig, 'maxResponseBytes'>;

/** A list size: fixed when the document says it, or read from the request's variables. */
type Size = number | ((variables: Record<string, unknown>) => number);

/** A composite field in the cost plan: `size` values of it per value of its parent. */
interface PlanNode {
  size: Size;
  /** What each value costs: 1, or 0 for a value that is only a step to others (`ofType`). */
  weight: number;
  children: PlanNode[];
}

/** The measures of one document and operation, and how to price it once variables are known. */
export interface DocumentAnalysis {
  measures: QueryMeasures;
  /**
   * The first limit exceeded by the document alone, or null. `atLeast`: the walk stopped early
   * (past `STEP_BUDGET` fields), so `measured` is a lower bound.
   */
  exceeded: { limit: LimitName; measured: number; atLeast: boolean } | null;
  /** The cost when it does not depend on variables; null when it does. */
  constantCost: number | null;
  plan: PlanNode[];
}

/**
 * Page sizes are clamped to this before they are multiplied: a `first` above a field's maximum is
 * refused by the field itself (BAD_USER_INPUT), and that clearer answer should stay the one given.
 */
const PAGE_SIZE_BOUND: Record<string, number> = { 'Query.bookingEventsSince': 500, 'Query.availablePartners': 200 };
const DEFAULT_PAGE_SIZE_BOUND = 100;

/** A list field without `first` and without a bound of its own counts as this many values. */
export const DEFAULT_LIST_SIZE = 100;

/**
 * Lists without a `first` argument, and the most values each can hold (documented in README,
 * "Limits"). Sizes of a slot range come from its arguments instead, see `rangeSize`.
 */
const LIST_BOUNDS: Record<string, number> = {
  // A booking holds the consecutive slots of one service: 8 hours of 15-minute slots (an estimate).
  'Booking.slots': 32,
  'SlotHold.slots': 32,
  'Booking.payments': 5,
  // At most 20 live endpoints per business (webhookEndpointCreate refuses more).
  'Business.webhookEndpoints': 20,
  // Two intervals a day, seven days.
  'Partner.weeklyHours': 14,
  // The services one partner performs: a business's catalog (an estimate; partnerServicesSet takes up to 500).
  'Partner.services': 50,
  // The start times of one local date, every 15 minutes.
  'Query.availableSlots': 96,
  // At most 20 locales besides the default per business and per service (the translation mutations refuse more).
  'Business.translations': 20,
  'Service.translations': 20,
};

/** The most of the cost limit the standard introspection query may take (see `introspectionWeight`). */
const INTROSPECTION_SHARE = 0.5;

/**
 * `__Type.ofType` unwraps a list or non-null type: a step through a chain of at most a few
 * wrappers that is mostly null, not an object of its own. The standard introspection query asks
 * for it seven levels deep on every field and argument; counting those would make introspection
 * look costlier than any page of data. Its children still count.
 */
const WEIGHTLESS = new Set(['__Type.ofType']);

/**
 * A range of slots is priced at one slot per this many minutes, round the clock: an estimate, not a
 * bound. Slots can be as short as 5 minutes, but exist only in working hours; a 5-minute business
 * open 8 hours a day has 96 a day, as many as this estimate gives.
 */
const SLOT_MINUTES = 15;

/**
 * The cost of introspection follows the schema: `__Schema.types` holds every type, and each
 * type's lists hold the schema's average (so the full introspection query costs about what its
 * answer holds, while nesting `fields { type { fields ... } }` still multiplies).
 */
function introspectionBounds(schema: GraphQLSchema): Record<string, number> {
  const types = Object.values(schema.getTypeMap());
  const objects = types.filter((t) => isObjectType(t) || isInterfaceType(t)) as Array<GraphQLObjectType | GraphQLInterfaceType>;
  const inputs = types.filter(isInputObjectType);
  const enums = types.filter(isEnumType);
  const abstracts = types.filter(isAbstractType);
  const fields = objects.flatMap((t) => Object.values(t.getFields()));
  const directives = schema.getDirectives();
  const sum = <T>(items: readonly T[], count: (item: T) => number) => items.reduce((total, item) => total + count(item), 0);
  const average = (total: number, count: number) => Math.max(1, Math.ceil(total / Math.max(1, count)));
  return {
    '__Schema.types': types.length,
    '__Schema.directives': directives.length,
    '__Type.fields': average(fields.length, objects.length),
    '__Type.interfaces': average(sum(objects, (t) => t.getInterfaces().length), objects.length),
    '__Type.possibleTypes': average(sum(abstracts, (t) => schema.getPossibleTypes(t).length), abstracts.length),
    '__Type.enumValues': average(sum(enums, (t) => t.getValues().length), enums.length),
    '__Type.inputFields': average(sum(inputs, (t) => Object.keys(t.getFields()).length), inputs.length),
    '__Field.args': average(sum(fields, (f) => f.args.length), fields.length),
    '__Directive.args': average(sum(directives, (d) => d.args.length), directives.length),
  };
}

/** graphql-js's parser error at `maxTokens` (16.x spells it "more that"). */
export const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more tha[nt] (\d+) tokens\. Parsing aborted\.$/;

/**
 * The walk goes on past a limit, so that the error can say how far over the document is, but stops
 * after this many times `maxFields` field selections: the rest of the document is not looked at.
 */
const STEP_BUDGET = 20;

/** Thrown inside the walk once it has looked at enough. */
class WalkStopped {}

/**
 * Measures documents once each (cached by operation name and text, bounded like the compiled
 * queries of jit-executor.ts) and prices them per request. The walk inlines fragments where they
 * are used, is safe against fragment cycles (possible before validation, on a document validation
 * will refuse), and stops after `STEP_BUDGET` times `maxFields` fields, so a document that would
 * expand exponentially (fragments spread twice each, nested) costs a bounded number of steps.
 */
export class QueryCostAnalyzer {
  /**
   * By operation name and text; refused documents too (a client repeating one is refused without a
   * walk), so the text of each counts against the weight (2 bytes a character, and as much again
   * for the analysis), which bounds what a stream of large distinct documents can make it hold.
   */
  private readonly cache: BoundedMap<string, DocumentAnalysis>;
  private readonly bounds: Record<string, number>;
  /**
   * What an introspection object weighs (`__Schema`, `__Type`, `__Field`...): 1 until the standard
   * introspection query (the sandbox's) would cost more than `INTROSPECTION_SHARE` of the limit,
   * then less, so that it always costs that share at most however large the schema grows. They are
   * answered from memory, not from the database; a query nesting `fields { type { fields ... } }`
   * still multiplies, and is refused long before its answer is large.
   */
  private introspectionWeight = 1;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly limits: QueryLimits,
    cacheLimit = 2000,
    cacheWeight = 32 * 1024 * 1024,
  ) {
    this.cache = new BoundedMap(cacheLimit, cacheWeight);
    this.bounds = { ...introspectionBounds(schema), ...LIST_BOUNDS };
    const standard = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true });
    const full = this.walk(parse(standard), 'IntrospectionQuery').constantCost ?? 0;
    if (full > INTROSPECTION_SHARE * limits.maxCost) this.introspectionWeight = (INTROSPECTION_SHARE * limits.maxCost) / full;
  }

  /** The document's measures, cached by `source` (the query text) and the operation name. */
  analyze(source: string, document: DocumentNode, operationName: string | null | undefined): DocumentAnalysis {
    return this.cache.get(`${operationName ?? ''}\u0000${source}`) ?? this.remember(source, operationName, this.walk(document, operationName));
  }

  /**
   * The same from the query text alone, parsing it on a cache miss (with the token limit, and
   * before any validation rule runs): null for a document that does not parse for another reason,
   * left for Apollo to answer as the syntax error it is.
   */
  analyzeSource(source: string, operationName: string | null | undefined): DocumentAnalysis | null {
    const cached = this.cache.get(`${operationName ?? ''}\u0000${source}`);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(source, { maxTokens: this.limits.maxTokens, noLocation: true });
    } catch (error) {
      if (!TOKEN_LIMIT_MESSAGE.test((error as Error).message)) return null;
      const measures: QueryMeasures = { depth: 0, aliases: 0, directives: 0, fields: 0 };
      return this.remember(source, operationName, { measures, exceeded: { limit: 'tokens', measured: this.limits.maxTokens + 1, atLeast: true }, constantCost: null, plan: [] });
    }
    return this.analyze(source, document, operationName);
  }

  private remember(source: string, operationName: string | null | undefined, analysis: DocumentAnalysis): DocumentAnalysis {
    const key = `${operationName ?? ''}\u0000${source}`;
    this.cache.set(key, analysis, key.length * 4);
    return analysis;
  }

  /** How many analyses are kept, and their summed weight (tests: the bound holds). */
  get cached(): { entries: number; weight: number } {
    return { entries: this.cache.size, weight: this.cache.weight };
  }

  /** The estimated cost of an analysed operation with these variables. */
  costOf(analysis: DocumentAnalysis, variables: Record<string, unknown> | null | undefined): number {
    if (analysis.constantCost !== null) return analysis.constantCost;
    return Math.ceil(priceOf(analysis.plan, 1, variables ?? {}));
  }

  private walk(document: DocumentNode, operationName: string | null | undefined): DocumentAnalysis {
    const measures: QueryMeasures = { depth: 0, aliases: 0, directives: 0, fields: 0 };
    const fragments = new Map<string, FragmentDefinitionNode>();
    let operation: OperationDefinitionNode | undefined;
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      else if (definition.kind === Kind.OPERATION_DEFINITION && (operationName ? definition.name?.value === operationName : !operation)) operation = definition;
    }
    const plan: PlanNode[] = [];
    let dynamic = false;
    const root = operation ? this.schema.getRootType(operation.operation) : undefined;
    if (!operation || !root) return { measures, exceeded: null, constantCost: 0, plan };
    const variableDefaults = new Map<string, ValueNode | undefined>();
    for (const definition of operation.variableDefinitions ?? []) variableDefaults.set(definition.variable.name.value, definition.defaultValue);
    const { limits, bounds } = this;
    const spreading = new Set<string>();
    let first: LimitName | null = null;
    const over = (limit: LimitName) => void (first ??= limit);
    const budget = limits.maxFields * STEP_BUDGET;

    /** A literal, a variable (with the operation's default), or the argument's own default. */
    const valueOf = (node: ValueNode | undefined, fallback: unknown): Size | unknown => {
      if (!node) return fallback;
      if (node.kind === Kind.VARIABLE) {
        const name = node.name.value;
        const declared = variableDefaults.get(name);
        const declaredValue = declared && declared.kind !== Kind.VARIABLE ? literalOf(declared) : undefined;
        dynamic = true;
        return (variables: Record<string, unknown>) => variables[name] ?? declaredValue ?? fallback;
      }
      return literalOf(node);
    };

    const argument = (node: FieldNode, name: string) => node.arguments?.find((a: ArgumentNode) => a.name.value === name)?.value;

    const visit = (parent: GraphQLCompositeType, selectionSet: SelectionSetNode, depth: number, into: PlanNode[], pageSize: Size | null): void => {
      if (selectionSet.selections.length && depth > measures.depth) {
        measures.depth = depth;
        if (depth > limits.maxDepth) over('depth');
      }
      for (const selection of selectionSet.selections) {
        if (selection.directives?.length) {
          measures.directives += selection.directives.length;
          if (measures.directives > limits.maxDirectives) over('directives');
        }
        if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
          visit(isCompositeType(type) ? type : parent, selection.selectionSet, depth, into, pageSize);
          continue;
        }
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // A cycle (refused by validation anyway) or an unknown fragment adds nothing.
          if (!fragment || spreading.has(name)) continue;
          const type = this.schema.getType(fragment.typeCondition.name.value);
          spreading.add(name);
          visit(isCompositeType(type) ? type : parent, fragment.selectionSet, depth, into, pageSize);
          spreading.delete(name);
          continue;
        }
        measures.fields++;
        if (measures.fields > limits.maxFields) over('fields');
        if (measures.fields > budget) throw new WalkStopped();
        if (selection.alias) {
          measures.aliases++;
          if (measures.aliases > limits.maxAliases) over('aliases');
        }
        const fieldName = selection.name.value;
        const field = fieldOf(this.schema, parent, fieldName);
        if (!field || !selection.selectionSet) continue;
        const returned = getNamedType(field.type);
        if (!isCompositeType(returned)) continue;
        const coordinate = `${parent.name}.${fieldName}`;
        const list = isListType(getNullableType(field.type));
        let size: Size = 1;
        let childPage: Size | null = null;
        const firstArgument = field.args.find((a) => a.name === 'first');
        if (firstArgument) {
          const page = pageSizeOf(valueOf(argument(selection, 'first'), firstArgument.defaultValue ?? DEFAULT_PAGE_SIZE_BOUND), PAGE_SIZE_BOUND[coordinate] ?? DEFAULT_PAGE_SIZE_BOUND);
          // A list with `first` holds that many; a connection (an object) passes it to its `nodes` and `edges`.
          if (list) size = page;
          else childPage = page;
        } else if (list) {
          if (fieldName === 'nodes' && parent.name === this.schema.getQueryType()?.name) size = listLengthOf(valueOf(argument(selection, 'ids'), []));
          else if (pageSize !== null) size = pageSize;
          else if (coordinate === 'Partner.slots') size = rangeSize(valueOf(argument(selection, 'from'), null), valueOf(argument(selection, 'to'), null), SLOT_MINUTES, 31 * 24 * 60);
          // Exceptions are the odd days off: priced at one a week of the range, not one a day.
          else if (coordinate === 'Partner.exceptions') size = rangeSize(valueOf(argument(selection, 'from'), null), valueOf(argument(selection, 'to'), null), 7 * 24 * 60, 366 * 24 * 60);
          // A payload's user errors are a handful at most.
          else size = bounds[coordinate] ?? (fieldName === 'userErrors' ? 10 : DEFAULT_LIST_SIZE);
        }
        const weight = WEIGHTLESS.has(coordinate) ? 0 : returned.name.startsWith('__') ? this.introspectionWeight : 1;
        const node: PlanNode = { size, weight, children: [] };
        into.push(node);
        visit(returned, selection.selectionSet, depth + 1, node.children, childPage);
      }
    };

    let stopped = false;
    try {
      visit(root, operation.selectionSet, 1, plan, null);
    } catch (error) {
      if (!(error instanceof WalkStopped)) throw error;
      stopped = true;
    }
    const exceeded = first as LimitName | null;
    if (exceeded) return { measures, exceeded: { limit: exceeded, measured: measures[exceeded as keyof QueryMeasures], atLeast: stopped }, constantCost: null, plan: [] };
    const constantCost = dynamic ? null : Math.ceil(priceOf(plan, 1, {}));
    if (constantCost !== null && constantCost > limits.maxCost) return { measures, exceeded: { limit: 'cost', measured: constantCost, atLeast: false }, constantCost, plan };
    return { measures, exceeded: null, constantCost, plan };
  }
}

function fieldOf(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if ((name === '__schema' || name === '__type') && parent === schema.getQueryType()) return introspectionRootField(schema, name);
  return 'getFields' in parent ? parent.getFields()[name] : undefined;
}

/** `__schema` and `__type` are not in the query type's field map; graphql-js keeps them apart. */
function introspectionRootField(schema: GraphQLSchema, name: string): GraphQLField<unknown, unknown> | undefined {
  const type = name === '__schema' ? schema.getType('__Schema') : schema.getType('__Type');
  if (!type) return undefined;
  return { name, type, args: [] } as unknown as GraphQLField<unknown, unknown>;
}

function literalOf(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.STRING:
      return node.value;
    case Kind.LIST:
      return node.values.map(literalOf);
    default:
      return undefined;
  }
}

const resolve = (value: unknown, variables: Record<string, unknown>) => (typeof value === 'function' ? (value as (v: Record<string, unknown>) => unknown)(variables) : value);

function clampPage(value: unknown, bound: number): number {
  // Not a number, or out of range: the field refuses it with BAD_USER_INPUT, so it holds nothing.
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(Math.floor(value), bound) : 0;
}

function pageSizeOf(value: unknown, bound: number): Size {
  return typeof value === 'function' ? (variables) => clampPage(resolve(value, variables), bound) : clampPage(value, bound);
}

/** `nodes(ids:)` returns one value per ID (at most 100, the field refuses more). */
function listLengthOf(value: unknown): Size {
  const length = (ids: unknown) => (Array.isArray(ids) ? Math.min(ids.length, 100) : 1);
  return typeof value === 'function' ? (variables) => length(resolve(value, variables)) : length(value);
}

/** How many items of `stepMinutes` fit in [from, to), capped at `maxMinutes` (the field's own range limit). */
function rangeSize(from: unknown, to: unknown, stepMinutes: number, maxMinutes: number): Size {
  const count = (f: unknown, t: unknown) => {
    const minutes = (Date.parse(String(t)) - Date.parse(String(f))) / 60_000;
    const span = Number.isFinite(minutes) && minutes > 0 ? Math.min(minutes, maxMinutes) : maxMinutes;
    // Dates (`exceptions`) include both ends.
    return Math.ceil((span + (stepMinutes >= 24 * 60 ? 24 * 60 : 0)) / stepMinutes);
  };
  if (typeof from === 'function' || typeof to === 'function') return (variables) => count(resolve(from, variables), resolve(to, variables));
  return count(from, to);
}

function priceOf(nodes: PlanNode[], multiplier: number, variables: Record<string, unknown>): number {
  let cost = 0;
  for (const node of nodes) {
    const count = multiplier * (typeof node.size === 'number' ? node.size : node.size(variables));
    cost += count * node.weight;
    if (node.children.length && count > 0) cost += priceOf(node.children, count, variables);
  }
  return cost;
}
