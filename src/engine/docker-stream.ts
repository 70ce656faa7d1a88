/**
 * Lines of an engine response stream (pull progress, load results). Not node:readline: its
 * iterator waits forever when the input is destroyed without ending, which is exactly what an
 * aborted request does.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export async function* responseLines(stream: Readable | NodeJS.ReadableStream): AsyncGenerator<string> {
  let rest = '';
  // A multi-byte character may be split across chunks.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}
