import { workerData } from 'node:worker_threads';
import { serveRequests } from '../../../runtime/operators/index.ts';
import { DecodeScratch, fastDecode } from '../fast-decode.ts';
import { nativeDecodeStatus } from '../native-decode.ts';
import { normalisePixels } from '../normalise-pixels.ts';
import type { DecodeAnswer, DecodeRequest, DecodeWorkerBoot, DecodeWorkerReady } from './decode-worker-protocol.ts';

/**
 * One of the decode stage's threads: the fast path (libjpeg-turbo and the native reduce, or the
 * JavaScript PNG decoder) and the normalisation, the same calls the pipeline's thread makes, so a
 * machine with cores to spare decodes several images at once.
 */

const boot = workerData as DecodeWorkerBoot;
const scratch = new DecodeScratch();

serveRequests<DecodeRequest>(
  (): DecodeWorkerReady => ({ fastPath: nativeDecodeStatus() }),
  (request) => {
    const raw = fastDecode(request.bytes, boot.spec, boot.maxPixels, boot.formats, scratch);
    // Written into the shared buffer: nothing changes hands, so no new backing store on either thread.
    const answer: DecodeAnswer = raw ? normalisePixels(raw, boot.spec, request.into) : null;
    return { result: answer };
  },
);
