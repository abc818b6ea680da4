/**
 * ARM template expressions, for the Azure fake: the subset inletsctl's template uses, evaluated as
 * ARM does. A string value `[...]` is an expression (`[[` escapes a literal `[`). Functions:
 * parameters('name'), resourceId('Namespace/type[/child]', 'name'[, 'child name']),
 * reference(resourceId(...)[, 'apiVersion']).property, resourceGroup().location|name|id,
 * concat(...). String literals are single-quoted ('' is a quote). Anything else is an error, which
 * the fake reports as ARM's InvalidTemplate.
 * Reference: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions
 */

export type Json = Record<string, unknown>;

/** What functions see: the deployment's scope, its parameter values and reference(). */
export interface ExpressionScope {
  subscription: string;
  group: string;
  location: string;
  parameters: Record<string, unknown>;
  /** The properties of the resource with this id, as reference() returns them; throws when it cannot be read yet. */
  reference?: (id: string) => Json;
}

type Node = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'call'; name: string; args: Node[]; path: string[] };

/** Whether `s` is an expression. */
export function isExpression(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith('[') && !s.startsWith('[[') && s.endsWith(']');
}

/** Parses `[...]` into a tree. @throws Error with the position for anything outside the subset. */
export function parseExpression(text: string): Node {
  const src = text.slice(1, -1);
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`cannot parse template expression ${JSON.stringify(text)} at ${i}: ${what}`);
  };
  const space = () => {
    while (src[i] === ' ') i++;
  };
  const node = (): Node => {
    space();
    if (src[i] === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('unterminated string');
        if (src[i] === "'" && src[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (src[i] === "'") {
          i++;
          break;
        } else value += src[i++];
      }
      return { kind: 'string', value };
    }
    const num = /^-?\d+/.exec(src.slice(i));
    if (num) {
      i += num[0].length;
      return { kind: 'number', value: Number(num[0]) };
    }
    const ident = /^[A-Za-z][A-Za-z0-9]*/.exec(src.slice(i));
    if (!ident) fail('expected a string, a number or a function');
    i += ident![0].length;
    space();
    if (src[i] !== '(') fail('expected (');
    i++;
    const args: Node[] = [];
    space();
    if (src[i] === ')') i++;
    else {
      for (;;) {
        args.push(node());
        space();
        if (src[i] === ',') i++;
        else if (src[i] === ')') {
          i++;
          break;
        } else fail('expected , or )');
      }
    }
    const path: string[] = [];
    while (src[i] === '.') {
      i++;
      const prop = /^[A-Za-z][A-Za-z0-9]*/.exec(src.slice(i));
      if (!prop) fail('expected a property name');
      path.push(prop![0]);
      i += prop![0].length;
    }
    return { kind: 'call', name: ident![0].toLowerCase(), args, path };
  };
  const tree = node();
  space();
  if (i !== src.length) fail('unexpected text after the expression');
  return tree;
}

/** The resource id ARM's resourceId() gives in this scope. */
export function resourceIdOf(scope: Pick<ExpressionScope, 'subscription' | 'group'>, type: string, names: string[]): string {
  const [namespace, ...types] = type.split('/');
  if (!namespace || types.length === 0 || types.length !== names.length) throw new Error(`resourceId('${type}', …) needs one name per type segment`);
  const tail = types.map((t, k) => `${t}/${names[k]}`).join('/');
  return `/subscriptions/${scope.subscription}/resourceGroups/${scope.group}/providers/${namespace}/${tail}`;
}

/** Evaluates an expression string. @throws Error for unknown functions, parameters or properties. */
export function evaluate(text: string, scope: ExpressionScope): unknown {
  return run(parseExpression(text), scope);
}

function run(n: Node, scope: ExpressionScope): unknown {
  if (n.kind !== 'call') return n.value;
  const args = n.args.map((a) => run(a, scope));
  const str = (k: number) => {
    if (typeof args[k] !== 'string') throw new Error(`${n.name}() argument ${k + 1} must be a string`);
    return args[k] as string;
  };
  let value: unknown;
  switch (n.name) {
    case 'parameters': {
      const name = str(0);
      if (!(name in scope.parameters)) throw new Error(`The template parameter '${name}' is not found.`);
      value = scope.parameters[name];
      break;
    }
    case 'resourceid':
      value = resourceIdOf(scope, str(0), args.slice(1).map((_, k) => str(k + 1)));
      break;
    case 'reference':
      if (!scope.reference) throw new Error('reference() cannot be used here (only in outputs and in properties of resources that depend on it)');
      value = scope.reference(str(0));
      break;
    case 'resourcegroup':
      value = { name: scope.group, location: scope.location, id: `/subscriptions/${scope.subscription}/resourceGroups/${scope.group}` };
      break;
    case 'concat':
      value = args.map(String).join('');
      break;
    default:
      throw new Error(`The template function '${n.name}' is not known to the fake.`);
  }
  for (const p of n.path) {
    if (typeof value !== 'object' || value === null || !(p in (value as Json))) throw new Error(`The language expression property '${p}' doesn't exist.`);
    value = (value as Json)[p];
  }
  return value;
}

/** A copy of `value` with every expression string evaluated. */
export function evaluateDeep(value: unknown, scope: ExpressionScope): unknown {
  if (isExpression(value)) return evaluate(value, scope);
  if (typeof value === 'string' && value.startsWith('[[')) return value.slice(1);
  if (Array.isArray(value)) return value.map((v) => evaluateDeep(v, scope));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateDeep(v, scope)]));
  return value;
}
