import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { decodeImage } from '../../../src/stages/decode/decode-image.ts';
import { resolveDecodeSpec } from '../../../src/stages/decode/decode-spec.ts';
import { fastDecode } from '../../../src/stages/decode/fast-decode.ts';
import { nativeDecode, nativeDecodeStatus } from '../../../src/stages/decode/native-decode.ts';
import { seededRandom } from '../../fuzz/hostile-inputs.ts';
import { expectPngFixedSetAsSharp, limits, noise, SHARP } from './decode-fixtures.ts';

// Where the native addon is not built (or turned off) the decode stage must give the same pixels:
// PNGs on the JavaScript fast path, JPEGs with sharp. The addon is read on first use, after this.
vi.stubEnv('TEMI_NATIVE_DECODE', 'off');
afterAll(() => vi.unstubAllEnvs());

describe('decode without the native addon (TEMI_NATIVE_DECODE=off)', () => {
  it('says why it is not in use', () => {
    expect(nativeDecode()).toBeUndefined();
    expect(nativeDecodeStatus()).toBe('JavaScript only, JPEGs with sharp: TEMI_NATIVE_DECODE=off');
  });

  it("gives sharp's pixels on the PNG fixed set with the JavaScript reduce", async () => {
    await expectPngFixedSetAsSharp();
  });

  it('leaves JPEGs to sharp, with the same pixels', async () => {
    const bytes = await sharp(noise(seededRandom(40), 64 * 48 * 3), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    const spec = resolveDecodeSpec({ preset: 'mobilenet-v2', size: 28 });
    expect(fastDecode(bytes, spec, limits.maxPixels)).toBeUndefined();
    expect((await decodeImage(bytes, spec, limits, 'k')).data).toEqual((await decodeImage(bytes, spec, limits, 'k', SHARP)).data);
  });
});
