/** `pull` (cache / OCI layout) as a task list: which steps, and what each event does to them. */
import type { PullEvent, CommonEvent } from '../../operations/events.js';
import { describeEvent } from '../../operations/client.js';
import type { StepDef, StepUi } from './task-list.js';
import { transferText } from './runner.js';

/** The gate's step, after the manifest in pull, unpack and extract-img when a policy is given. */
export const SIGNATURE_STEP: StepDef = { id: 'signature', title: 'Verify the signature' };

export function pullSteps(opts: { layout: boolean; signature?: boolean }): StepDef[] {
  return [
    { id: 'resolve', title: 'Resolve the image' },
    { id: 'manifest', title: 'Fetch the manifest' },
    ...(opts.signature === true ? [SIGNATURE_STEP] : []),
    { id: 'layers', title: 'Fetch layers' },
    { id: 'verify', title: 'Verify and record the image' },
    ...(opts.layout ? [{ id: 'layout', title: 'Write the OCI layout' }] : []),
  ];
}

export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** What resolve/manifest/registry/warning events do, the same for every image command. */
export function commonProgress(ui: StepUi, e: CommonEvent, opts: { manifestStep?: string } = {}): void {
  switch (e.type) {
    case 'resolved':
      ui.done('resolve', `Resolved ${e.reference}${e.source === 'cache' ? ' (cache)' : ''}`);
      break;
    case 'manifest':
      ui.done(opts.manifestStep ?? 'manifest', e.fromCache
        ? `Manifest ${e.digest.slice(0, 19)}… from the cache`
        : `Manifest ${e.digest.slice(0, 19)}… (${e.layers} layers${e.platform === undefined ? '' : `, ${e.platform}`})`);
      break;
    case 'registry':
      ui.log(describeEvent(e.event));
      break;
    case 'log':
      ui.log(e.message);
      break;
    case 'warning':
      ui.warn(e.message);
      break;
    case 'signature-checked':
      // A failed check throws right after: the step then fails with the operation's error.
      if (e.verified) ui.done('signature', `Signature verified: ${e.identity ?? e.policy}`);
      else ui.title('signature', `No signature satisfies ${e.policy} (${e.found} found)`);
      break;
  }
}

export function pullProgress(ui: StepUi): (e: PullEvent) => void {
  const started = Date.now();
  const layers = new Set<string>();
  return (e) => {
    switch (e.type) {
      case 'layers':
        for (const l of e.layers) layers.add(l.digest);
        ui.items('layers', e.layers.map((l, i) => ({ id: l.digest, title: `Layer ${i + 1}/${e.layers.length} ${l.digest.slice(7, 19)} (${mib(l.size)} MiB)` })));
        break;
      case 'transfer':
        ui.itemOutput('layers', e.digest, transferText(e.bytes, e.total, started));
        break;
      case 'layer-done':
        if (!layers.has(e.digest)) break; // the config blob: not a layer of the list
        ui.itemDone('layers', e.digest, e.cached ? ' cached' : undefined);
        break;
      case 'blob-retry':
        ui.log(`retrying ${e.digest.slice(0, 19)}: ${e.reason}`);
        break;
      case 'verified':
        ui.done('layers');
        ui.done('verify', `Verified: ${e.fetched} blobs fetched, ${e.cached} already cached`);
        break;
      case 'layout':
        ui.done('layout', `Wrote oci:${e.dir}:${e.tag}${e.converted ? ' (converted to OCI media types)' : ''}`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
