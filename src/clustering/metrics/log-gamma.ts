/**
 * Natural log of the gamma function for x > 0, accurate to a few ulps: the expected mutual
 * information sums exp() of differences of log-factorials of the sample count, so errors here
 * are amplified by the size of those terms. Arguments below 15 are shifted up with the recurrence
 * Gamma(x + 1) = x Gamma(x), then Stirling's series is summed to the x^-13 term (error < 1e-17).
 */
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
// Coefficients B_2k / (2k (2k - 1)) of Stirling's series, k = 1..7.
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];

export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x === 1 || x === 2) return 0;
  let shift = 0;
  let product = 1;
  while (x < 15) {
    product *= x;
    x += 1;
    // Keep the running product far from overflow; only happens for tiny x.
    if (product > 1e250) {
      shift += Math.log(product);
      product = 1;
    }
  }
  shift += Math.log(product);
  const inverse = 1 / x;
  const inverseSquared = inverse * inverse;
  let series = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) series = series * inverseSquared + STIRLING[k];
  series *= inverse;
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series - shift;
}
