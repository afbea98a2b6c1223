export { createScanTrainer, SCAN_DEFAULTS, type ScanOptions } from './scan-trainer.ts';
export { LinearClusterModel } from './linear-cluster-model.ts';
export { LinearHeadTrainer } from './linear-head-trainer.ts';
export { scanHeadLosses } from './scan-loss.ts';
