import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/**
 * Operations generated from the schema for the isolation matrix: selection sets that read every
 * field a few levels deep, inputs whose required fields hold plausible values, and the places where
 * an ID goes in. Nothing here knows the domain beyond a few name hints (an ID field's type comes
 * from its name; a `url` gets a URL); what it cannot work out it reports, and the test fails.
 */

/**
 * ID arguments that take an object of any type (Business.auditLog's `entityId`), and the type the
 * matrix tries them with: a foreign booking must find what a missing one finds.
 */
const ANY_TYPE_ID_NAMES: Record<string, string> = { entityId: 'Booking' };

/** The Node type an ID argument or input field names: `bookingId`/`slotIds` by stem, `holdId` by suffix (SlotHold). */
export function nodeTypeOfIdName(name: string, nodeTypes: readonly string[]): string | null {
  if (Object.hasOwn(ANY_TYPE_ID_NAMES, name)) return ANY_TYPE_ID_NAMES[name];
  const match = /^(.*?)Ids?$/.exec(name);
  if (!match || !match[1]) return null;
  const stem = match[1][0].toUpperCase() + match[1].slice(1);
  const exact = nodeTypes.filter((t) => t === stem);
  if (exact.length === 1) return exact[0];
  const suffixed = nodeTypes.filter((t) => t.endsWith(stem));
  return suffixed.length === 1 ? suffixed[0] : null;
}

export interface ValueContext {
  /** The names of the types implementing Node. */
  nodeTypes: readonly string[];
  /** The value of an ID of `type` that is not the one under test (the caller's own tenant). */
  idOf(type: string, where: string): string;
  /** A near-future instant, and one a few days later (for `to` arguments). */
  instant: string;
  laterInstant: string;
  date: string;
  laterDate: string;
}

/** A plausible value of `type` for the argument or input field `name` (`where` names it in reports). */
export function plausibleValue(type: GraphQLInputType, name: string, where: string, ctx: ValueContext): unknown {
  if (isNonNullType(type)) return plausibleValue(type.ofType, name, where, ctx);
  if (isListType(type)) return [plausibleValue(type.ofType, name, where, ctx)];
  const named = getNamedType(type);
  const later = /^(to|end|until)/i.test(name);
  if (isEnumType(named)) return named.getValues()[0].value;
  if (isInputObjectType(named)) return requiredFields(named.getFields(), where, ctx);
  switch (named.name) {
    case 'ID': {
      const nodeType = nodeTypeOfIdName(name, ctx.nodeTypes);
      if (!nodeType) throw new Error(`Expected the ID ${where} to name a Node type (e.g. \`bookingId\`), got "${name}"; teach nodeTypeOfIdName.`);
      return ctx.idOf(nodeType, where);
    }
    case 'DateTime':
      return later ? ctx.laterInstant : ctx.instant;
    case 'Date':
      return later ? ctx.laterDate : ctx.date;
    case 'LocalTime':
      return /end/i.test(name) ? '17:00' : '09:00';
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return true;
    case 'String':
      if (/url$/i.test(name)) return 'https://hooks.example/matrix';
      if (name === 'provider') return 'test';
      return 'x';
    default:
      throw new Error(`Expected a value generator for the scalar ${named.name} (${where}).`);
  }
}

function requiredFields(fields: Record<string, GraphQLInputField>, where: string, ctx: ValueContext): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of Object.values(fields)) {
    if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = plausibleValue(field.type, field.name, `${where}.${field.name}`, ctx);
  }
  return value;
}

/** Where an ID goes in a mutation's arguments: a path of argument and input field names, and whether it is a list. */
export interface IdSlot {
  path: string[];
  list: boolean;
  name: string;
}

/** Every ID a field's arguments take: top-level arguments and any ID field of an input, recursively. */
export function idSlotsOf(args: readonly GraphQLArgument[]): IdSlot[] {
  const slots: IdSlot[] = [];
  const walk = (type: GraphQLInputType, name: string, path: string[], seen: Set<string>) => {
    const named = getNamedType(type);
    if (named.name === 'ID') {
      const inner = isNonNullType(type) ? type.ofType : type;
      slots.push({ path, list: isListType(inner), name });
      return;
    }
    if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const field of Object.values(named.getFields())) walk(field.type, field.name, [...path, field.name], new Set([...seen, named.name]));
    }
  };
  for (const arg of args) walk(arg.type, arg.name, [arg.name], new Set());
  return slots;
}

/**
 * The arguments of `field` with required ones filled, and the ID at `slot` set to `id` (its parent
 * inputs made where they are optional).
 */
export function argumentsWith(field: GraphQLField<unknown, unknown>, slot: IdSlot | null, id: string | null, ctx: ValueContext, companions: readonly string[][] = []): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (isNonNullType(arg.type) && arg.defaultValue === undefined) values[arg.name] = plausibleValue(arg.type, arg.name, `${field.name}(${arg.name})`, ctx);
  }
  for (const path of companions) setAt(field, values, path, (type, name) => plausibleValue(type, name, `${field.name}(${path.join('.')})`, ctx), ctx);
  if (slot && id) setAt(field, values, slot.path, () => (slot.list ? [id] : id), ctx);
  return values;
}

/** Sets the argument or input field at `path` (making its parent inputs where they are optional); false when the path names nothing. */
export function setAt(field: GraphQLField<unknown, unknown>, values: Record<string, unknown>, path: readonly string[], make: (type: GraphQLInputType, name: string) => unknown, ctx: ValueContext): boolean {
  let target: Record<string, unknown> = values;
  let type: GraphQLInputType | undefined = field.args.find((a) => a.name === path[0])?.type;
  if (!type) return false;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const named: GraphQLNamedType = getNamedType(type);
    if (!isInputObjectType(named)) return false;
    if (target[key] === undefined) {
      const made = requiredFields(named.getFields(), `${field.name}.${key}`, ctx);
      target[key] = isListType(isNonNullType(type) ? type.ofType : type) ? [made] : made;
    }
    target = (Array.isArray(target[key]) ? (target[key] as unknown[])[0] : target[key]) as Record<string, unknown>;
    type = named.getFields()[path[i + 1]]?.type;
    if (!type) return false;
  }
  target[path[path.length - 1]] = make(type, path[path.length - 1]);
  return true;
}

/** GraphQL literal text of a JSON-ish value (enums unquoted where the type says so). */
export function literal(value: unknown, type: GraphQLInputType): string {
  if (value === null || value === undefined) return 'null';
  if (isNonNullType(type)) return literal(value, type.ofType);
  if (isListType(type)) return `[${(value as unknown[]).map((v) => literal(v, type.ofType)).join(', ')}]`;
  const named = getNamedType(type);
  if (isEnumType(named)) return String(value);
  if (isInputObjectType(named)) {
    const fields = named.getFields();
    return `{ ${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${literal(v, fields[k].type)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

export function argumentText(field: GraphQLField<unknown, unknown>, values: Record<string, unknown>): string {
  const parts = field.args.filter((a) => values[a.name] !== undefined).map((a) => `${a.name}: ${literal(values[a.name], a.type)}`);
  return parts.length ? `(${parts.join(', ')})` : '';
}

/**
 * A selection of every field of `type`, objects `depth` levels down (a type already on the path
 * is read by its id only), required arguments filled. Lists of edges are skipped: `nodes` reads
 * the same objects.
 */
export function selectionOf(schema: GraphQLSchema, type: GraphQLNamedType, depth: number, ctx: ValueContext, path: readonly string[] = []): string {
  if (isLeafType(type)) return '';
  if (isUnionType(type) || isInterfaceType(type)) {
    const members = isUnionType(type) ? type.getTypes() : schema.getImplementations(type).objects;
    return `{ __typename ${members.map((m) => `... on ${m.name} ${selectionOf(schema, m, depth, ctx, path)}`).join(' ')} }`;
  }
  if (!isObjectType(type)) return '';
  const parts: string[] = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    if (field.name === 'edges') continue;
    const inner = getNamedType(field.type);
    const args = argumentText(field, argumentsWith(field, null, null, ctx));
    if (isLeafType(inner)) {
      parts.push(`${field.name}${args}`);
      continue;
    }
    const onPath = path.includes(inner.name);
    if (depth > 0 && !onPath) parts.push(`${field.name}${args} ${selectionOf(schema, inner, depth - 1, ctx, [...path, type.name])}`);
    else if (isObjectType(inner) && inner.getFields().id) parts.push(`${field.name}${args} { id }`);
  }
  return `{ ${parts.join(' ')} }`;
}
