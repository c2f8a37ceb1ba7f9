/**
 * Reading getStats reports: one place that knows how to find the candidate pair ICE selected.
 */

/**
 * The selected candidate pair of a stats report and its two candidates: the transport's selected pair, or, in a
 * report without transport stats, the nominated pair that succeeded. All null before ICE has selected one.
 * @param {{values(): Iterable<any>, get(id: string): any}} report an RTCStatsReport (or any Map of stats objects)
 * @returns {{pair: any, local: any, remote: any}}
 */
export function selectedCandidates(report) {
  let pair = null;
  for (const stat of report.values()) {
    if (stat.type === 'transport' && stat.selectedCandidatePairId) pair = report.get(stat.selectedCandidatePairId) ?? pair;
  }
  if (!pair) {
    for (const stat of report.values()) {
      if (stat.type === 'candidate-pair' && stat.state === 'succeeded' && stat.nominated) pair = stat;
    }
  }
  return {
    pair,
    local: pair ? report.get(pair.localCandidateId) ?? null : null,
    remote: pair ? report.get(pair.remoteCandidateId) ?? null : null,
  };
}
