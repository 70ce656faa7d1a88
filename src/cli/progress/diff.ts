/** `diff` (and `releases --diff`) as task lists. */
import type { DiffEvent } from '../../operations/events.js';
import { commonProgress } from './pull.js';
import type { StepDef, StepUi } from './task-list.js';

export function diffSteps(): StepDef[] {
  return [
    { id: 'a', title: 'Read the first image (top layers only)' },
    { id: 'b', title: 'Read the second image (top layers only)' },
    { id: 'diff', title: 'Compare' },
  ];
}

/** What the diff events do to the steps `a`, `b` and `diff`. */
export function diffEventProgress(ui: StepUi, e: DiffEvent): boolean {
  switch (e.type) {
    case 'diff-layer':
      ui.output(e.image, `layer ${e.layer + 1} of ${e.layers}`);
      return true;
    case 'diff-read':
      ui.done(e.image, `${e.reference}: read ${e.layersRead} of ${e.layersTotal} layers (${e.bytesRead} of ${e.bytesTotal} bytes)`);
      return true;
    case 'diffed':
      ui.done('diff', `${e.changes} release, os-release and kernel changes`);
      return true;
    default:
      return false;
  }
}

export function diffProgress(ui: StepUi): (e: DiffEvent) => void {
  return (e) => {
    if (e.type === 'diff-layer' || e.type === 'diff-read' || e.type === 'diffed') {
      diffEventProgress(ui, e);
      return;
    }
    if (e.type === 'resolved' || e.type === 'manifest') return; // two images: the step titles say which
    commonProgress(ui, e);
  };
}
