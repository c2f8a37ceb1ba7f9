using System.Globalization;
using System.Text.Json;

namespace Parley.Bench.TurnLoad;

/// <summary>Text output: one result, a Markdown table of a results file, and the candidate/baseline ratio table.</summary>
internal static class Reports
{
    public static void WriteText(LoadResult r, TextWriter output)
    {
        output.WriteLine(Invariant($"{r.Label} {r.Server}: {r.AllocationsReady}/{r.Allocations} allocations, {RateText(r)}, {r.Size} B, {r.DurationSeconds} s"));
        output.WriteLine(Invariant($"  relayed      {r.RelayedPacketsPerSecond:F0} packets/s, {r.RelayedMbitPerSecond:F2} Mbit/s (both directions); {r.RoundTripsPerSecond:F0} round trips/s"));
        output.WriteLine(Invariant($"  loss         {r.LossPercent:F3} % round trip ({r.OutboundLossPercent:F3} % client→peer); sent {r.Sent}, peer got {r.PeerReceived}, echoes {r.Received}"));
        output.WriteLine(Invariant($"  udp drops    {r.ToolSocketDrops} at the tool's sockets, {r.ServerSocketDrops} at the server's (full receive buffers)"));
        output.WriteLine(Invariant($"  round trip   p50 {r.P50Microseconds} µs, p90 {r.P90Microseconds} µs, p99 {r.P99Microseconds} µs, max {r.MaxMicroseconds} µs"));
        if (r.ServerCpuSeconds is not null)
        {
            output.WriteLine(Invariant($"  server       {r.ServerCpuSeconds:F2} CPU s ({r.ServerCpuPercent:F1} % of a core), {r.ServerCpuSecondsPerMillionPackets:F3} CPU s per million relayed packets, RSS {r.ServerRssKib / 1024.0:F1} MiB (peak {r.ServerPeakRssKib / 1024.0:F1} MiB)"));
        }

        output.WriteLine(Invariant($"  tool         {r.ClientCpuPercent:F1} % of a core, {r.ClientAllocatedBytesPerRoundTrip:F2} B allocated per round trip, offered {(r.OfferedPercent is double o ? $"{o:F1} %" : "closed loop")}; machine {r.MachineBusyPercent:F1} % busy of {r.MachineCores} cores, load average {r.LoadAverage:F2}"));
        output.WriteLine(Invariant($"  setup        {r.SetupSeconds:F2} s, {r.SetupErrors} errors; {r.Refreshes} refreshes, {r.RefreshErrors} errors; {r.SendErrors} send errors, {r.UnexpectedPackets} unexpected packets"));
    }

    public static int Table(string path, TextWriter output)
    {
        output.WriteLine("| server | transport | allocations | rate/alloc | size | relayed pkt/s | relayed Mbit/s | loss % | p50 µs | p90 µs | p99 µs | max µs | server CPU % | CPU s / M pkt | server RSS MiB | drops tool/server | tool CPU % | machine busy % | load avg |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (LoadResult r in Read(path))
        {
            output.WriteLine(Invariant(
                $"| {r.Label} | {r.Transport} | {r.AllocationsReady}/{r.Allocations} | {RateText(r)} | {r.Size} | {r.RelayedPacketsPerSecond:F0} | {r.RelayedMbitPerSecond:F1} | {r.LossPercent:F3} | {r.P50Microseconds} | {r.P90Microseconds} | {r.P99Microseconds} | {r.MaxMicroseconds} | {Optional(r.ServerCpuPercent, "F1")} | {Optional(r.ServerCpuSecondsPerMillionPackets, "F2")} | {Optional(r.ServerRssKib / 1024.0, "F1")} | {r.ToolSocketDrops}/{r.ServerSocketDrops} | {r.ClientCpuPercent:F1} | {r.MachineBusyPercent:F1} | {r.LoadAverage:F1} |"));
        }

        return 0;
    }

    /// <summary>
    /// Candidate/baseline per scenario (same transport, allocations, rate, window and size). Above 1 is better for
    /// packets/s and Mbit/s; below 1 is better for latency and CPU per packet. With repeated runs (the i-th candidate
    /// result of a scenario pairs with its i-th baseline result) each cell is the median ratio over the pairs, with the
    /// range of the pairs' ratios after it.
    /// </summary>
    public static int Compare(string baselinePath, string candidatePath, TextWriter output)
    {
        List<LoadResult> baseline = Read(baselinePath);
        List<LoadResult> candidate = Read(candidatePath);
        if (baseline.Count == 0 || candidate.Count == 0)
        {
            output.WriteLine("compare: one of the files has no results.");
            return 1;
        }

        string b = baseline[0].Label, c = candidate[0].Label;
        output.WriteLine($"| scenario | pairs | {c}/{b} pkt/s | Mbit/s | p50 latency | p99 latency | CPU per packet | peak RSS | loss % {b} → {c} |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (IGrouping<string, LoadResult> scenario in candidate.GroupBy(Key))
        {
            LoadResult[] bases = [.. baseline.Where(x => Key(x) == scenario.Key)];
            (LoadResult Cand, LoadResult Base)[] pairs = [.. scenario.Zip(bases)];
            if (pairs.Length == 0)
            {
                output.WriteLine($"| {scenario.Key} | 0 | no {b} result | | | | | | |");
                continue;
            }

            string Cell(Func<LoadResult, double?> value) => Median(pairs.Select(p => Ratio(value(p.Cand), value(p.Base))));
            string losses = string.Join(", ", pairs.Select(p => Invariant($"{p.Base.LossPercent:F3} → {p.Cand.LossPercent:F3}")));
            output.WriteLine(Invariant(
                $"| {scenario.Key} | {pairs.Length} | {Cell(r => r.RelayedPacketsPerSecond)} | {Cell(r => r.RelayedMbitPerSecond)} | {Cell(r => r.P50Microseconds)} | {Cell(r => r.P99Microseconds)} | {Cell(r => r.ServerCpuSecondsPerMillionPackets)} | {Cell(r => r.ServerPeakRssKib)} | {losses} |"));
        }

        output.WriteLine();
        output.WriteLine("Ratios are candidate/baseline: above 1 is better for pkt/s and Mbit/s, below 1 is better for latency, CPU per packet and RSS.");
        return 0;
    }

    // "1.23" for one pair; "1.23 (1.10-1.31)" for several: the median and the range.
    private static string Median(IEnumerable<double?> ratios)
    {
        double[] known = [.. ratios.OfType<double>().Order()];
        if (known.Length == 0)
        {
            return "n/a";
        }

        int middle = known.Length / 2;
        double median = known.Length % 2 == 1 ? known[middle] : (known[middle - 1] + known[middle]) / 2;
        return known.Length == 1 ? Invariant($"{median:F2}") : Invariant($"{median:F2} ({known[0]:F2}-{known[^1]:F2})");
    }

    private static string Key(LoadResult r) =>
        Invariant($"{r.Transport} {r.Allocations}×{RateText(r)} {r.Size} B");

    private static string RateText(LoadResult r) => r.Rate == 0 ? Invariant($"max (window {r.Window})") : Invariant($"{r.Rate} pps");

    private static double? Ratio(double? candidate, double? baseline) =>
        candidate is double c && baseline is double b && b > 0 ? c / b : null;

    private static string Optional(double? value, string format) =>
        value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static List<LoadResult> Read(string path) =>
        [.. File.ReadLines(path).Where(line => line.Length > 0).Select(line => JsonSerializer.Deserialize(line, ResultJsonContext.Default.LoadResult)!)];

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
