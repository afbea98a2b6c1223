import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinPlugins } from '../plugins/builtin-plugins.ts';
import { pipelineJsonSchema } from '../runtime/pipeline/pipeline-json-schema.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const schemaHelp = `Usage: temi-stream schema [--out <file>] [--stdout]

Writes the JSON Schema for pipeline files (default pipelines/pipeline.schema.json), generated
from the plugins' own config schemas. Pipelines reference it with "$schema".`;

export async function schemaCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, stdout: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    println(io.stdout, schemaHelp);
    return EXIT.ok;
  }
  const text = `${JSON.stringify(pipelineJsonSchema(builtinPlugins()), null, 2)}\n`;
  if (values.stdout) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  const out = resolve(values.out ?? 'pipelines/pipeline.schema.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  println(io.stdout, `wrote ${out}`);
  return EXIT.ok;
}
