/** `unpack` (native, `--via docker`, `--via luet`) as a task list. */
import type { UnpackEvent, UnpackViaEvent } from '../../operations/events.js';
import { commonProgress, mib, SIGNATURE_STEP } from './pull.js';
import type { StepDef, StepUi } from './task-list.js';

export function unpackSteps(opts: { signature?: boolean } = {}): StepDef[] {
  return [
    { id: 'resolve', title: 'Resolve the image' },
    { id: 'manifest', title: 'Find the manifest' },
    ...(opts.signature === true ? [SIGNATURE_STEP] : []),
    { id: 'unpack', title: 'Unpack the layers' },
    { id: 'record', title: 'Record the image in the cache' },
  ];
}

export function unpackProgress(ui: StepUi): (e: UnpackEvent) => void {
  let started = Date.now();
  return (e) => {
    switch (e.type) {
      case 'unpack-start':
        started = Date.now();
        break;
      case 'unpack-progress': {
        const secs = Math.max(0.001, (Date.now() - started) / 1000);
        ui.output('unpack', `layer ${e.layer + 1}/${e.layers} · ${mib(e.bytes)} / ${mib(e.total)} MiB · ${(e.bytes / 1048576 / secs).toFixed(1)} MiB/s · ${e.entries} entries`);
        break;
      }
      case 'unpacked':
        ui.done('unpack', `Unpacked ${e.layers} layers: ${e.entries} entries, ${mib(e.bytes)} MiB in ${e.seconds.toFixed(1)} s`);
        break;
      case 'recorded':
        ui.done('record');
        break;
      default:
        commonProgress(ui, e);
    }
  };
}

export function unpackViaSteps(via: 'docker' | 'luet'): StepDef[] {
  return [
    { id: 'resolve', title: 'Resolve the image' },
    via === 'docker'
      ? { id: 'via', title: 'Pull into the Docker engine, export a container\'s filesystem, unpack it' }
      : { id: 'via', title: 'Unpack with luet util unpack' },
  ];
}

export function unpackViaProgress(ui: StepUi): (e: UnpackViaEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'via-start':
        break;
      case 'via-progress':
        ui.output('via', `${e.entries} entries, ${mib(e.bytes)} MiB`);
        break;
      case 'via-done':
        ui.done('via', e.engine === 'docker'
          ? `Unpacked through the Docker engine: ${e.entries} entries`
          : `Unpacked with ${e.inEngine ? 'luet in the Docker engine' : 'luet'}: ${e.entries} entries`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
