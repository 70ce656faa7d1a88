/** `mirror` as a task list: plan, then one line per image and its bytes while it copies. */
import type { MirrorEvent } from '../../operations/mirror.js';
import { commonProgress, mib } from './pull.js';
import type { StepDef, StepUi } from './task-list.js';

export function mirrorSteps(opts: { dryRun: boolean }): StepDef[] {
  return [
    { id: 'plan', title: 'Find the images to mirror' },
    { id: 'copy', title: opts.dryRun ? 'Check what the destination lacks' : 'Copy blobs and manifests' },
  ];
}

export function mirrorProgress(ui: StepUi): (e: MirrorEvent) => void {
  let images = 0;
  let current = '';
  let done = 0;
  return (e) => {
    switch (e.type) {
      case 'mirror-plan':
        images = e.images.length;
        ui.done('plan', `Found ${images} image${images === 1 ? '' : 's'} to mirror`);
        break;
      case 'mirror-image':
        current = `${e.index + 1}/${Math.max(images, e.index + 1)} ${e.destination}`;
        ui.output('copy', `${current} · ${e.blobs} blobs, ${mib(e.size)} MiB`);
        break;
      case 'transfer':
        ui.output('copy', `${current} · ${e.digest.slice(7, 19)} ${mib(e.bytes)} / ${mib(e.total)} MiB`);
        break;
      case 'mirror-image-done':
        done++;
        ui.log(`${current}: ${e.upToDate ? 'up to date' : 'copied'} (${e.digest})`);
        ui.title('copy', `Mirrored ${done} image${done === 1 ? '' : 's'}`);
        break;
      case 'mirror-blob':
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
