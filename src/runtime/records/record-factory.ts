import type { AckHandle, StreamRecord } from '../contracts/record.ts';
import type { Clock, RecordFactory, RecordFactoryInput } from '../contracts/services.ts';
import type { InFlightLimiter } from '../flow/in-flight-limiter.ts';
import { recordIdOf } from './record-id.ts';

/** Creates records whose ack releases their in-flight slot and tells the source, exactly once. */
export class DefaultRecordFactory implements RecordFactory {
  constructor(private readonly limiter: InFlightLimiter, private readonly clock: Clock) {}

  create(input: RecordFactoryInput): StreamRecord {
    this.limiter.acquire();
    const limiter = this.limiter;
    let acked = false;
    const ack: AckHandle = {
      ack() {
        if (acked) return;
        acked = true;
        limiter.release();
        input.onAck?.();
      },
      get acked() {
        return acked;
      },
    };
    return {
      id: input.id ?? recordIdOf(input.key),
      key: input.key,
      payload: input.payload,
      metadata: {
        origin: input.origin,
        label: input.label,
        headers: input.headers ?? {},
        ingestedAt: this.clock.now(),
        producedAt: input.producedAt,
      },
      ack,
    };
  }
}
