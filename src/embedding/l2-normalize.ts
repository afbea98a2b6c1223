/**
 * Scales a vector to unit length in place, so cosine similarity downstream is a plain dot product.
 * An all-zero vector (a blank image through a ReLU network can give one) is left as it is rather
 * than turned into NaNs that would poison the index.
 */
export function l2NormalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  if (sum === 0 || !Number.isFinite(sum)) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] *= scale;
  return vector;
}
