/** A diff report for a person: what changed, key by key, package by package. */
import type { DiffReport } from '../../operations/diff.js';
import { formatBytes, type Style } from '../render.js';

export function diffLines(d: DiffReport, style: Style): string[] {
  const out: string[] = [];
  const read = (f: DiffReport['a']): string => style.dim(`(${f.platform}; read ${f.read.layersRead} of ${f.read.layersTotal} layers, ${formatBytes(f.read.bytesRead)} of ${formatBytes(f.read.bytesTotal)})`);
  out.push(`${style.dim('a:')} ${d.a.reference} ${read(d.a)}`, `${style.dim('b:')} ${d.b.reference} ${read(d.b)}`);
  const keys = (title: string, changes: DiffReport['changes']['release']): void => {
    if (changes.length === 0) {
      out.push(`${title}: ${style.dim('no change')}`);
      return;
    }
    out.push(`${title}:`);
    for (const c of changes) {
      if (c.from === undefined) out.push(`  ${style.ok('+')} ${c.key}=${c.to ?? ''}`);
      else if (c.to === undefined) out.push(`  ${style.bad('-')} ${c.key}=${c.from}`);
      else out.push(`  ~ ${c.key}: ${c.from} → ${c.to}`);
    }
  };
  const files = d.a.releaseFile === d.b.releaseFile ? d.b.releaseFile ?? 'none' : `a: ${d.a.releaseFile ?? 'none'}, b: ${d.b.releaseFile ?? 'none'}`;
  keys(`release keys (${files})`, d.changes.release);
  keys('os-release', d.changes.os);
  const kernel = d.changes.kernel;
  out.push(`kernel: ${kernel === undefined ? `${d.b.kernel.join(', ') || 'unknown'} ${style.dim('(no change)')}` : `${kernel.from.join(', ') || 'unknown'} → ${kernel.to.join(', ') || 'unknown'}`}`);
  const k8s = d.changes.k8s;
  const k8sNow = d.b.k8s === undefined ? undefined : `${d.b.k8s.distro} ${d.b.k8s.version}`;
  out.push(`kubernetes: ${k8s === undefined ? `${k8sNow ?? 'none'} ${style.dim('(no change)')}` : `${k8s.from ?? 'none'} → ${k8s.to ?? 'none'}`}`);
  const p = d.changes.packages;
  if (p === undefined) out.push(`packages: ${style.dim('no package database found')}`);
  else if ('note' in p) out.push(`packages (${p.format}): ${p.note}`);
  else {
    out.push(`packages (${p.format}): ${p.changed.length} changed, ${p.added.length} added, ${p.removed.length} removed, ${p.unchanged} unchanged`);
    for (const c of p.changed) out.push(`  ~ ${c.name} ${c.from} → ${c.to}`);
    for (const c of p.added) out.push(`  ${style.ok('+')} ${c.name} ${c.version}`);
    for (const c of p.removed) out.push(`  ${style.bad('-')} ${c.name} ${c.version}`);
  }
  return out;
}
