import type { Clock } from '../contracts/services.ts';

export const systemClock: Clock = { now: () => Date.now() };
