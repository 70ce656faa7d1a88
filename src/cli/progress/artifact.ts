/** `artifact push|attach|pull|discover` as task lists: per-file bytes and rate, uploads as downloads. */
import type { ArtifactDiscoverEvent, ArtifactPullEvent, ArtifactPushEvent } from '../../operations/artifact-events.js';
import { commonProgress, mib } from './pull.js';
import { transferText } from './runner.js';
import type { StepDef, StepUi } from './task-list.js';

export function artifactPushSteps(opts: { attach: boolean }): StepDef[] {
  return [
    { id: 'resolve', title: opts.attach ? 'Name the subject' : 'Name the target' },
    ...(opts.attach ? [{ id: 'subject', title: 'Find the subject manifest' }] : []),
    { id: 'files', title: 'Read the files (digest; directories packed)' },
    { id: 'upload', title: 'Upload' },
    { id: 'manifest', title: 'Push the manifest' },
    ...(opts.attach ? [{ id: 'referrers', title: 'Record the referrer' }] : []),
  ];
}

function sizeText(size: number | undefined): string {
  return size === undefined ? 'directory' : `${mib(size)} MiB`;
}

export function artifactPushProgress(ui: StepUi): (e: ArtifactPushEvent) => void {
  const started = new Map<string, number>();
  const since = (key: string): number => {
    let t = started.get(key);
    if (t === undefined) {
      t = Date.now();
      started.set(key, t);
    }
    return t;
  };
  return (e) => {
    switch (e.type) {
      case 'artifact-subject':
        ui.done('subject', `Subject ${e.digest.slice(0, 19)}… (${e.mediaType})`);
        break;
      case 'artifact-files':
        ui.items('files', e.files.map((f) => ({ id: f.title, title: `${f.title} (${sizeText(f.size)})` })));
        ui.items('upload', e.files.map((f) => ({ id: f.title, title: f.title })));
        if (e.files.length === 0) {
          ui.done('files', 'No files: the empty descriptor is the only layer');
          ui.done('upload', 'Nothing to upload but the empty config');
        }
        break;
      case 'artifact-bytes':
        if (e.phase === 'upload') ui.itemOutput('upload', e.title, transferText(e.bytes, e.total ?? e.bytes, since(`u:${e.title}`)));
        else if (e.phase === 'pack') ui.itemOutput('files', e.title, `packing · ${mib(e.bytes)} MiB compressed`);
        else ui.itemOutput('files', e.title, `digest ${transferText(e.bytes, e.total ?? e.bytes, since(`d:${e.title}`))}`);
        break;
      case 'artifact-prepared':
        ui.itemDone('files', e.title, ` ${e.digest.slice(7, 19)} (${mib(e.size)} MiB)`);
        break;
      case 'artifact-blob':
        ui.itemDone('upload', e.title, e.how === 'uploaded'
          ? `${e.resumes > 0 ? ` (resumed ${e.resumes}×)` : ''}${e.restarts > 0 ? ` (restarted ${e.restarts}×)` : ''}`
          : ` ${e.how === 'exists' ? 'already in the registry' : 'mounted'}`);
        break;
      case 'artifact-manifest':
        ui.done('files');
        ui.done('upload');
        ui.done('manifest', `Pushed ${e.reference} (${e.digest.slice(0, 19)}…)`);
        break;
      case 'artifact-referrers':
        ui.done('referrers', e.via === 'registry' ? 'Indexed by the registry (referrers API)' : `Listed in the referrers tag ${e.tag ?? ''} (${e.entries ?? 0} referrers)`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}

export function artifactPullSteps(): StepDef[] {
  return [
    { id: 'resolve', title: 'Name the artifact' },
    { id: 'manifest', title: 'Fetch the manifest' },
    { id: 'download', title: 'Download and verify' },
    { id: 'commit', title: 'Move the files into place' },
  ];
}

export function artifactPullProgress(ui: StepUi, warn: (line: string) => void): (e: ArtifactPullEvent) => void {
  const started = new Map<string, number>();
  return (e) => {
    switch (e.type) {
      case 'manifest':
        ui.done('manifest', `Manifest ${e.digest.slice(0, 19)}… (${e.layers} layer${e.layers === 1 ? '' : 's'}, ${mib(e.size)} MiB)`);
        break;
      case 'artifact-skipped':
        warn(`layer ${e.digest.slice(0, 19)} (${e.mediaType}) skipped: ${e.reason}`);
        break;
      case 'artifact-files':
        if (e.files.length === 0) ui.done('download', 'No titled layers');
        else ui.items('download', e.files.map((f) => ({ id: f.title, title: `${f.title}${f.kind === 'directory' ? '/' : ''} (${mib(f.size ?? 0)} MiB)` })));
        break;
      case 'artifact-bytes': {
        let t = started.get(e.title);
        if (t === undefined) {
          t = Date.now();
          started.set(e.title, t);
        }
        ui.itemOutput('download', e.title, transferText(e.bytes, e.total ?? e.bytes, t));
        break;
      }
      case 'artifact-file-done':
        ui.itemDone('download', e.title, e.entries === undefined ? ' verified' : ` verified, ${e.entries} entries unpacked`);
        break;
      case 'artifact-committed':
        ui.done('download');
        ui.done('commit', `Wrote ${e.files} file${e.files === 1 ? '' : 's'} into ${e.outDir}`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}

export function artifactDiscoverSteps(): StepDef[] {
  return [
    { id: 'resolve', title: 'Name the subject' },
    { id: 'subject', title: 'Find the subject manifest' },
    { id: 'referrers', title: 'List the referrers' },
  ];
}

export function artifactDiscoverProgress(ui: StepUi): (e: ArtifactDiscoverEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'artifact-subject':
        ui.done('subject', `Subject ${e.digest.slice(0, 19)}… (${e.mediaType})`);
        break;
      case 'artifact-referrers-found':
        ui.done('referrers', `${e.count} referrer${e.count === 1 ? '' : 's'} (${e.via === 'api' ? 'referrers API' : 'referrers tag schema'})`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
