/** `extract-img` as a task list. */
import type { ExtractImgEvent } from '../../operations/events.js';
import { commonProgress, SIGNATURE_STEP } from './pull.js';
import { transferText } from './runner.js';
import type { StepDef, StepUi } from './task-list.js';

export function extractImgSteps(via: 'native' | 'luet', opts: { signature?: boolean } = {}): StepDef[] {
  return [
    { id: 'resolve', title: 'Resolve the artifact' },
    { id: 'manifest', title: 'Fetch the manifest' },
    ...(opts.signature === true ? [SIGNATURE_STEP] : []),
    { id: 'extract', title: via === 'luet' ? 'Unpack with luet and verify' : 'Extract and verify' },
  ];
}

export function extractImgProgress(ui: StepUi): (e: ExtractImgEvent) => void {
  let started = Date.now();
  return (e) => {
    switch (e.type) {
      case 'manifest':
        ui.done('manifest', `Manifest ${e.digest.slice(0, 19)}… (${e.layers} layer${e.layers === 1 ? '' : 's'}, ${(e.size / 1048576).toFixed(1)} MiB)`);
        break;
      case 'extract-start':
        started = Date.now();
        break;
      case 'extract-progress':
        ui.output('extract', transferText(e.bytes, e.total, started));
        break;
      case 'extracted':
        ui.flush('extract');
        ui.done('extract', `Wrote ${e.files} files (${e.verified}/${e.images} disk images verified) in ${e.seconds.toFixed(1)} s`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
