export { TemiTrainer } from './temi-trainer.ts';
export { TemiModel, deserializeTemiModel, TEMI_TRAINER_NAME } from './temi-model.ts';
export { type TemiConfig, DEFAULT_TEMI_CONFIG, resolveTemiConfig } from './temi-config.ts';
export type { TemiTrainerSnapshot } from './trainer-snapshot.ts';
export { temiTrainingFlops } from './training-flops.ts';
