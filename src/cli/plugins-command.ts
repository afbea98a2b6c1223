import { parseArgs } from 'node:util';
import { createRegistryWithBuiltins } from '../plugins/builtin-plugins.ts';
import type { StagePlugin } from '../runtime/contracts/plugin.ts';
import type { JsonSchema } from '../runtime/schema/schema.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const pluginsHelp = `Usage: temi-stream plugins [name] [--json]

Lists the built-in plugins, or documents one plugin's configuration (generated from the same
schema that validates it).`;

export async function pluginsCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    println(io.stdout, pluginsHelp);
    return EXIT.ok;
  }
  const registry = createRegistryWithBuiltins();
  const selected = positionals.length ? positionals.map((n) => registry.get(n) ?? n) : registry.list();
  const unknown = selected.filter((p): p is string => typeof p === 'string');
  if (unknown.length) {
    for (const name of unknown) {
      const near = registry.suggest(name);
      println(io.stderr, `TS_ERR_PIPELINE_UNKNOWN_PLUGIN: no plugin named ${JSON.stringify(name)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
    }
    return EXIT.invalid;
  }
  const plugins = selected as StagePlugin[];
  if (values.json) {
    println(io.stdout, JSON.stringify(plugins.map((p) => ({ name: p.name, kind: p.kind, description: p.description, config: p.configSchema.toJsonSchema() })), null, 2));
    return EXIT.ok;
  }
  for (const p of plugins) {
    println(io.stdout, `${p.name} (${p.kind})`);
    println(io.stdout, `  ${p.description}`);
    if (positionals.length) for (const line of describeOptions(p.configSchema.toJsonSchema(), '  ')) println(io.stdout, line);
    println(io.stdout);
  }
  if (!positionals.length) println(io.stdout, 'Run `temi-stream plugins <name>` for a plugin\'s options.');
  return EXIT.ok;
}

/** Renders an object schema as an indented option list: key, type, default, description. */
export function describeOptions(schema: JsonSchema, indent: string): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const lines: string[] = [];
  for (const [key, child] of Object.entries(props)) {
    const type = child.enum ? (child.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ') : String(child.type ?? 'any');
    const flags = [required.has(key) ? 'required' : undefined, child.default !== undefined ? `default ${JSON.stringify(child.default)}` : undefined].filter(Boolean).join(', ');
    lines.push(`${indent}${key}: ${type}${flags ? ` (${flags})` : ''}${child.description ? ` - ${child.description}` : ''}`);
    if (child.type === 'object' && child.properties) lines.push(...describeOptions(child, `${indent}  `));
  }
  return lines;
}
