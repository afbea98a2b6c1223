export { knnAgreement } from './knn-agreement.ts';
export { PrototypeModel, deserializePrototypeModel } from './prototype-model.ts';
export { clusterWindow, prototypesFor, WINDOW_DEFAULTS, type WindowClustering, type WindowClusteringOptions } from './window-clustering.ts';
export { chooseRoundModel, windowKMeans, type RoundCandidate, type RoundChoice, type RoundChoiceOptions, type RoundChooser } from './round-choice.ts';
export { ROUND_CHOICE_ABORTED } from './choice-pause.ts';
