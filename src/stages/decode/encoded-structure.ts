/**
 * Structural checks on encoded bytes, used to say WHY a decode failed. libvips reports errors
 * through a buffer shared between its threads, so under concurrency the message sharp passes on
 * can be another image's, or just "Unknown error"; the bytes themselves are a reliable witness.
 */
export type SniffedFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  return undefined;
}

/**
 * What is missing from the end of the data, when it visibly ends early: the JPEG end-of-image
 * marker, PNG's IEND chunk, the length a WebP RIFF header declares, GIF's trailer. Undefined when
 * the end looks complete or the format is not one we can check.
 */
export function missingEnd(bytes: Uint8Array): string | undefined {
  switch (sniffFormat(bytes)) {
    case 'jpeg': {
      const end = lastMeaningfulByte(bytes);
      return end >= 1 && bytes[end - 1] === 0xff && bytes[end] === 0xd9 ? undefined : 'the JPEG end-of-image marker (FF D9)';
    }
    case 'png': {
      const end = lastMeaningfulByte(bytes) + 1;
      return end >= 12 && ascii(bytes, end - 8, 4) === 'IEND' ? undefined : 'the PNG IEND chunk';
    }
    case 'webp': {
      const declared = 8 + (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0;
      return bytes.length >= declared ? undefined : `${declared - bytes.length} of the ${declared} bytes the WebP header declares`;
    }
    case 'gif':
      return bytes[lastMeaningfulByte(bytes)] === 0x3b ? undefined : 'the GIF trailer (3B)';
    default:
      return undefined;
  }
}

/** Index of the last byte that is not zero padding (some writers pad files to a block size). */
function lastMeaningfulByte(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  while (i > 0 && bytes[i] === 0) i--;
  return i;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}
