import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const FASHION_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

export type DemoData = 'fashion-mnist' | 'shapes';
export type DemoChoice = DemoData | 'auto';

export const DEMO_USAGE = `Usage: npm run demo [-- --data auto|fashion-mnist|shapes]   (or DEMO_DATA=shapes npm run demo)

auto (default): Fashion-MNIST, installed with apt when missing and possible, else the shapes.
fashion-mnist:  Fashion-MNIST or fail saying how to install it. shapes: the rendered shapes.`;

/** What the user asked for: `--data X` (or `--shapes`) wins over DEMO_DATA; undefined on a bad value. */
export function requestedData(argv: readonly string[], env: NodeJS.ProcessEnv): DemoChoice | undefined {
  let value = env.DEMO_DATA?.trim() || 'auto';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--shapes') value = 'shapes';
    else if (argv[i] === '--data') value = argv[++i] ?? '';
    else if (argv[i].startsWith('--data=')) value = argv[i].slice('--data='.length);
    else return undefined;
  }
  return value === 'auto' || value === 'fashion-mnist' || value === 'shapes' ? value : undefined;
}

/**
 * True when Fashion-MNIST is there or was just installed by scripts/datasets/install.sh (apt,
 * as root); that script says on stderr how to install it by hand when it cannot.
 */
export function ensureFashionMnist(): boolean {
  if (existsSync(FASHION_IMAGES)) return true;
  console.error('Fashion-MNIST is not installed: trying scripts/datasets/install.sh (apt-get install dataset-fashion-mnist)');
  const result = spawnSync('bash', ['scripts/datasets/install.sh'], { stdio: 'inherit' });
  return result.status === 0 && existsSync(FASHION_IMAGES);
}
