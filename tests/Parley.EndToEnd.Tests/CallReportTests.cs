using System.Globalization;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Call quality reports from real browsers: after a call over loopback (host candidates on both sides) one person hangs up;
/// both browsers report their peer connection and the server's /metrics counts them. The server is shared by the
/// test classes, so the test compares counts before and after.
/// <para>
/// Only the local candidate type is asserted: the remote one is sometimes <c>prflx</c>, when the other side's
/// connectivity check arrives before its candidate does (Chromium learns the address from the check).
/// </para>
/// </summary>
public sealed class CallReportTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private const string FromHost = "parley_call_reports_total{local_candidate_type=\"host\",relay_protocol=\"none\",";

    [Fact]
    public async Task HangingUpMakesBothBrowsersReportAHostCandidateCallThatMetricsCount()
    {
        using var http = new HttpClient { BaseAddress = BaseUri };
        var before = await ReadAsync(http);
        var pages = await JoinAllAsync(UniqueRoom("report"), "Ana", "Bo");
        await WaitForFullMeshAsync(pages);
        // The report is built from the last getStats() sample, taken on connect (then every 5 s): long done by the time
        // video decodes.
        await pages[1].Page.Locator("#hangup").ClickAsync();
        Step("Bo hung up");

        // Bo reports before its bye; Ana when Bo's peer-left ends her link to him.
        var after = await Poll.UntilAsync("both reports counted in /metrics", () => ReadAsync(http),
            m => m.Reports - before.Reports >= 2 && m.Durations - before.Durations >= 2);
        Assert.Equal(before.Failed, after.Failed);
        Assert.True(after.CallsStarted > before.CallsStarted, "the call was counted as started");
    }

    private sealed record Counts(double Reports, double Durations, double Failed, double CallsStarted);

    private static async Task<Counts> ReadAsync(HttpClient http)
    {
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');
        double Value(string series) => lines.Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).SingleOrDefault();
        double Sum(string prefix) => lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return new Counts(Sum(FromHost), Value("parley_call_duration_seconds_count"), Sum("parley_calls_failed_total"),
            Value("parley_calls_started_total"));
    }
}
