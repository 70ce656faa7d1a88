/** `verify` as a task list. */
import type { VerifyEvent } from '../../operations/events.js';
import { commonProgress } from './pull.js';
import type { StepDef, StepUi } from './task-list.js';

const FILES = 'Read the release files (top layers only)';

export function verifySteps(): StepDef[] {
  return [
    { id: 'resolve', title: 'Resolve the image' },
    { id: 'manifest', title: 'Fetch the manifest' },
    { id: 'tags', title: 'List the repository\'s tags' },
    { id: 'config', title: 'Read the image config' },
    { id: 'files', title: FILES },
    { id: 'check', title: 'Check' },
  ];
}

/** The `files` step of the commands that read release files out of an image (verify, releases --image). */
export function releaseFilesProgress(ui: StepUi, e: { type: 'release-files-layer'; layer: number; layers: number } | { type: 'release-files'; layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number }): void {
  if (e.type === 'release-files-layer') ui.output('files', `layer ${e.layer + 1} of ${e.layers}`);
  else ui.done('files', `Read ${e.layersRead} of ${e.layersTotal} layers (${e.bytesRead} of ${e.bytesTotal} bytes)`);
}

export function verifyProgress(ui: StepUi): (e: VerifyEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'tags':
        ui.done('tags', `Listed ${e.count} tags of ${e.repository}`);
        break;
      case 'config':
        ui.done('config', `Config: ${e.architecture ?? 'no architecture'}`);
        break;
      case 'release-files-skipped':
        ui.skip('files', FILES);
        break;
      case 'release-files-layer':
      case 'release-files':
        releaseFilesProgress(ui, e);
        break;
      case 'checked':
        ui.done('check', e.ok ? 'All checks passed' : `${e.failed} check${e.failed === 1 ? '' : 's'} failed`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
