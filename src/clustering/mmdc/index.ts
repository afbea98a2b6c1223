export { MmdcTrainer, type MmdcEpochLosses } from './mmdc-trainer.ts';
export { MmdcModel, deserializeMmdcModel, MMDC_TRAINER_NAME, type MmdcModelWeights } from './mmdc-model.ts';
export { type MmdcConfig, type MmdcOptions, resolveMmdcConfig, resolveImageShape, DEFAULT_MMDC_CONFIG } from './mmdc-config.ts';
export { type MmdcDraws, SEEDED_MMDC_DRAWS } from './mmdc-draws.ts';
export type { MmdcTrainerSnapshot } from './trainer-snapshot.ts';
export type { ViewParameters } from './augment.ts';
