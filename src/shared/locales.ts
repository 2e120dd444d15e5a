/**
 * Locales as the API speaks them: BCP 47 language tags in canonical case (`ja`, `en-GB`,
 * `zh-Hant-TW`), the form the translation tables store, so that `EN-gb` and `en-GB` are one locale.
 * Only language, script, region and variant subtags: no extensions (`-u-ca-...`) or private use.
 */

/** The stored form, checked by the translation tables too. */
const STORED_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** Longest Accept-Language header read, and most ranges taken from it: a browser sends a handful. */
const MAX_HEADER_LENGTH = 500;
const MAX_RANGES = 10;

const languageNames = new Intl.DisplayNames('en', { type: 'language', fallback: 'none' });

/** The canonical form of a well-formed tag, or null (malformed, or with extensions). */
export function canonicalLocale(tag: string): string | null {
  let canonical: string;
  try {
    [canonical] = Intl.getCanonicalLocales(tag.trim());
  } catch {
    return null;
  }
  return canonical !== undefined && STORED_TAG.test(canonical) ? canonical : null;
}

/**
 * Whether a canonical tag names a language (and region, script) that ICU knows, so that a typo
 * (`jp`, `en-UK`) is refused rather than stored as a locale that no client will ever ask for.
 */
export function isKnownLocale(canonical: string): boolean {
  return languageNames.of(canonical) !== undefined;
}

/**
 * The locales an Accept-Language header asks for, most wanted first (by q-value, then order),
 * canonical and without duplicates. Lenient like every reader of the header: a malformed range is
 * skipped, `*` and `q=0` ask for nothing in particular, and a header that cannot be read asks for
 * nothing (the default locale is served).
 */
export function acceptedLocales(header: string | string[] | undefined): string[] {
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).slice(0, MAX_HEADER_LENGTH);
  const ranges: Array<{ locale: string; q: number; at: number }> = [];
  for (const [at, part] of text.split(',').entries()) {
    const [range, ...params] = part.split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0 && q <= 1)) continue;
    const locale = range.trim() === '*' ? null : canonicalLocale(range);
    if (locale !== null) ranges.push({ locale, q, at });
  }
  ranges.sort((a, b) => b.q - a.q || a.at - b.at);
  return [...new Set(ranges.map((r) => r.locale))].slice(0, MAX_RANGES);
}

/**
 * The locale to serve from `preferences` (most wanted first): for each, the tag itself, then
 * shorter and shorter prefixes of it (`zh-Hant-TW`, `zh-Hant`, `zh`), as RFC 4647's lookup does;
 * the first that is the default locale or that `has` is chosen, else the default locale.
 */
export function chooseLocale(preferences: readonly string[], defaultLocale: string, has: (locale: string) => boolean): string {
  for (const preference of preferences) {
    for (let tag = preference; tag !== ''; tag = tag.slice(0, Math.max(0, tag.lastIndexOf('-')))) {
      if (tag === defaultLocale || has(tag)) return tag;
    }
  }
  return defaultLocale;
}
