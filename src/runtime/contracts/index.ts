/** The public contract third-party plugins depend on. Nothing here imports an implementation. */
export type * from './record.ts';
export type * from './plugin.ts';
export type * from './pipeline-flow.ts';
export type * from './cluster-model.ts';
export type { ModelRegistry, PublishedModel, SerializedPublishedModel, NeighbourIndex } from './clustering-services.ts';
export { clusteringServices } from './clustering-services.ts';
export type { Logger, LogFields, Metrics, Counter, Gauge, Histogram, Clock, DeadLetters, StateStore, FlowControl, RecordFactory, RecordFactoryInput, PipelineInfo, Progress, ProgressCounter, ProgressStatus, PixelBuffers, ServiceRef } from './services.ts';
export { services, serviceRef } from './services.ts';
export { serviceFactory, type ServiceFactory, type ServiceFactoryDefinition } from './service-factory.ts';
export { definePlugin } from './plugin.ts';
export { s, Schema, type Infer, type InferShape, type Annotations, type ValidationIssue, type JsonSchema } from '../schema/schema.ts';
export { TemiError, isTemiError, reasonOf, errorCode } from '../errors.ts';
