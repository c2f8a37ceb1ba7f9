using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.Bench.CallSetup;
using Parley.EndToEnd.Infrastructure;

// Call setup on loopback: two real Chromium pages, the server in-process. Each run uses a fresh room and fresh
// browser contexts; the first page is already in the call when the second clicks Join.
const int Runs = 20;
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
// Where each run's step-by-step timeline goes, if anywhere (see README: "Where the time goes").
var timeline = Environment.GetEnvironmentVariable("PARLEY_BENCH_TIMELINE") is { Length: > 0 } path ? path : null;

LoopbackOnly.Ensure();
await using var server = await ParleyServer.StartAsync(args);
using var playwright = await Playwright.CreateAsync();
await using var browser = await Chromium.LaunchAsync(playwright);
Console.WriteLine($"Parley call setup: Join click on the second page -> first remote video frame on it ({Runs} runs, {server.BaseUri}).");
// Other processes skew these timings badly on 2 cores: print the load so a reader can judge.
Console.WriteLine($"load average at start: {LoadAverage()}");

// One unrecorded run first: the first call in a process pays for JIT and Chromium's first renderers.
Print("warm-up", await MeasureOnceAsync());
var runs = new List<Measurement>();
var failures = 0;
for (var run = 1; run <= Runs; run++)
{
    var measurement = await MeasureOnceAsync();
    Print($"run {run,2}", measurement);
    if (measurement is null)
        failures++;
    else
        runs.Add(measurement);
}
Console.WriteLine();
if (runs.Count > 0)
{
    Console.WriteLine($"in call view (ms)        {Summary.Of(runs.Select(r => r.InCallMs))}");
    Console.WriteLine($"first frame decoded (ms) {Summary.Of(runs.Select(r => r.FirstDecodedMs))}");
    Console.WriteLine($"first frame shown (ms)   {Summary.Of(runs.Select(r => r.FirstFrameMs))}");
}
Console.WriteLine($"{runs.Count} runs measured, {failures} without a remote frame within 20 s; load average at end: {LoadAverage()}");
return failures == 0 ? 0 : 1;

// Null when no remote frame arrived in time: a failed call setup is reported, not hidden in the numbers.
async Task<Measurement?> MeasureOnceAsync()
{
    var room = new Uri(server.BaseUri, $"r/bench-{Guid.NewGuid().ToString("N")[..8]}");
    await using var first = await CallPage.OpenAsync(browser, room, "First");
    await first.JoinAsync();
    // Someone already in a call has been there a moment: long enough for the connection that answers the next
    // newcomer to be made (a second after the room went quiet).
    await first.Page.WaitForFunctionAsync("() => window.parley.spareReady()");

    await using var second = await CallPage.OpenAsync(browser, room, "Second");
    await second.FillLobbyAsync();
    // Measure call setup, not the camera: wait until the lobby is ready, as it is after the seconds a person
    // spends there: the preview playing, the signaling session the app opens in the lobby connected and the first
    // offer it prepares there made, with its ICE candidates.
    await second.WaitForPreviewAsync();
    await second.WaitForLobbySessionAsync();
    await second.WaitForLobbyOfferAsync();
    await second.Page.EvaluateAsync(CallSetupProbe.Install);
    if (timeline is not null)
        await Timeline.InstallAsync(first.Page, second.Page);
    await second.Page.Locator("#join").ClickAsync();
    string result;
    try
    {
        result = await second.Page.EvaluateAsync<string>(CallSetupProbe.Result);
    }
    catch (PlaywrightException e) when (e.Message.Contains(CallSetupProbe.NoFrame, StringComparison.Ordinal))
    {
        return null;
    }
    var times = JsonSerializer.Deserialize<ProbeTimes>(result, json) ?? throw new InvalidOperationException("The probe returned nothing.");
    if (timeline is not null)
        await Timeline.AppendAsync(timeline, first.Page, second.Page);
    return times.ToMeasurement();
}

static void Print(string label, Measurement? m) => Console.WriteLine(m is null
    ? $"{label,-8} FAILED: {CallSetupProbe.NoFrame}"
    : string.Create(CultureInfo.InvariantCulture, $"{label,-8} in call view {m.InCallMs,6:0.0} ms   first frame decoded {m.FirstDecodedMs,6:0.0} ms   shown {m.FirstFrameMs,6:0.0} ms"));

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
