import {
  GraphQLError,
  GraphQLID,
  GraphQLString,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  typeFromAST,
  visit,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { ErrorCode } from '../shared/errors.js';

/**
 * Refuses String and ID values that the database cannot store or compare: a NUL character
 * (PostgreSQL's text cannot hold U+0000: "invalid byte sequence") and an unpaired UTF-16 surrogate
 * (not Unicode at all; it has no UTF-8 form). Without this, such a value reaches a statement and
 * comes back as a database error, which the client sees as INTERNAL_SERVER_ERROR.
 *
 * The work that depends only on the document is done once per document (guardFor, cached by the
 * callers with their compiled or validated documents): which literals are bad, and which variables
 * can hold a string at all. A request whose variables hold no String or ID costs nothing.
 */
export interface StringGuard {
  /** Errors for bad string literals in the document (the same for every request). */
  readonly literalErrors: readonly GraphQLError[];
  /** Checks the request's variables; null when they are fine. */
  check(variables: Record<string, unknown> | null | undefined): GraphQLError | null;
}

const NUL = '\u0000';

/** Why a string is refused, or null when it is fine. */
export function unsafeStringReason(value: string): string | null {
  if (value.includes(NUL)) return 'a NUL character (U+0000)';
  // Node 20's V8 has String.prototype.isWellFormed; TypeScript's ES2022 lib does not declare it.
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'an unpaired UTF-16 surrogate';
  return null;
}

const EXPECTED = 'expected text without NUL characters or unpaired UTF-16 surrogates';

function refusal(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput, ...extensions } });
}

/** Finds a bad string in a value: returns the path below `path` and the reason. */
type ValueCheck = (value: unknown, path: string) => { path: string; reason: string } | null;

/** A check for the values of one input type, or null when the type cannot hold a String or ID. */
function checkFor(type: GraphQLInputType, memo: Map<GraphQLInputType, ValueCheck | null>): ValueCheck | null {
  if (isNonNullType(type)) return checkFor(type.ofType, memo);
  if (memo.has(type)) return memo.get(type)!;
  if (isListType(type)) {
    const item = checkFor(type.ofType, memo);
    const check: ValueCheck | null = item
      ? (value, path) => {
          // A single value stands for a list of one (input coercion allows it).
          if (!Array.isArray(value)) return item(value, path);
          for (let i = 0; i < value.length; i++) {
            const found = item(value[i], `${path}[${i}]`);
            if (found) return found;
          }
          return null;
        }
      : null;
    memo.set(type, check);
    return check;
  }
  if (isInputObjectType(type)) {
    // Set first: an input type may refer to itself.
    const fields: Array<[string, ValueCheck]> = [];
    const check: ValueCheck = (value, path) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      for (const [name, field] of fields) {
        const found = field((value as Record<string, unknown>)[name], `${path}.${name}`);
        if (found) return found;
      }
      return null;
    };
    memo.set(type, check);
    for (const field of Object.values(type.getFields())) {
      const fieldCheck = checkFor(field.type, memo);
      if (fieldCheck) fields.push([field.name, fieldCheck]);
    }
    if (!fields.length) memo.set(type, null);
    return fields.length ? check : null;
  }
  if (type === GraphQLString || type === GraphQLID || type.name === GraphQLString.name || type.name === GraphQLID.name) {
    const check: ValueCheck = (value, path) => {
      if (typeof value !== 'string') return null;
      const reason = unsafeStringReason(value);
      return reason ? { path, reason } : null;
    };
    memo.set(type, check);
    return check;
  }
  // Enums, Int, Float, Boolean and our own scalars (DateTime, Date, LocalTime check their format).
  memo.set(type, null);
  return null;
}

function findInLiteral(value: ValueNode, path: string): { path: string; reason: string } | null {
  switch (value.kind) {
    case Kind.STRING: {
      const reason = unsafeStringReason(value.value);
      return reason ? { path, reason } : null;
    }
    case Kind.LIST:
      for (let i = 0; i < value.values.length; i++) {
        const found = findInLiteral(value.values[i], `${path}[${i}]`);
        if (found) return found;
      }
      return null;
    case Kind.OBJECT:
      for (const field of value.fields) {
        const found = findInLiteral(field.value, `${path}.${field.name.value}`);
        if (found) return found;
      }
      return null;
    default:
      return null;
  }
}

/** Builds the guard of one operation of a validated document. */
export function guardFor(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode | null | undefined): StringGuard {
  // Literals anywhere in the document (fragments included): GraphQL's lexer refuses raw NULs and
  // lone surrogates, but the escape \u0000 is valid syntax.
  const literalErrors: GraphQLError[] = [];
  visit(document, {
    Argument(node) {
      const found = findInLiteral(node.value, node.name.value);
      if (found) {
        literalErrors.push(refusal(`Argument "${node.name.value}" got an invalid value at "${found.path}": ${EXPECTED}, got ${found.reason}.`, { argument: node.name.value }));
      }
    },
    VariableDefinition(node) {
      const found = node.defaultValue && findInLiteral(node.defaultValue, `$${node.variable.name.value}`);
      if (found) {
        literalErrors.push(refusal(`Variable "$${node.variable.name.value}" has an invalid default value at "${found.path}": ${EXPECTED}, got ${found.reason}.`, { variable: node.variable.name.value }));
      }
    },
  });

  const memo = new Map<GraphQLInputType, ValueCheck | null>();
  const variables: Array<[string, ValueCheck]> = [];
  for (const definition of operation?.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined;
    const check = type && checkFor(type, memo);
    if (check) variables.push([definition.variable.name.value, check]);
  }

  return {
    literalErrors,
    check: variables.length
      ? (values) => {
          if (!values) return null;
          for (const [name, check] of variables) {
            const found = check(values[name], name);
            if (found) {
              return refusal(`Variable "$${name}" got an invalid value at "${found.path}": ${EXPECTED}, got ${found.reason}.`, { variable: name });
            }
          }
          return null;
        }
      : () => null,
  };
}
