import { EXIT, println, processIO, type CliIO } from './io.ts';
import { labelsCommand } from './labels-command.ts';
import { pluginsCommand } from './plugins-command.ts';
import { reportCommand } from './report-command.ts';
import { runCommand } from './run-command.ts';
import { schemaCommand } from './schema-command.ts';
import { validateCommand } from './validate-command.ts';

const commands: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  run: runCommand,
  validate: validateCommand,
  plugins: pluginsCommand,
  schema: schemaCommand,
  report: reportCommand,
  labels: labelsCommand,
};

export const mainHelp = `temi-stream: continuous clustering of image streams

Usage: temi-stream <command> [options]

Commands:
  run <pipeline.json>          run a pipeline (Ctrl-C drains and exits cleanly)
  validate <pipeline.json>...  check pipeline files; --json for machine-readable output
  plugins [name]               list plugins, or document one plugin's options
  schema [--out file]          write the pipeline JSON Schema (pipelines/pipeline.schema.json)
  report <state-dir>           write an HTML report of a run (clusters, metrics, confusion)
  labels <labels.jsonl>        count a labels file; --latest prints the latest label per record

Run \`temi-stream <command> --help\` for a command's options.
Exit codes: 0 ok, 1 runtime failure, 2 invalid pipeline or usage.`;

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    println(name ? io.stdout : io.stderr, mainHelp);
    return name ? EXIT.ok : EXIT.invalid;
  }
  const command = commands[name];
  if (!command) {
    println(io.stderr, `unknown command "${name}"\n\n${mainHelp}`);
    return EXIT.invalid;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      println(io.stderr, `${(error as Error).message}\nRun \`temi-stream ${name} --help\`.`);
      return EXIT.invalid;
    }
    throw error;
  }
}
