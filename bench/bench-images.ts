import sharp from 'sharp';

/**
 * Slow waves with a random phase: most of a JPEG's coefficients zero, as in a photo (random
 * noise, the benches' other input, is the worst case for a JPEG decoder: every coefficient set).
 */
export function photoLike(width: number, height: number, random: () => number = Math.random): sharp.Sharp {
  const phase = random() * 6;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = Math.round(128 + 100 * Math.sin(x / 11 + c + phase) * Math.cos(y / 17 - c * phase));
    }
  }
  return sharp(out, { raw: { width, height, channels: 3 } });
}
