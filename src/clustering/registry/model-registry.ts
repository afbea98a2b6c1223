import type { ModelRegistry, PublishedModel, SerializedPublishedModel } from '../../runtime/contracts/clustering-services.ts';
import type { Clock, Logger, StateStore } from '../../runtime/contracts/services.ts';
import { deserializeClusterModel } from '../model-codec.ts';

const LATEST = 'models/latest.json';

/**
 * Versioned models of one pipeline. The newest version is persisted (atomically) under the state
 * directory when published, so a restart serves the last model at once and keeps counting
 * versions from there.
 */
export class PersistentModelRegistry implements ModelRegistry {
  private latest: PublishedModel | undefined;
  private readonly listeners = new Set<(p: PublishedModel) => void>();
  private rounds = 0;
  private idleWaiters: Array<() => void> = [];
  private publishing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  current(): PublishedModel | undefined {
    return this.latest;
  }

  async publish(model: PublishedModel['model'], info: { loss?: number; trainedOn?: number }): Promise<PublishedModel> {
    // One at a time: the bootstrap and a training round can publish together, and the version is
    // taken before the write's await, so both took version 1 (two models' labels under one version).
    const next = this.publishing.then(() => this.publishNow(model, info));
    this.publishing = next.catch(() => undefined);
    return next;
  }

  private async publishNow(model: PublishedModel['model'], info: { loss?: number; trainedOn?: number }): Promise<PublishedModel> {
    const published: PublishedModel = { version: (this.latest?.version ?? 0) + 1, model, trainer: model.trainer, publishedAt: this.clock.now(), ...info };
    await this.state.writeJson(LATEST, serializePublished(published));
    this.install(published);
    this.logger.info('model published', { version: published.version, trainer: published.trainer, loss: published.loss, trainedOn: published.trainedOn });
    return published;
  }

  adopt(published: PublishedModel): boolean {
    if (this.latest && published.version <= this.latest.version) return false;
    this.install(published);
    this.logger.info('model adopted', { version: published.version, trainer: published.trainer });
    return true;
  }

  onPublish(listener: (p: PublishedModel) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  roundStarted(): void {
    this.rounds++;
  }

  roundEnded(): void {
    this.rounds = Math.max(0, this.rounds - 1);
    if (this.rounds > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  get training(): boolean {
    return this.rounds > 0;
  }

  whenIdle(): Promise<void> {
    if (this.rounds === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Loads the persisted latest version, if any (called once at start). `beforeTensors` runs only
   * when there is a model to rebuild, before its tensors are made.
   */
  async load(beforeTensors?: () => Promise<unknown>): Promise<PublishedModel | undefined> {
    const stored = await this.state.readJson<SerializedPublishedModel>(LATEST);
    if (!stored) return undefined;
    await beforeTensors?.();
    const published = deserializePublished(stored, this.state.path(LATEST));
    this.install(published);
    this.logger.info('model restored', { version: published.version, trainer: published.trainer });
    return published;
  }

  private install(published: PublishedModel): void {
    const previous = this.latest;
    this.latest = published;
    for (const l of this.listeners) l(published);
    // Assignments in flight may still hold the previous model for one batch; release it after.
    if (previous && previous.model !== published.model) setTimeout(() => previous.model.dispose(), 1000).unref();
  }
}

export function serializePublished(p: PublishedModel): SerializedPublishedModel {
  return { version: p.version, trainer: p.trainer, publishedAt: p.publishedAt, loss: p.loss, trainedOn: p.trainedOn, model: p.model.serialize() };
}

export function deserializePublished(s: SerializedPublishedModel, where: string): PublishedModel {
  return { version: s.version, trainer: s.trainer, publishedAt: s.publishedAt, loss: s.loss, trainedOn: s.trainedOn, model: deserializeClusterModel(s.model as never, where) };
}
