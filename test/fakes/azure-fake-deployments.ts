/**
 * ARM template deployments for the Azure fake (Microsoft.Resources/deployments at resource-group
 * scope), following the REST reference (https://learn.microsoft.com/rest/api/resources/deployments)
 * and the template syntax (https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax):
 *
 * - PUT validates like ARM does before it accepts anything: mode, $schema, contentVersion,
 *   parameters (declared types, every required one given, none undeclared), each resource's type,
 *   apiVersion (the fake's list for its namespace), body (the same rules as a direct PUT), dependsOn
 *   (each names a resource of the template; no cycles; a resource that references another of the
 *   template must depend on it) and the outputs' expressions. A template that breaks a rule is
 *   answered 400 InvalidTemplate (or InvalidDeployment) and recorded as a mismatch.
 * - GET advances it: Accepted → Running (its first look), then each look starts the resources
 *   whose dependencies have Succeeded (as the store's own PUTs, so GETs of the VM, IP or NSG see
 *   them and the VM boots its customData) and looks at the started ones; all Succeeded → Succeeded
 *   with its outputs evaluated; one Failed → Failed with ARM's DeploymentFailed error and details.
 * - secureString parameters are never returned.
 */
import { randomUUID } from 'node:crypto';
import { API_VERSIONS, checkNetworkInterface, checkPublicIp, checkSecurityGroup, checkTracked, checkVirtualMachine, checkVirtualNetwork, type Violation } from './azure-arm-rules.js';
import { evaluate, evaluateDeep, isExpression, parseExpression, type ExpressionScope, type Json } from './azure-fake-expressions.js';
import { groupKey, resourceKey, type ArmStore, type ResourceKind } from './azure-fake-store.js';

/** Resource types a template may hold here, with the store's kind and the api-version list. */
const TYPES: Record<string, { kind: ResourceKind; versions: string[]; check: (b: Json) => Violation[] }> = {
  'microsoft.network/virtualnetworks': { kind: 'virtualNetworks', versions: API_VERSIONS.network, check: checkVirtualNetwork },
  'microsoft.network/publicipaddresses': { kind: 'publicIPAddresses', versions: API_VERSIONS.network, check: checkPublicIp },
  'microsoft.network/networksecuritygroups': { kind: 'networkSecurityGroups', versions: API_VERSIONS.network, check: checkSecurityGroup },
  'microsoft.network/networkinterfaces': { kind: 'networkInterfaces', versions: API_VERSIONS.network, check: checkNetworkInterface },
  'microsoft.compute/virtualmachines': { kind: 'virtualMachines', versions: API_VERSIONS.compute, check: checkVirtualMachine },
};
const PARAMETER_TYPES = new Set(['string', 'securestring', 'int', 'bool', 'object', 'secureobject', 'array']);
const SCHEMA = /^https:\/\/schema\.management\.azure\.com\/schemas\/\d{4}-\d{2}-\d{2}\/deploymentTemplate\.json#$/;

interface Planned {
  kind: ResourceKind;
  id: string;
  name: string;
  body: Json;
  /** Resource keys (lowercase ids) it waits for. */
  dependsOn: string[];
  started: boolean;
}

export interface DeploymentRecord {
  subscription: string;
  group: string;
  name: string;
  state: 'Accepted' | 'Running' | 'Succeeded' | 'Failed';
  mode: string;
  parameters: Record<string, { type: string; value: unknown }>;
  planned: Planned[];
  outputs: Record<string, { type: string; value: unknown }>;
  outputValues?: Record<string, { type: string; value: unknown }>;
  error?: Json;
  timestamp: string;
  correlationId: string;
}

const bad = (message: string, code = 'InvalidTemplate'): Violation => ({ status: 400, code, message });
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export class FakeDeployments {
  constructor(
    private readonly store: ArmStore,
    private readonly problem: (message: string) => void,
  ) {}

  /** Deployments whose group still exists (a deleted group takes its deployments along). */
  count(): number {
    return [...this.store.deployments.values()].filter((d) => this.store.groups.has(groupKey(d.subscription, d.group))).length;
  }

  get(subscription: string, group: string, name: string): DeploymentRecord | undefined {
    const d = this.store.deployments.get(deploymentKey(subscription, group, name));
    return d && this.store.groups.has(groupKey(subscription, group)) ? d : undefined;
  }

  /**
   * Validates and accepts a PUT.
   * @returns the record, or the violations ARM would answer with (the first is the reply)
   */
  put(subscription: string, group: string, name: string, body: unknown): { record?: DeploymentRecord; created?: boolean; violations: Violation[] } {
    const g = this.store.groups.get(groupKey(subscription, group))!;
    if (!/^[-\w._()]{1,64}$/.test(name)) return { violations: [bad(`The deployment name '${name}' is invalid.`, 'InvalidDeploymentName')] };
    const existing = this.store.deployments.get(deploymentKey(subscription, group, name));
    if (existing && (existing.state === 'Accepted' || existing.state === 'Running')) {
      return { violations: [{ status: 409, code: 'DeploymentActive', message: `Unable to edit or replace deployment '${name}': previous deployment from '${existing.timestamp}' is still active.` }] };
    }
    const props = isObject(body) && isObject(body.properties) ? body.properties : undefined;
    if (!props) return { violations: [bad("The request content is missing 'properties'.", 'InvalidRequestContent')] };
    if (props.mode !== 'Incremental' && props.mode !== 'Complete') return { violations: [bad("The deployment mode must be 'Incremental' or 'Complete'.", 'InvalidDeployment')] };
    if (props.templateLink !== undefined || props.parametersLink !== undefined) return { violations: [bad('The fake takes the template and parameters inline only.', 'InvalidDeployment')] };
    const template = props.template;
    if (!isObject(template)) return { violations: [bad("The request content must have 'properties.template'.", 'InvalidDeployment')] };
    const violations: Violation[] = [];
    if (typeof template.$schema !== 'string' || !SCHEMA.test(template.$schema)) violations.push(bad(`The template $schema '${String(template.$schema)}' is not a deployment template schema.`));
    if (typeof template.contentVersion !== 'string' || !/^\d+(\.\d+){3}$/.test(template.contentVersion)) violations.push(bad("The template 'contentVersion' must be of the form 1.0.0.0."));
    const parameters = this.checkParameters(template, props.parameters, violations);
    const scope: ExpressionScope = { subscription, group: g.name, location: g.location, parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.value])) };
    const planned = this.plan(template, scope, violations);
    const outputs = this.checkOutputs(template, violations);
    if (violations.length > 0) return { violations };
    const record: DeploymentRecord = {
      subscription, group: g.name, name, state: 'Accepted', mode: String(props.mode), parameters, planned, outputs,
      timestamp: new Date().toISOString(), correlationId: randomUUID(),
    };
    this.store.deployments.set(deploymentKey(subscription, group, name), record);
    return { record, created: !existing, violations: [] };
  }

  /**
   * A Succeeded deployment named as the provider names its one deployment ('inletsctl-tunnel'),
   * with these string outputs (for FakeEntry.seedHost).
   */
  seed(subscription: string, group: string, outputs: Record<string, string>): void {
    const name = 'inletsctl-tunnel';
    const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { type: 'String', value: v }]));
    this.store.deployments.set(deploymentKey(subscription, group, name), {
      subscription, group, name, state: 'Succeeded', mode: 'Incremental', parameters: {}, planned: [], outputs: values, outputValues: values,
      timestamp: new Date().toISOString(), correlationId: randomUUID(),
    });
  }

  /** One look at a deployment: it advances (see the file comment). */
  observe(d: DeploymentRecord): void {
    if (d.state === 'Accepted') {
      d.state = 'Running';
      return;
    }
    if (d.state !== 'Running') return;
    const stateOf = (key: string) => this.store.resources.get(key)?.state;
    for (const p of d.planned) {
      if (p.started || !p.dependsOn.every((k) => stateOf(k) === 'Succeeded')) continue;
      p.started = true;
      this.store.put(p.kind, p.id, d.subscription, d.group, p.name, p.body);
    }
    for (const p of d.planned) if (p.started) this.store.observe(this.store.resources.get(resourceKey(p.id))?.operation);
    const failed = d.planned.find((p) => p.started && stateOf(resourceKey(p.id)) === 'Failed');
    if (failed) {
      const op = this.store.operations.get(this.store.resources.get(resourceKey(failed.id))?.operation ?? '');
      d.state = 'Failed';
      d.error = {
        code: 'DeploymentFailed',
        message: 'At least one resource deployment operation failed. Please list deployment operations for details.',
        details: [{ code: op?.error?.code ?? 'ResourceDeploymentFailure', message: op?.error?.message ?? `The resource '${failed.id}' failed.` }],
      };
      return;
    }
    if (!d.planned.every((p) => p.started && stateOf(resourceKey(p.id)) === 'Succeeded')) return;
    const scope: ExpressionScope = {
      subscription: d.subscription, group: d.group, location: '', parameters: Object.fromEntries(Object.entries(d.parameters).map(([k, v]) => [k, v.value])),
      reference: (id) => {
        const r = this.store.resources.get(resourceKey(id));
        if (!r) throw new Error(`The Resource '${id}' was not found.`);
        return { ...r.properties, provisioningState: r.state, ...(r.kind === 'publicIPAddresses' ? { ipAddress: r.ip } : {}) };
      },
    };
    try {
      d.outputValues = Object.fromEntries(Object.entries(d.outputs).map(([k, o]) => [k, { type: o.type, value: evaluateDeep(o.value, scope) }]));
      d.state = 'Succeeded';
    } catch (err) {
      d.state = 'Failed';
      d.error = { code: 'DeploymentOutputEvaluationFailed', message: (err as Error).message };
      this.problem(`deployment ${d.name}: outputs could not be evaluated: ${(err as Error).message}`);
    }
  }

  /** The deployment as ARM returns it (DeploymentExtended). */
  render(d: DeploymentRecord): Json {
    const properties: Json = {
      provisioningState: d.state,
      mode: d.mode,
      timestamp: d.timestamp,
      correlationId: d.correlationId,
      parameters: Object.fromEntries(Object.entries(d.parameters).map(([k, p]) => [k, p.type.toLowerCase().startsWith('secure') ? { type: capitalize(p.type) } : { type: capitalize(p.type), value: p.value }])),
    };
    if (d.state === 'Succeeded') {
      properties.outputs = Object.fromEntries(Object.entries(d.outputValues ?? {}).map(([k, o]) => [k, { type: capitalize(o.type), value: o.value }]));
      properties.outputResources = d.planned.map((p) => ({ id: p.id }));
    }
    if (d.error) properties.error = d.error;
    return { id: `/subscriptions/${d.subscription}/resourceGroups/${d.group}/providers/Microsoft.Resources/deployments/${d.name}`, name: d.name, type: 'Microsoft.Resources/deployments', properties };
  }

  private checkParameters(template: Json, given: unknown, out: Violation[]): Record<string, { type: string; value: unknown }> {
    const declared = isObject(template.parameters) ? template.parameters : {};
    const values = isObject(given) ? given : {};
    const result: Record<string, { type: string; value: unknown }> = {};
    for (const [name, def] of Object.entries(declared)) {
      const type = isObject(def) && typeof def.type === 'string' ? def.type : '';
      if (!PARAMETER_TYPES.has(type.toLowerCase())) {
        out.push(bad(`The template parameter '${name}' has type '${type}', which is not a template parameter type.`));
        continue;
      }
      const entry = values[name];
      const value = isObject(entry) && 'value' in entry ? entry.value : isObject(def) ? def.defaultValue : undefined;
      if (value === undefined) out.push(bad(`The value for the template parameter '${name}' at line '1' and column '1' is not provided.`, 'InvalidTemplate'));
      else if (/string$/i.test(type) && typeof value !== 'string') out.push(bad(`Template parameter '${name}' was provided an invalid value: expected a ${type}.`));
      result[name] = { type, value };
    }
    for (const name of Object.keys(values)) {
      if (!(name in declared)) out.push(bad(`The template parameters '${name}' in the parameters file are not valid; they are not present in the original template.`, 'InvalidTemplate'));
    }
    return result;
  }

  /** Each resource: type, apiVersion, evaluated body and its rules, dependsOn; then cycles and missing dependsOn. */
  private plan(template: Json, scope: ExpressionScope, out: Violation[]): Planned[] {
    if (!Array.isArray(template.resources) || template.resources.length === 0) {
      out.push(bad("The template must have a non-empty 'resources' array."));
      return [];
    }
    const planned: Planned[] = [];
    const rawDepends: unknown[][] = [];
    for (const [i, raw] of (template.resources as unknown[]).entries()) {
      const where = `resource ${i}`;
      if (!isObject(raw)) {
        out.push(bad(`The template ${where} is not an object.`));
        continue;
      }
      const t = TYPES[String(raw.type ?? '').toLowerCase()];
      if (!t) {
        out.push(bad(`The template ${where} has type '${String(raw.type)}', which the fake does not deploy.`, 'InvalidResourceType'));
        continue;
      }
      if (typeof raw.apiVersion !== 'string' || !t.versions.includes(raw.apiVersion)) {
        out.push(bad(`The template ${where} of type '${String(raw.type)}' has apiVersion '${String(raw.apiVersion)}'; the supported versions are '${t.versions.join(',')}'.`, 'NoRegisteredProviderFound'));
        continue;
      }
      let body: Json;
      let name: string;
      try {
        const { type: _t, apiVersion: _v, dependsOn: _d, name: rawName, ...rest } = raw;
        name = String(evaluateDeep(rawName, scope));
        body = evaluateDeep(rest, scope) as Json;
      } catch (err) {
        out.push(bad(`The template ${where}: ${(err as Error).message}`));
        continue;
      }
      if (!/^[-\w._]{1,80}$/.test(name)) {
        out.push(bad(`The template ${where} has an invalid name '${name}'.`));
        continue;
      }
      const v = [...checkTracked(body), ...t.check(body)];
      for (const x of v) out.push(bad(`The template resource '${name}' (${String(raw.type)}): ${x.code}: ${x.message}`));
      const tags = (body.tags ?? {}) as Record<string, string>;
      if (tags['managed-by'] !== 'inletsctl' || !tags['inletsctl-tunnel'] || !tags['inletsctl-name']) this.problem(`deployed resource ${name}: not tagged managed-by=inletsctl, inletsctl-name and inletsctl-tunnel`);
      const id = `/subscriptions/${scope.subscription}/resourceGroups/${scope.group}/providers/${String(raw.type)}/${name}`;
      planned.push({ kind: t.kind, id, name, body, dependsOn: [], started: false });
      rawDepends.push(Array.isArray(raw.dependsOn) ? raw.dependsOn : raw.dependsOn === undefined ? [] : [raw.dependsOn]);
    }
    if (out.length > 0) return planned;
    const byRef = (ref: string): Planned | undefined => {
      const key = ref.toLowerCase();
      return planned.find((p) => resourceKey(p.id) === key || p.name.toLowerCase() === key || `${p.id.split('/providers/')[1]}`.toLowerCase() === key);
    };
    for (const [i, p] of planned.entries()) {
      for (const d of rawDepends[i]) {
        let ref: unknown;
        try {
          ref = isExpression(d) ? evaluate(d, scope) : d;
        } catch (err) {
          out.push(bad(`The dependsOn of '${p.name}': ${(err as Error).message}`));
          continue;
        }
        const target = typeof ref === 'string' ? byRef(ref) : undefined;
        if (!target) out.push(bad(`The resource '${String(ref)}' is not defined in the template (dependsOn of '${p.name}').`));
        else p.dependsOn.push(resourceKey(target.id));
      }
      // A reference to another resource of the template needs dependsOn, or ARM may make them in any order.
      for (const used of idsIn(p.body.properties)) {
        const target = byRef(used.split(/\/subnets\//i)[0]);
        if (target && target !== p && !p.dependsOn.includes(resourceKey(target.id))) out.push(bad(`The resource '${p.name}' references '${target.name}' of the template without dependsOn.`));
      }
    }
    if (hasCycle(planned)) out.push(bad('Deployment template validation failed: circular dependency between the template resources.'));
    return planned;
  }

  private checkOutputs(template: Json, out: Violation[]): Record<string, { type: string; value: unknown }> {
    const outputs = template.outputs === undefined ? {} : template.outputs;
    if (!isObject(outputs)) {
      out.push(bad("The template 'outputs' must be an object."));
      return {};
    }
    const result: Record<string, { type: string; value: unknown }> = {};
    for (const [name, o] of Object.entries(outputs)) {
      if (!isObject(o) || typeof o.type !== 'string' || !PARAMETER_TYPES.has(o.type.toLowerCase()) || o.value === undefined) {
        out.push(bad(`The template output '${name}' needs a type and a value.`));
        continue;
      }
      if (isExpression(o.value)) {
        try {
          parseExpression(o.value);
        } catch (err) {
          out.push(bad(`The template output '${name}': ${(err as Error).message}`));
          continue;
        }
      }
      result[name] = { type: o.type, value: o.value };
    }
    return result;
  }
}

export function deploymentKey(subscription: string, group: string, name: string): string {
  return `${groupKey(subscription, group)}/${name.toLowerCase()}`;
}

/** Every string in `value` that is an ARM resource id. */
function idsIn(value: unknown): string[] {
  if (typeof value === 'string') return /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\//i.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(idsIn);
  if (isObject(value)) return Object.values(value).flatMap(idsIn);
  return [];
}

function hasCycle(planned: Planned[]): boolean {
  const state = new Map<string, 'visiting' | 'done'>();
  const byKey = new Map(planned.map((p) => [resourceKey(p.id), p]));
  const visit = (p: Planned): boolean => {
    const k = resourceKey(p.id);
    if (state.get(k) === 'done') return false;
    if (state.get(k) === 'visiting') return true;
    state.set(k, 'visiting');
    for (const d of p.dependsOn) if (byKey.has(d) && visit(byKey.get(d)!)) return true;
    state.set(k, 'done');
    return false;
  };
  return planned.some(visit);
}

function capitalize(type: string): string {
  const t = type.toLowerCase();
  return { securestring: 'SecureString', secureobject: 'SecureObject' }[t] ?? t.charAt(0).toUpperCase() + t.slice(1);
}
