import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const FASHION_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

export type DemoData = 'fashion-mnist' | 'shapes';
export type DemoChoice = DemoData | 'auto';

export const DEMO_USAGE = `Usage: npm run demo [-- --data auto|fashion-mnist|shapes] [--pipeline FILE] [--split test|train]
       (or DEMO_DATA=shapes npm run demo)

auto (default): Fashion-MNIST, installed with apt when missing and possible, else the shapes.
fashion-mnist:  Fashion-MNIST or fail saying how to install it. shapes: the rendered shapes.
--pipeline FILE: run another Fashion-MNIST pipeline the same way, e.g. pipelines/fashion-mnist-mmdc.json.
--split train:   stream the 60,000-image train split instead of the 10,000-image test split
                 (state and labels then go to <state.dir>-train and <labels>-train.jsonl).`;

export type DemoSplit = 'test' | 'train';

export interface DemoRequest {
  readonly data: DemoChoice;
  /** A pipeline file other than the dataset's default (Fashion-MNIST only). */
  readonly pipeline?: string;
  readonly split?: DemoSplit;
}

/** What the user asked for: `--data X` (or `--shapes`) wins over DEMO_DATA; undefined on a bad value. */
export function requestedData(argv: readonly string[], env: NodeJS.ProcessEnv): DemoChoice | undefined {
  return parseDemoArgs(argv, env)?.data;
}

/** The demo's arguments; undefined on anything it does not know, so the usage can be printed. */
export function parseDemoArgs(argv: readonly string[], env: NodeJS.ProcessEnv): DemoRequest | undefined {
  let value = env.DEMO_DATA?.trim() || 'auto';
  let pipeline: string | undefined;
  let split: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const next = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--shapes' && inline === undefined) value = 'shapes';
    else if (flag === '--data') value = next();
    else if (flag === '--pipeline') pipeline = next();
    else if (flag === '--split') split = next();
    else return undefined;
  }
  if (value !== 'auto' && value !== 'fashion-mnist' && value !== 'shapes') return undefined;
  if (split !== undefined && split !== 'test' && split !== 'train') return undefined;
  if (pipeline === '') return undefined;
  // Both rewrite or replace a Fashion-MNIST pipeline; the shapes have one pipeline and no splits.
  if (value === 'shapes' && (pipeline !== undefined || split !== undefined)) return undefined;
  return { data: value, ...(pipeline !== undefined ? { pipeline } : {}), ...(split !== undefined ? { split: split as DemoSplit } : {}) };
}

/**
 * True when Fashion-MNIST (the split asked for) is there or was just installed by
 * scripts/datasets/install.sh (apt, as root); that script says on stderr how to install it by
 * hand when it cannot.
 */
export function ensureFashionMnist(split: DemoSplit = 'test'): boolean {
  const images = split === 'train' ? FASHION_IMAGES.replace('t10k-images', 'train-images') : FASHION_IMAGES;
  if (existsSync(images)) return true;
  console.error('Fashion-MNIST is not installed: trying scripts/datasets/install.sh (apt-get install dataset-fashion-mnist)');
  const result = spawnSync('bash', ['scripts/datasets/install.sh'], { stdio: 'inherit' });
  return result.status === 0 && existsSync(images);
}
