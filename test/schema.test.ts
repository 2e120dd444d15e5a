import { readFileSync } from 'node:fs';
import { buildSchema, parse, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, isUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';

const source = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
const schema = buildSchema(source);

/** Every named thing a client can see, with its description (or undefined). */
function describedThings(): Array<[name: string, description: string | null | undefined]> {
  const things: Array<[string, string | null | undefined]> = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name))) continue;
    things.push([type.name, type.description]);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        things.push([`${type.name}.${field.name}`, field.description]);
        for (const arg of field.args) things.push([`${type.name}.${field.name}(${arg.name})`, arg.description]);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) things.push([`${type.name}.${field.name}`, field.description]);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) things.push([`${type.name}.${value.name}`, value.description]);
    } else if (isUnionType(type)) {
      // A union's members are types, described on their own.
    }
  }
  return things;
}

describe('schema.graphql: the public contract', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    const undocumented = describedThings().filter(([, description]) => !description?.trim()).map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('gives every mutation one `input` argument and a payload with `userErrors`', () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(0);
    for (const mutation of mutations) {
      expect(mutation.args.map((a) => a.name), mutation.name).toEqual(['input']);
      const payload = schema.getType(mutation.type.toString().replace('!', ''));
      expect(isObjectType(payload) && 'userErrors' in payload.getFields(), `${mutation.name} payload has userErrors`).toBe(true);
    }
  });

  it('declares every type once, with no `extend`, so a reader finds all of a type in one place', () => {
    const extensions = parse(source).definitions.filter((d) => d.kind.endsWith('Extension')).map((d) => ('name' in d && d.name ? d.name.value : d.kind));
    expect(extensions).toEqual([]);
  });

  it('describes each argument by what it is, not with a pointer to its type', () => {
    const pointers = describedThings().filter(([name, description]) => name.includes('(') && /^What to do; see /.test(description ?? '')).map(([name]) => name);
    expect(pointers).toEqual([]);
  });
});
