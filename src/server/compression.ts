import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { appendVary } from './cors.js';

export interface CompressionConfig {
  /** Off when a proxy in front compresses, or on a link where CPU is dearer than bytes. */
  enabled: boolean;
  /** Bodies shorter than this are sent as they are (see README, "Response compression", for the measurement). */
  minBytes: number;
}

export const DEFAULT_COMPRESSION_CONFIG: CompressionConfig = { enabled: true, minBytes: 1024 };

export enum ContentCoding {
  Brotli = 'br',
  Gzip = 'gzip',
}

/**
 * Cheap levels: brotli 4 costs about the CPU of gzip 5 and is 5 to 10% smaller on GraphQL JSON;
 * brotli 5 saves 10% more for 1.5 to 1.8 times the CPU (bench/compression-threshold.ts).
 */
export const BROTLI_QUALITY = 4;
export const GZIP_LEVEL = 5;
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } };
const GZIP_OPTIONS = { level: GZIP_LEVEL };

/** Preference when q-values tie: brotli is smaller at the same CPU, gzip beats sending it raw. */
const TIE_ORDER = [ContentCoding.Brotli, ContentCoding.Gzip] as const;

/** The q-value of each coding an Accept-Encoding header names (x-gzip counts as gzip). */
function qValues(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    if (name === '') continue;
    let weight = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim());
        weight = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    q.set(name === 'x-gzip' ? ContentCoding.Gzip : name, weight);
  }
  return q;
}

/** Whether the client accepts `coding` at all (named, or covered by `*`, with q above 0). */
export function acceptsCoding(header: string | undefined, coding: ContentCoding): boolean {
  if (!header) return false;
  const q = qValues(header);
  return (q.get(coding) ?? q.get('*') ?? 0) > 0;
}

/**
 * The coding to use for an Accept-Encoding header (RFC 9110 12.5.3), or null for none: the
 * highest q among br and gzip (a `*` covers codings not named; q=0 refuses), unless the client
 * ranks identity higher. Identity not named at all ranks below every accepted coding.
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | null {
  if (!header) return null;
  const q = qValues(header);
  const any = q.get('*');
  let best: ContentCoding | null = null;
  let bestWeight = 0;
  for (const coding of TIE_ORDER) {
    const weight = q.get(coding) ?? any ?? 0;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  const identity = q.get('identity');
  return best !== null && (identity === undefined || bestWeight >= identity) ? best : null;
}

/** Clients send a handful of distinct headers: negotiate each text once. */
const NEGOTIATED_LIMIT = 256;
const negotiated = new Map<string, ContentCoding | null>();

function codingFor(header: string | undefined): ContentCoding | null {
  if (!header) return null;
  let coding = negotiated.get(header);
  if (coding === undefined) {
    coding = negotiateEncoding(header);
    if (negotiated.size >= NEGOTIATED_LIMIT) negotiated.clear();
    negotiated.set(header, coding);
  }
  return coding;
}

export type BodyWriter = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Ends the response with the body as it is. */
export const endUncompressed: BodyWriter = (_req, res, body) => void res.end(body);

/**
 * Ends a response with a complete body, compressed when it is long enough and the client accepts
 * br or gzip. Synchronous zlib: for the bodies a GraphQL page makes (a few to a few hundred KB)
 * the thread pool took 2 to 4 times the CPU below 16 KB, the hand-off dominating (measured in
 * bench/compression-threshold.ts), and the thread pool is shared with DNS and file reads.
 * Content-Length is set to the compressed length, over any an earlier layer set.
 */
export function createBodyWriter(config: CompressionConfig): BodyWriter {
  if (!config.enabled) return endUncompressed;
  const { minBytes } = config;
  return (req, res, body) => {
    // String length never exceeds the UTF-8 byte length, so nothing long enough is skipped by mistake
    // except bodies of mostly non-ASCII text just under the threshold.
    if (body.length < minBytes || res.hasHeader('content-encoding')) {
      res.end(body);
      return;
    }
    // Whether this answer is compressed depends on the header, whatever this client sent.
    appendVary(res, 'Accept-Encoding');
    const coding = codingFor(req.headers['accept-encoding']);
    if (coding === null) {
      res.end(body);
      return;
    }
    const compressed = coding === ContentCoding.Brotli ? brotliCompressSync(body, BROTLI_OPTIONS) : gzipSync(body, GZIP_OPTIONS);
    res.setHeader('content-encoding', coding);
    res.setHeader('content-length', compressed.length);
    res.end(compressed);
  };
}
