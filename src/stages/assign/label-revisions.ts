import { Observable, type OperatorFunction } from 'rxjs';
import { type Counter, type FlowControl, type Logger, type ModelRegistry, type PublishedModel, type RecordFactory, type StreamRecord, errorCode, reasonOf } from '../../runtime/contracts/index.ts';
import { assignEmbeddings } from './assign-with-model.ts';
import { LabelledWindow, type WindowEntry } from './labelled-window.ts';
import type { RevisionPacer } from './revision-pacer.ts';

export interface RevisionSettings {
  /** Revise on every newly published version while records stream. */
  readonly live: boolean;
  /** When the input completes (not stopped by a signal), bring the window to the final model before completing. */
  readonly finalPass: boolean;
  /** Labelled records kept for revision. */
  readonly window: number;
  /** Records checked (and revisions emitted) per step. */
  readonly batchSize: number;
}

export interface RevisionDeps {
  readonly registry: Pick<ModelRegistry, 'current' | 'onPublish'>;
  readonly records: RecordFactory;
  readonly flow: Pick<FlowControl, 'whenReady'>;
  readonly logger: Logger;
  /** Aborted when a stop is requested: passes give up and the final one is skipped. */
  readonly stopping: AbortSignal;
  /** Paces live revisions; the final pass runs unpaced, within the in-flight bound only. */
  readonly pacer: RevisionPacer;
  readonly revised: Counter;
}

/**
 * Labels as they leave assign, followed by revisions: after each newly published model, the
 * records still in the window are re-assigned (oldest first, in batches) and those whose cluster
 * changed are emitted again with the same id and key, the new modelVersion and what downstream
 * held before. Revisions are created through the records service, so they count against the
 * in-flight bound and are acknowledged by the sink like any record (they carry no source position
 * and hold back no commit). When the input completes, a last pass with the final model runs
 * before the output completes.
 *
 * modelVersion never goes backwards for an id: a first label is emitted before its record enters
 * the window, a pass revises only entries checked against an older version than its own, and a
 * pass gives way as soon as a newer version is published.
 */
export function withRevisions(settings: RevisionSettings, deps: RevisionDeps): OperatorFunction<StreamRecord, StreamRecord> {
  if (!settings.live && !settings.finalPass) return (source) => source;
  return (source) =>
    new Observable<StreamRecord>((subscriber) => {
      const window = new LabelledWindow(settings.window);
      const revisions = new RevisionPasses(window, settings, deps, (r) => subscriber.next(r));
      const unsubscribe = settings.live ? deps.registry.onPublish(() => revisions.schedule()) : () => {};
      const sub = source.subscribe({
        next(record) {
          subscriber.next(record);
          window.remember(record);
        },
        error(e) {
          revisions.close();
          subscriber.error(e);
        },
        complete() {
          unsubscribe();
          revisions.finish(settings.finalPass).then(
            () => subscriber.complete(),
            (e: unknown) => subscriber.error(e),
          );
        },
      });
      return () => {
        revisions.close();
        unsubscribe();
        sub.unsubscribe();
      };
    });
}

/** One pass at a time over the window; a version published meanwhile starts another after it. */
class RevisionPasses {
  private wanted = false;
  private closed = false;
  private paced = true;
  private running: Promise<void> | undefined;

  constructor(
    private readonly window: LabelledWindow,
    private readonly settings: RevisionSettings,
    private readonly deps: RevisionDeps,
    private readonly emit: (record: StreamRecord) => void,
  ) {}

  schedule(): void {
    // Not once stopping either: a loop that ends at once because of the stop leaves `wanted` set,
    // and its end would schedule the next one, a chain of microtasks that starves the event loop.
    if (this.stopped) return;
    this.wanted = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      // A version published between the loop's last check and here.
      if (this.wanted) this.schedule();
    });
  }

  /** The input completed: one last pass with the final model (unless `final` is off or a stop was requested), then done. */
  async finish(final: boolean): Promise<void> {
    this.paced = false;
    if (final && !this.deps.stopping.aborted) this.schedule();
    else this.close();
    while (this.running) await this.running;
    this.closed = true;
  }

  close(): void {
    this.closed = true;
    this.wanted = false;
  }

  private get stopped(): boolean {
    return this.closed || this.deps.stopping.aborted;
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const published = this.deps.registry.current();
      if (!published) return;
      const finalPass = !this.paced;
      try {
        const { checked, revised } = await this.pass(published);
        if (revised > 0 || finalPass) this.deps.logger.info(finalPass ? 'final label revision pass' : 'labels revised', { version: published.version, checked, revised, window: this.window.size });
      } catch (error) {
        // Labels already delivered stay as they are; the next version tries again.
        this.deps.logger.error('label revision pass failed; delivered labels stay as they are', { version: published.version, code: errorCode(error), reason: reasonOf(error) });
      }
    }
  }

  private async pass(published: PublishedModel): Promise<{ checked: number; revised: number }> {
    let checked = 0;
    let revised = 0;
    // Let labels chosen under the previous version and not yet emitted (a batch between labelling
    // and emission) reach the window first; the live iteration then visits them.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const chunk of this.window.staleChunks(published.version, this.settings.batchSize)) {
      await this.deps.flow.whenReady();
      if (this.stopped) break;
      if ((this.deps.registry.current()?.version ?? 0) > published.version) {
        // A newer version supersedes this one (and the registry releases older models): start over with it.
        this.wanted = true;
        break;
      }
      const live = chunk.filter((e) => this.window.holds(e) && e.checkedVersion < published.version);
      const out = this.revise(published, live);
      checked += live.length;
      revised += out.length;
      for (const r of out) this.emit(r);
      this.deps.revised.inc({}, out.length);
      if (this.paced && out.length > 0) await this.deps.pacer.take(out.length);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { checked, revised };
  }

  /** Re-assigns `entries` with `published` and returns a revision record for each whose cluster changed. */
  private revise(published: PublishedModel, entries: WindowEntry[]): StreamRecord[] {
    const usable = entries.filter((e) => e.embedding.length === published.model.dim);
    const { cluster, confidence } =
      usable.length > 0
        ? assignEmbeddings(
            published,
            usable.map((e) => e.embedding),
            (i) => usable[i].key,
          )
        : { cluster: new Int32Array(0), confidence: new Float32Array(0) };
    // Marked only once assigned: a pass that throws leaves them to the next version.
    for (const e of entries) e.checkedVersion = published.version;
    const out: StreamRecord[] = [];
    usable.forEach((e, i) => {
      if (cluster[i] === e.cluster) return;
      const { metadata } = e;
      out.push(
        this.deps.records.create({
          id: e.id,
          key: e.key,
          payload: {
            embedding: e.embedding,
            assignment: { cluster: cluster[i], confidence: confidence[i], modelVersion: published.version, revision: { previousCluster: e.cluster, previousModelVersion: e.modelVersion } },
          },
          origin: metadata.origin,
          label: metadata.label,
          headers: metadata.headers,
          producedAt: metadata.producedAt,
        }),
      );
      e.cluster = cluster[i];
      e.modelVersion = published.version;
    });
    return out;
  }
}
