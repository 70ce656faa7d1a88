/** `pull --to docker` as a task list (from the registry, or loaded from the cache). */
import type { EnginePullEvent } from '../../operations/events.js';
import { commonProgress, mib } from './pull.js';
import { transferText } from './runner.js';
import type { StepDef, StepUi } from './task-list.js';

export function enginePullSteps(opts: { fromCache: boolean }): StepDef[] {
  const connect = { id: 'engine', title: 'Connect to the Docker engine' };
  if (opts.fromCache) {
    return [connect, { id: 'resolve', title: 'Resolve the image from the cache' }, { id: 'cached', title: 'Find the image in the cache' }, { id: 'load', title: 'Load into the Docker engine' }];
  }
  return [connect, { id: 'resolve', title: 'Resolve the image' }, { id: 'manifest', title: 'Fetch the manifest' },
    { id: 'layers', title: 'Pull into the Docker engine' }, { id: 'check', title: 'Check the image in the engine' }];
}

export function enginePullProgress(ui: StepUi): (e: EnginePullEvent) => void {
  const started = Date.now();
  return (e) => {
    switch (e.type) {
      case 'engine':
        ui.done('engine', `Docker engine ${e.version} at ${e.host}`);
        break;
      case 'cached-image':
        ui.done('cached', `Cached manifest ${e.digest.slice(0, 19)}… (${e.layers} layers)`);
        break;
      case 'load-progress':
        ui.output('load', transferText(e.bytes, e.total, started));
        break;
      case 'loaded':
        ui.done('load', `Loaded ${e.imageId.slice(0, 19)}… into the engine (${e.seconds.toFixed(1)} s)`);
        break;
      case 'engine-layers':
        ui.items('layers', e.layers.map((l, i) => ({ id: l.id, title: `Layer ${i + 1}/${e.layers.length} ${l.id} (${mib(l.size)} MiB)` })));
        break;
      case 'engine-layer': {
        const verb = e.phase === 'extracting' ? 'extracting' : e.phase === 'retrying' ? e.status.toLowerCase() : e.phase === 'downloading' ? 'downloading' : e.phase;
        ui.itemOutput('layers', e.id, e.total > 0 && (e.phase === 'downloading' || e.phase === 'extracting') ? `${verb} ${transferText(e.current, e.total, started)}` : verb);
        break;
      }
      case 'engine-layer-done':
        ui.itemDone('layers', e.id, e.cached ? ' already in the engine' : undefined);
        break;
      case 'engine-pulled':
        ui.done('layers');
        ui.done('check', `${e.upToDate ? 'Already in the engine' : 'Pulled into the engine'}: ${e.imageId.slice(0, 19)}… (${e.seconds.toFixed(1)} s)`);
        break;
      default:
        commonProgress(ui, e);
    }
  };
}
