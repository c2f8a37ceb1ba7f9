/**
 * Delay before retry number `attempt` (0-based): exponential from `minMs` to `maxMs`, with "full jitter"
 * above `minMs` so that the clients of a restarted server do not all come back in the same instant.
 * attempt 0 → 0.5–1 s, 1 → 0.5–2 s, 2 → 0.5–4 s, 3 → 0.5–8 s, then 0.5–10 s (with the defaults).
 * @param {number} attempt
 * @param {{minMs?: number, maxMs?: number, random?: () => number}} [options]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, { minMs = 500, maxMs = 10_000, random = Math.random } = {}) {
  const ceiling = Math.min(maxMs, minMs * 2 ** (attempt + 1));
  return Math.round(minMs + random() * (ceiling - minMs));
}
