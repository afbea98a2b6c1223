import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report-command.ts';
import { REPORT_SECTIONS } from '../../src/report/index.ts';
import { runForTest, tempDir, TextSink } from '../support/pipeline-harness.ts';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const FASHION = '/usr/share/datasets/fashion-mnist';

/**
 * A short labelled run of the Fashion-MNIST test split: 1,000 records, k-means every 200. The
 * in-flight bound sits just above the first round so the source pauses until a model exists
 * (assign's "wait" releases held records unassigned once the source completes).
 */
function fashionPipeline(dir: string): Record<string, unknown> {
  return {
    name: 'report-test',
    source: { use: 'files', with: { idx: { images: `${FASHION}/t10k-images-idx3-ubyte.gz`, labels: `${FASHION}/t10k-labels-idx1-ubyte.gz` }, limit: 1000 } },
    stages: [
      { use: 'decode', with: { preset: 'mnist' } },
      { use: 'pixels-embed', with: { l2normalize: false } },
      { use: 'index', with: { metric: 'cos', capacity: 2000 } },
      { use: 'train', with: { trainer: 'kmeans', clusters: 10, firstRoundAt: 200, everyRecords: 200 } },
      { use: 'assign', with: { beforeFirstModel: 'wait' } },
      // No `every`: evaluations spread over what the source says it holds.
      { use: 'evaluate', with: { window: 200 } },
    ],
    sink: { use: 'jsonl', with: { path: join(dir, 'labels.jsonl') } },
    state: { dir: join(dir, 'state') },
    runtime: { maxInFlight: 300 },
  };
}

async function chromium(args: string[], dir: string): Promise<string> {
  const common = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'chromium-profile')}`];
  const { stdout } = await run(CHROMIUM, [...common, ...args], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('temi-stream report', () => {
  let dir: string;
  let html: string;
  let stdout: TextSink;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with \`apt-get install chromium\` (the report test renders the page in headless Chromium)`).toBe(true);
    expect(existsSync(`${FASHION}/t10k-images-idx3-ubyte.gz`), `Fashion-MNIST is missing under ${FASHION}: run \`npm run setup:datasets\``).toBe(true);
    dir = await tempDir('temi-report-');
    const pipeline = fashionPipeline(dir);
    await runForTest(pipeline, dir);
    stdout = new TextSink();
    const code = await reportCommand([join(dir, 'state'), '--pipeline', join(dir, 'pipeline.json'), '--out', join(dir, 'report.html')], { stdout, stderr: stdout, env: {} });
    expect(code, stdout.text).toBe(0);
    html = await readFile(join(dir, 'report.html'), 'utf8');
  }, 300_000);

  it('writes one self-contained file: every image inline, no external fetches', () => {
    expect(html).toMatch(/<img src="data:image\/png;base64,/);
    expect(html).not.toMatch(/(src|href)="(https?:|file:|\/)/);
    expect(stdout.text).toMatch(/report written to .*report\.html \(\d+ clusters, \d+ evaluations, \d+ thumbnails\)/);
  });

  it('charts first-emitted and delivered scores at evaluations spread over the stream, and summarises each record\'s latest label', async () => {
    const history = (await readFile(join(dir, 'state', 'evaluation.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { records: number; firstEmitted: unknown; delivered: unknown });
    const points = new Set(history.map((p) => p.records));
    expect(points.size, `evaluations at ${[...points].join(', ')}`).toBeGreaterThanOrEqual(8);
    expect(Math.min(...points)).toBeLessThanOrEqual(200);
    expect(history.every((p) => p.firstEmitted && p.delivered)).toBe(true);
    for (const name of ['ACC delivered', 'ACC first', 'NMI delivered', 'NMI first']) expect(html).toContain(`<title>${name}</title>`);
    expect(html).toMatch(/delivered \(cumulative\)<\/dt><dd>ACC \d\.\d{3}/);
    expect(html).toMatch(/first emitted \(cumulative\)<\/dt><dd>ACC \d\.\d{3}/);
    // One entry per record however many revised lines the labels file holds.
    const lines = (await readFile(join(dir, 'labels.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { revision?: boolean });
    const revised = lines.filter((l) => l.revision).length;
    expect(lines.length).toBe(1000 + revised);
    expect(html).toMatch(/labelled records<\/dt><dd>1000 \(/);
  });

  it('shows the Fashion-MNIST class names in the Hungarian-ordered confusion matrix', () => {
    expect(html).toContain('id="confusion-table"');
    expect(html).toContain('Ankle boot');
    expect(html).toMatch(/class="match"/);
  });

  it('renders in headless Chromium with every section present and a non-blank screenshot', async () => {
    const url = `file://${join(dir, 'report.html')}`;
    const dom = await chromium(['--dump-dom', url], dir);
    for (const id of REPORT_SECTIONS) expect(dom, `section #${id}`).toContain(`id="${id}"`);
    for (const id of ['cluster-sizes-chart', 'metrics-cumulative', 'metrics-rolling']) expect(dom).toContain(`id="${id}"`);

    const png = join(dir, 'report.png');
    await chromium([`--screenshot=${png}`, '--window-size=1280,2000', url], dir);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(1280);
    expect(info.height).toBe(2000);
    let sum = 0;
    let sumSq = 0;
    for (const v of data) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / data.length;
    const variance = sumSq / data.length - mean * mean;
    // A blank page (one colour) has variance 0; the montage, charts and text give far more.
    expect(variance).toBeGreaterThan(100);
  });

  it('shows thumbnails of records that came from a replay file, read back from their lines', async () => {
    const replayDir = await tempDir('temi-report-replay-');
    const replayFile = join(replayDir, 'captured.jsonl');
    const colours = [{ r: 220, g: 30, b: 30 }, { r: 30, g: 30, b: 220 }];
    const envelopes: string[] = [];
    const labels: string[] = [];
    for (let i = 0; i < 6; i++) {
      const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: colours[i % 2] } }).png().toBuffer();
      envelopes.push(JSON.stringify({ id: `img-${i}`, image: png.toString('base64'), label: i % 2 }));
      labels.push(JSON.stringify({ key: `img-${i}`, cluster: i % 2, confidence: 0.9, modelVersion: 1, label: i % 2, origin: { source: 'replay', file: replayFile, position: i + 1 } }));
    }
    await writeFile(replayFile, `${envelopes.join('\n')}\n`);
    await writeFile(join(replayDir, 'labels.jsonl'), `${labels.join('\n')}\n`);
    const out = new TextSink();
    const code = await reportCommand([replayDir, '--labels', join(replayDir, 'labels.jsonl'), '--out', join(replayDir, 'r.html')], { stdout: out, stderr: out, env: {} });
    expect(code, out.text).toBe(0);
    expect(out.text).toContain('2 clusters, 0 evaluations, 6 thumbnails');
    const replayHtml = await readFile(join(replayDir, 'r.html'), 'utf8');
    expect(replayHtml.match(/<img src="data:image\/png;base64,/g)).toHaveLength(6);
  });

  it('fails with a clear message for a state dir that holds no run', async () => {
    const empty = await tempDir('temi-report-empty-');
    const err = new TextSink();
    const code = await reportCommand([empty], { stdout: err, stderr: err, env: {} });
    expect(code).toBe(1);
    expect(err.text).toMatch(/TS_ERR_REPORT_NOTHING/);
  });
});
