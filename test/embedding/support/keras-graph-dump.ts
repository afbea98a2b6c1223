/**
 * Writes a TF.js LayersModel's graph, up to one layer, as JSON (layers in topological order:
 * class, config, inbound layer names, weight shapes and offsets) plus one float32 file of all its
 * weights, for fixtures/keras_graph_to_onnx.py to rebuild in PyTorch with the same weights.
 */
import { writeFile } from 'node:fs/promises';
import type { tf } from '../../../src/tf/tf.ts';

interface InboundNode {
  readonly inboundLayers: readonly { readonly name: string }[];
}

export async function dumpKerasGraph(model: tf.LayersModel, outputLayer: string, graphPath: string, weightsPath: string): Promise<void> {
  const layers: unknown[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const layer of model.layers) {
    const weights = [];
    for (const w of layer.getWeights()) {
      const data = w.dataSync() as Float32Array;
      weights.push({ shape: w.shape, offset });
      chunks.push(data);
      offset += data.length;
    }
    const inbound = ((layer as unknown as { inboundNodes: InboundNode[] }).inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name);
    layers.push({ name: layer.name, className: layer.getClassName(), config: layer.getConfig(), inbound, weights });
    if (layer.name === outputLayer) break;
  }
  const blob = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.length;
  }
  await writeFile(graphPath, JSON.stringify({ output: outputLayer, layers }));
  await writeFile(weightsPath, new Uint8Array(blob.buffer));
}
