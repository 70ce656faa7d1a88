/** `releases` as a task list. */
import type { ReleasesEvent } from '../../operations/events.js';
import { commonProgress } from './pull.js';
import { diffEventProgress } from './diff.js';
import { releaseFilesProgress } from './verify.js';
import type { StepDef, StepUi } from './task-list.js';

export function releasesSteps(opts: { image: boolean; diff?: boolean }): StepDef[] {
  return [
    ...(opts.image
      ? [
          { id: 'resolve', title: 'Resolve the image' },
          { id: 'manifest', title: 'Fetch the manifest' },
          { id: 'files', title: 'Read the release files (top layers only)' },
        ]
      : []),
    { id: 'system', title: 'Read the system' },
    { id: 'tags', title: 'List the flavor\'s tags' },
    { id: 'candidates', title: 'Judge the candidates' },
    ...(opts.diff === true
      ? [
          { id: 'a', title: 'Read the current image (top layers only)' },
          { id: 'b', title: 'Read the target image (top layers only)' },
          { id: 'diff', title: 'Compare' },
        ]
      : []),
  ];
}

export function releasesProgress(ui: StepUi): (e: ReleasesEvent) => void {
  let tags = 0;
  return (e) => {
    switch (e.type) {
      case 'release-files-layer':
      case 'release-files':
        releaseFilesProgress(ui, e);
        break;
      case 'system':
        ui.done('system', `System: ${e.flavor}${e.version === undefined ? '' : ` ${e.version}`} (${e.source})`);
        break;
      case 'tags':
        tags += e.count;
        ui.output('tags', `${e.repository}: ${e.count} tags`);
        break;
      case 'candidates':
        ui.done('tags', `Listed ${tags} tags`);
        ui.done('candidates', `${e.count} candidate${e.count === 1 ? '' : 's'}`);
        break;
      case 'diff-layer':
      case 'diff-read':
      case 'diffed':
        diffEventProgress(ui, e);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
