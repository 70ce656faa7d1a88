/** `signature verify` and `sbom` as task lists, and the signature step the gated commands add. */
import type { SbomEvent, SignatureEvent } from '../../operations/events.js';
import { commonProgress, SIGNATURE_STEP } from './pull.js';
import type { StepDef, StepUi } from './task-list.js';

export function signatureSteps(): StepDef[] {
  return [{ id: 'resolve', title: 'Resolve the image' }, { id: 'manifest', title: 'Fetch the manifest' }, SIGNATURE_STEP];
}

export function signatureProgress(ui: StepUi): (e: SignatureEvent) => void {
  return (e) => {
    // The verdict is data here (exit 3 from the command), not a failure of the step.
    if (e.type === 'signature-checked' && !e.verified) ui.skip('signature', `No signature satisfies ${e.policy} (${e.found} found)`);
    else commonProgress(ui, e);
  };
}

export function sbomSteps(): StepDef[] {
  return [{ id: 'resolve', title: 'Resolve the image' }, { id: 'manifest', title: 'Fetch the manifest' }, { id: 'attachments', title: 'Find SBOMs and attestations' }];
}

export function sbomProgress(ui: StepUi): (e: SbomEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'attachments':
        ui.done('attachments', `Found ${e.found} SBOM${e.found === 1 ? '' : 's'} and attestations`);
        break;
      case 'attachment-saved':
        ui.log(`saved ${e.digest.slice(0, 19)}… to ${e.path} (${e.size} bytes)`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
