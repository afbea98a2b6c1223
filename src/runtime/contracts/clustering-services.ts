/**
 * Services shared by the clustering stages (index -> train -> assign -> evaluate), and by
 * third-party plugins that want to read models or query neighbours.
 */
import type { ClusterModel, TrainingSet } from './cluster-model.ts';
import { serviceRef } from './services.ts';

export interface PublishedModel {
  /** 1, 2, 3...: increases with every publication, also across restarts. */
  readonly version: number;
  readonly model: ClusterModel;
  readonly trainer: string;
  readonly publishedAt: number;
  /** Mean training loss of the round that produced it, when trained here. */
  readonly loss?: number;
  /** Records in the training window. */
  readonly trainedOn?: number;
}

export interface ModelRegistry {
  current(): PublishedModel | undefined;
  /** Publishes a new version and makes it current; listeners hear of it at once. */
  publish(model: ClusterModel, info: { loss?: number; trainedOn?: number }): Promise<PublishedModel>;
  /** Installs a version published elsewhere (another process), if newer than the current one. */
  adopt(published: PublishedModel): boolean;
  onPublish(listener: (published: PublishedModel) => void): () => void;
  /** Trainers say when a round runs, so a stage holding records for the first model knows whether one is coming. */
  roundStarted(): void;
  roundEnded(): void;
  readonly training: boolean;
  /** Resolves when no round is running. */
  whenIdle(): Promise<void>;
}

/** A version as it travels between processes or to disk. */
export interface SerializedPublishedModel {
  readonly version: number;
  readonly trainer: string;
  readonly publishedAt: number;
  readonly loss?: number;
  readonly trainedOn?: number;
  readonly model: unknown;
}

/** Minimal view of the vector index that other stages need. */
export interface NeighbourIndex {
  readonly size: number;
  /** Records added since the index started (not capped by capacity). */
  readonly added: number;
  search(vectors: Float32Array, count: number, k: number): Promise<{ keys: BigUint64Array; distances: Float32Array; counts: Uint32Array }>;
  trainingSet(k: number, options?: { maxRows?: number }): Promise<TrainingSet & { readonly keys: BigUint64Array }>;
}

export const clusteringServices = {
  modelRegistry: serviceRef<ModelRegistry>('modelRegistry'),
  vectorIndex: serviceRef<NeighbourIndex>('vectorIndex'),
} as const;
