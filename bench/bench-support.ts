/** What several benches share: their `--name value` options and the system python that runs the PyTorch references. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's python, which has python3-torch and python3-sklearn (a pyenv python on PATH may not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
/** The venv `npm run setup:reference` makes: PyTorch from PyPI (MKL + oneDNN), what a user installs. */
export const PYPI_TORCH_PYTHON = fileURLToPath(new URL('../.cache/reference-venv/bin/python', import.meta.url));
export const PYTORCH_THREADS = 2;

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Why the PyTorch references cannot run here, or undefined when they can. */
export function torchUnavailable(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found`;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${SYSTEM_PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
}

/** Runs bench/reference/<script> with `python` (the system one by default) on PYTORCH_THREADS threads; returns its stdout. */
export function runReference(script: string, args: string[], python: string = SYSTEM_PYTHON, env: Record<string, string> = {}): string {
  const path = fileURLToPath(new URL(`./reference/${script}`, import.meta.url));
  return execFileSync(python, [path, '--threads', String(PYTORCH_THREADS), ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(PYTORCH_THREADS), PYTHONWARNINGS: 'ignore', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/**
 * How the speed benches run each PyTorch reference: as installed (OpenMP's default wait policy,
 * threads spin at barriers) and with OMP_WAIT_POLICY=PASSIVE. On a machine other jobs keep busy
 * the spinning collapses PyTorch (TEMI step, 2 threads, load 7: 69-75 anchors/s spinning, 878
 * passive, 619 on one thread), which would flatter every ratio; the benches take the faster of
 * the two as the reference.
 */
export const REFERENCE_WAIT_POLICIES: readonly { readonly label: string; readonly env: Record<string, string> }[] = [
  { label: 'default', env: {} },
  { label: 'OMP_WAIT_POLICY=PASSIVE', env: { OMP_WAIT_POLICY: 'PASSIVE' } },
];

/** A PyTorch the speed benches can time in the same run. */
export interface TorchReference {
  /** `pypi`: the setup:reference venv, the reference ratios are taken against; `debian`: python3-torch. */
  readonly source: 'pypi' | 'debian';
  readonly python: string;
  /** torch.__version__, e.g. "2.15.0+cu132" or "1.13.0a0". */
  readonly version: string;
}

/**
 * The PyTorch builds present, PyPI's first (the reference every ratio is taken against), then
 * Debian's; `missing` says why one is absent.
 */
export function torchReferences(): { found: TorchReference[]; missing: string[] } {
  const found: TorchReference[] = [];
  const missing: string[] = [];
  for (const [source, python, fix] of [
    ['pypi', PYPI_TORCH_PYTHON, 'npm run setup:reference'],
    ['debian', SYSTEM_PYTHON, 'apt-get install python3-torch'],
  ] as const) {
    if (!existsSync(python)) {
      missing.push(`${source} torch: ${python} not found (${fix})`);
      continue;
    }
    try {
      const version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      found.push({ source, python, version });
    } catch {
      missing.push(`${source} torch: ${python} cannot import torch (${fix})`);
    }
  }
  return { found, missing };
}
