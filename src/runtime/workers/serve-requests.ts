import { parentPort, type TransferListItem } from 'node:worker_threads';
import { serializeError, type WorkerEvent, type WorkerResponse } from './worker-messages.ts';

export interface Handled {
  readonly result: unknown;
  readonly transfer?: readonly TransferListItem[];
}

/**
 * The worker side of WorkerClient: answers the handshake (request 0) once `boot` has run, then
 * answers each request with what `handle` returns or throws. Requests are handled as they arrive;
 * an async handler lets later messages (an abort, a snapshot) in while it waits.
 */
export function serveRequests<Request extends { readonly id: number }>(
  boot: () => unknown | Promise<unknown>,
  handle: (request: Request) => Handled | Promise<Handled>,
  /** Messages sent with WorkerClient.notify (no id, no answer), handled at once. */
  notice: (message: unknown) => void = () => {},
): void {
  const port = parentPort!;
  const answer = async (id: number, work: () => Handled | Promise<Handled>): Promise<void> => {
    let response: WorkerResponse;
    let transfer: readonly TransferListItem[] = [];
    try {
      const handled = await work();
      response = { id, ok: true, result: handled.result };
      transfer = handled.transfer ?? [];
    } catch (error) {
      response = { id, ok: false, error: serializeError(error) };
    }
    port.postMessage(response, transfer);
  };
  const booted = answer(0, async () => ({ result: await boot() }));
  port.on('message', (message: Request) => {
    if (typeof message?.id !== 'number') notice(message);
    else void booted.then(() => answer(message.id, () => handle(message)));
  });
}

/** Sends an event (no reply expected) to the owning thread. */
export function emitEvent(event: string, payload: unknown): void {
  parentPort!.postMessage({ event, payload } satisfies WorkerEvent);
}
