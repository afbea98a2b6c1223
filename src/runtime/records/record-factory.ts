import type { AckHandle, RecordMetadata, RecordPayload, StreamRecord } from '../contracts/record.ts';
import type { Clock, RecordFactory, RecordFactoryInput } from '../contracts/services.ts';
import type { InFlightLimiter } from '../flow/in-flight-limiter.ts';
import { recordIdOf } from './record-id.ts';

/** Creates records whose ack releases their in-flight slot and tells the source, exactly once. */
export class DefaultRecordFactory implements RecordFactory {
  constructor(private readonly limiter: InFlightLimiter, private readonly clock: Clock) {}

  create(input: RecordFactoryInput): StreamRecord {
    this.limiter.acquire();
    const metadata: RecordMetadata = {
      origin: input.origin,
      label: input.label,
      headers: input.headers ?? {},
      ingestedAt: this.clock.now(),
      producedAt: input.producedAt,
    };
    return new Record(input.id ?? recordIdOf(input.key), input.key, input.payload, metadata, new RecordAck(this.limiter, input.onAck));
  }
}

/**
 * Records and their acks are class instances rather than object literals with closures and a
 * getter: one shape for every record, and two small objects per record instead of five (one is
 * made for every message a source reads).
 */
class Record implements StreamRecord {
  constructor(
    readonly id: bigint,
    readonly key: string,
    public payload: RecordPayload,
    readonly metadata: RecordMetadata,
    readonly ack: AckHandle,
  ) {}
}

class RecordAck implements AckHandle {
  private done = false;

  constructor(private readonly limiter: InFlightLimiter, private readonly onAck: (() => void) | undefined) {}

  get acked(): boolean {
    return this.done;
  }

  ack(): void {
    if (this.done) return;
    this.done = true;
    this.limiter.release();
    this.onAck?.();
  }
}
