/**
 * Export ahead (creator only): a buildpack's layers are exported as soon as its `bin/build` has ended, while
 * the buildpacks after it build, instead of all at once after the last one. For a Node.js app, node-engine's
 * layers (node and npm, ~100 MB to hash and tar) are written while `npm ci` runs.
 *
 * Sound only where a finished buildpack's layer folders cannot change again. The bubblewrap sandbox gives that:
 * each `bin/build` sees `<layers>` read-only except its own folder, and every process it started dies with
 * its pid namespace when it exits. The lifecycle itself touches a finished buildpack's folder no more (the
 * builder renames ignored layers before it reports the buildpack built). So the outcome computed early is the
 * outcome the exporter would compute (layer-export.ts's contract), and the image and the cache are the same
 * bytes either way. The host executor confines nothing: the creator does not export ahead with it.
 *
 * One layer at a time, in group order, so that a core stays with the building buildpack. Once the exporter
 * takes over (`stop`), no further layer is started here; those go to its own lanes.
 */
import type { BuiltBuildpack } from './build-result.js';
import { exportLayer, type LayerExportContext, type LayerJob, layerJobs, type LayerOutcome } from './layer-export.js';

export class ExportAhead {
  readonly #ctx: LayerExportContext;
  readonly #queue: LayerJob[] = [];
  readonly #started = new Map<string, Promise<LayerOutcome>>();
  /** Settles when the layer being written is done (failed or not); undefined when none is. */
  #writing: Promise<void> | undefined;
  #stopped = false;
  #files = 0;

  constructor(ctx: LayerExportContext) {
    this.#ctx = ctx;
  }

  /** Queues the launch and cache layers of a buildpack whose build has ended (its outputs read and checked). */
  built(bp: BuiltBuildpack): void {
    this.#queue.push(...layerJobs(this.#ctx, bp, () => `ahead-${this.#files++}`));
    this.#next();
  }

  /** Starts no further layer. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * The outcome of a layer exported (or being exported) ahead; undefined when it was not started, and the
   * exporter must do it. A failure is the exporter's to report: it rejects here.
   */
  take(buildpackId: string, layer: string): Promise<LayerOutcome> | undefined {
    return this.#started.get(key(buildpackId, layer));
  }

  /** Layers started ahead. */
  get started(): number {
    return this.#started.size;
  }

  /** Stops, and waits until no layer is being written (their failures are `take`'s to report, or nobody's). */
  async settle(): Promise<void> {
    this.stop();
    while (this.#writing) await this.#writing;
  }

  #next(): void {
    if (this.#writing || this.#stopped) return;
    const job = this.#queue.shift();
    if (!job) return;
    const outcome = exportLayer(this.#ctx, job);
    this.#started.set(key(job.bp.id, job.layer.name), outcome);
    // Handled here, so a failure is never an unhandled rejection; `take` gives it to the exporter.
    this.#writing = outcome.then(() => undefined, () => undefined).then(() => {
      this.#writing = undefined;
      this.#next();
    });
  }
}

function key(buildpackId: string, layer: string): string {
  return `${buildpackId}\0${layer}`;
}
