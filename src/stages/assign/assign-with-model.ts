import { type PublishedModel, type StreamRecord, TemiError } from '../../runtime/contracts/index.ts';

/** Clusters and confidences of `embeddings` under one model version, checked row by row. */
export function assignEmbeddings(published: PublishedModel, embeddings: readonly Float32Array[], whereOf: (row: number) => string): { cluster: Int32Array; confidence: Float32Array } {
  const dim = published.model.dim;
  const matrix = new Float32Array(embeddings.length * dim);
  embeddings.forEach((e, i) => {
    if (e.length !== dim) throw new TemiError('TS_ERR_ASSIGN_DIMENSION', `embedding has ${e.length} dimensions, model version ${published.version} expects ${dim}`, { where: whereOf(i) });
    matrix.set(e, i * dim);
  });
  const { cluster, confidence } = published.model.assign(matrix, embeddings.length);
  confidence.forEach((c, i) => {
    if (!Number.isFinite(c)) throw new TemiError('TS_ERR_ASSIGN_NON_FINITE', 'the model produced a non-finite confidence (NaN/Inf in the embedding?)', { where: whereOf(i) });
  });
  return { cluster, confidence };
}

/** Labels records with one model version; a record without a usable embedding throws (perBatch then dead-letters it alone). */
export function assignWith(published: PublishedModel, records: StreamRecord[]): void {
  const embeddings = records.map((r) => {
    const e = r.payload.embedding;
    if (!e) throw new TemiError('TS_ERR_ASSIGN_NO_EMBEDDING', 'record has no embedding (put an embed stage before assign)', { where: r.key });
    return e;
  });
  const { cluster, confidence } = assignEmbeddings(published, embeddings, (i) => records[i].key);
  records.forEach((r, i) => {
    r.payload.assignment = { cluster: cluster[i], confidence: confidence[i], modelVersion: published.version };
  });
}
