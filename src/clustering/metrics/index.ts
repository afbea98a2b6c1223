export { ContingencyTable } from './contingency.ts';
export { clusteringAccuracy } from './accuracy.ts';
export { adjustedRandIndex } from './adjusted-rand.ts';
export { adjustedMutualInfo, mutualInformation, normalizedMutualInfo } from './mutual-information.ts';
export { expectedMutualInformation } from './expected-mutual-information.ts';
export { clusterSizeEntropy, meanConfidence, neighbourAgreement } from './health.ts';
