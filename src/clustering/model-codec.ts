import { TemiError } from '../runtime/errors.ts';
import type { ClusterModel, SerializedClusterModel } from './contracts.ts';
import { deserializeKMeansModel } from './kmeans/index.ts';
import { deserializeMmdcModel } from './mmdc/index.ts';
import { LinearClusterModel } from './scan/index.ts';
import { deserializeTemiModel } from './temi/index.ts';
import { deserializePrototypeModel } from './window/index.ts';

const DECODERS: Record<string, (s: SerializedClusterModel) => ClusterModel> = {
  temi: deserializeTemiModel,
  kmeans: deserializeKMeansModel,
  scan: (s) => LinearClusterModel.deserialize(s),
  tsp: (s) => LinearClusterModel.deserialize(s),
  prototypes: deserializePrototypeModel,
  mmdc: deserializeMmdcModel,
};

/** Rebuilds a servable model from its serialized form, whichever trainer produced it. */
export function deserializeClusterModel(serialized: SerializedClusterModel, where: string): ClusterModel {
  const decode = DECODERS[serialized?.trainer];
  if (!decode) throw new TemiError('TS_ERR_MODEL_INVALID', `unknown model trainer ${JSON.stringify(serialized?.trainer)}; known: ${Object.keys(DECODERS).join(', ')}`, { where });
  return decode(serialized);
}
