/**
 * What travels between workers and the trainer: embeddings as little-endian float32 values with
 * id/dim/label headers, read back by the embedding-decode stage, which dead-letters what would
 * poison the index (bad lengths, NaN/Infinity, a dim or id header that disagrees) and lets the
 * rest through bit for bit. No broker here: the stage runs behind the replay source.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordIdOf } from '../../src/runtime/records/record-id.ts';
import { decodeEmbedding, encodeEmbedding } from '../../src/stages/scale-out/embedding-message.ts';
import { parseModelMessage } from '../../src/stages/scale-out/model-follower.ts';
import { runForTest, tempDir } from '../support/pipeline-harness.ts';

describe('embedding messages', () => {
  it('round-trips a vector exactly, little-endian, with id, dim and label headers', () => {
    const vector = Float32Array.from([0.1, -2.5, 3.4028234663852886e38, 1e-45, 0]);
    const message = encodeEmbedding('img-7', 123456789012345678n, vector, 3);
    expect(message.key).toBe('img-7');
    expect(message.headers).toEqual({ id: '123456789012345678', dim: '5', label: '3' });
    expect(message.value.readFloatLE(4)).toBe(-2.5);
    expect(decodeEmbedding(message.value, message.headers, 'x')).toEqual(vector);
    expect(encodeEmbedding('img-8', 1n, vector).headers).toEqual({ id: '1', dim: '5' });
  });

  it('rejects lengths that are not whole floats, a disagreeing dim header, and non-finite components', () => {
    expect(() => decodeEmbedding(new Uint8Array(7), {}, 'm@1')).toThrow(/TS_ERR_EMBEDDING_LENGTH: m@1: value is 7 bytes/);
    expect(() => decodeEmbedding(new Uint8Array(0), {}, 'm@1')).toThrow(/TS_ERR_EMBEDDING_LENGTH/);
    expect(() => decodeEmbedding(new Uint8Array(8), { dim: '3' }, 'm@1')).toThrow(/header dim says "3" but the value holds 2 floats/);
    const withNaN = encodeEmbedding('k', 1n, Float32Array.from([1, Number.NaN])).value;
    expect(() => decodeEmbedding(withNaN, {}, 'm@2')).toThrow(/TS_ERR_EMBEDDING_NON_FINITE: m@2: component 1 is NaN/);
  });

  it('accepts only published model versions from the models topic', () => {
    expect(parseModelMessage(Buffer.from(JSON.stringify({ version: 2, trainer: 'kmeans', publishedAt: 1, model: {} })), 'models/0@4').version).toBe(2);
    expect(() => parseModelMessage(Buffer.from('{"version":0}'), 'models/0@5')).toThrow(/TS_ERR_MODEL_MESSAGE: models\/0@5: .*found version 0/);
    expect(() => parseModelMessage(Buffer.from('not json'), 'models/0@6')).toThrow(/TS_ERR_MODEL_MESSAGE: models\/0@6: value is not JSON/);
  });
});

describe('embedding-decode stage', () => {
  it('passes good embeddings on with their labels and dead-letters the rest with a reason', async () => {
    const dir = await tempDir('embedding-decode-');
    const good = Float32Array.from([0.5, -1, 2]);
    const envelope = (id: string, value: Buffer, headers: Record<string, string>, label?: number) =>
      JSON.stringify({ id, image: value.toString('base64'), headers, ...(label !== undefined ? { label } : {}) });
    const ok = encodeEmbedding('ok', recordIdOf('ok'), good, 4);
    const lines = [
      envelope('ok', ok.value, ok.headers, 4),
      envelope('short', Buffer.alloc(10), {}),
      envelope('nan', encodeEmbedding('nan', recordIdOf('nan'), Float32Array.from([1, Number.NaN, 0])).value, {}),
      envelope('wrong-dim', encodeEmbedding('x', recordIdOf('x'), Float32Array.from([1, 2])).value, {}),
      envelope('wrong-id', ok.value, { ...ok.headers, id: '42' }),
    ];
    await writeFile(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    const { summary } = await runForTest(
      {
        name: 'embedding-decode-spec',
        source: { use: 'replay', with: { path: 'in.jsonl' } },
        stages: [{ use: 'embedding-decode', with: { dim: 3 } }],
        sink: { use: 'jsonl', with: { path: 'out.jsonl', includeEmbedding: true } },
        deadLetter: { use: 'dead-letter', with: { path: join(dir, 'dead.jsonl') } },
        state: { dir: join(dir, 'state') },
      },
      dir,
    );
    expect(summary).toMatchObject({ records: 5, written: 1, deadLettered: 4 });
    const [out] = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toMatchObject({ key: 'ok', id: recordIdOf('ok').toString(), label: 4, embedding: [0.5, -1, 2] });
    const dead = Object.fromEntries((await readFile(join(dir, 'dead.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).map((d) => [d.key, d.code]));
    expect(dead).toEqual({ short: 'TS_ERR_EMBEDDING_LENGTH', nan: 'TS_ERR_EMBEDDING_NON_FINITE', 'wrong-dim': 'TS_ERR_EMBEDDING_LENGTH', 'wrong-id': 'TS_ERR_EMBEDDING_ID' });
  });
});
