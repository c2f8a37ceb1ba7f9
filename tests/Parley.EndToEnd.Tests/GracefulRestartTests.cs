using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;
using Parley.Server.Tests;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Parley as a real child process, stopped with SIGTERM mid-call as systemd stops it: the call's media goes on
/// peer to peer, the server drains and exits by itself, and the pages resume on the restarted process (same port,
/// same data directory, so the same resume-token key) with the same peers and peer connections. Also what the
/// admin API's actions look like in the pages.
/// </summary>
public sealed partial class GracefulRestartTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output), IDisposable
{
    private const string AdminToken = "e2e-admin-token-0123456789";
    private static readonly TimeSpan s_turnGrace = TimeSpan.FromSeconds(3);
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("parley-e2e-data-").FullName;

    private Task<ParleyProcess> StartParleyAsync(string url) =>
        ParleyProcess.StartAsync("dotnet",
        [
            Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"),
            "--urls", url,
            "--Signaling:DataDirectory=" + _dataDirectory,
            $"--Signaling:RoomCapacity={ParleyServer.RoomCapacity}",
            "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Turn:RelayAddresses:0=127.0.0.1", "--Turn:AllowedPeerRanges:0=127.0.0.0/8",
            $"--Drain:TurnGrace={s_turnGrace}",
            "--Admin:Token=" + AdminToken,
        ]);

    [Fact]
    public async Task SigtermMidCallDrainsExitsAndThePagesResumeOnTheRestartedProcessWithMediaFlowingThroughout()
    {
        var first = await StartParleyAsync("http://127.0.0.1:0");
        var baseUri = first.BaseUri;
        Step($"Parley started as pid {first.Id} on {baseUri}");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(5) };
        var room = UniqueRoom("sigterm");
        var pages = new List<CallPage>();
        foreach (var name in new[] { "Ana", "Bo" })
        {
            var page = await OpenAsync(new Uri(baseUri, $"r/{room}"), name);
            await page.JoinAsync();
            pages.Add(page);
        }
        var ids = await WaitForFullMeshAsync(pages);
        var connectionsBefore = new string[pages.Count][];
        var framesBefore = new long[pages.Count];
        for (var i = 0; i < pages.Count; i++)
        {
            connectionsBefore[i] = await pages[i].ConnectionIdsAsync();
            framesBefore[i] = (await pages[i].StatsAsync()).Single().FramesDecoded ?? 0;
        }

        await using (first)
        {
            first.Terminate();
            Step("SIGTERM sent");
            // Draining: not ready. Chromium holds allocations on the embedded TURN server, so the drain lasts the grace.
            var readyz = await Poll.UntilAsync("readyz while draining", () => ReadyzAsync(http), status => status != HttpStatusCode.OK, TimeSpan.FromSeconds(5));
            foreach (var page in pages)
                await Poll.UntilAsync($"{page.Name}: told to reconnect", page.SignalingStateAsync, state => state != "open", TimeSpan.FromSeconds(10));
            Assert.Equal(0, await first.WaitForExitAsync(s_turnGrace + TimeSpan.FromSeconds(20)));
            var allocations = first.Output.Select(l => AllocationsAtDrain().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
            Step($"the old process drained ({allocations ?? "?"} TURN allocations at the start) and exited with 0");
            Assert.NotNull(allocations);
            // Had Chromium released every allocation already, the drain would have nothing to wait for.
            if (allocations != "0")
                Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz);
        }

        // No server at all now; the call between the browsers goes on.
        for (var i = 0; i < pages.Count; i++)
        {
            var frames = framesBefore[i];
            await pages[i].WaitForPeersAsync(1, peer => peer.IsConnected && peer.FramesDecoded > frames, "video still decoding with no server");
            framesBefore[i] = (await pages[i].StatsAsync()).Single().FramesDecoded ?? 0;
        }
        Step("media kept flowing while no server ran");

        await using var second = await StartParleyAsync(baseUri.GetLeftPart(UriPartial.Authority));
        Step($"restarted as pid {second.Id}");
        for (var i = 0; i < pages.Count; i++)
        {
            var page = pages[i];
            await Poll.UntilAsync($"{page.Name}: signaling open again", page.SignalingStateAsync, state => state == "open", TimeSpan.FromSeconds(30));
            Assert.Equal(ids[i], await page.PeerIdAsync());
            Assert.Equal(connectionsBefore[i], await page.ConnectionIdsAsync());
            Assert.Equal(new[] { ids[1 - i] }, await page.PeerIdsAsync());
            var frames = framesBefore[i];
            await page.WaitForPeersAsync(1, peer => peer.IsConnected && peer.FramesDecoded > frames, "still connected, video frames still increasing");
            await Assertions.Expect(page.Tile(ids[1 - i])).ToHaveAttributeAsync("data-connection", "connected");
        }
        Step("both pages resumed: same peer ids, same room, same peer connections");
        using var admin = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var rooms = await admin.GetStringAsync(new Uri("/admin/rooms", UriKind.Relative));
        Assert.Contains($"\"participants\":2", rooms, StringComparison.Ordinal);
        Assert.Contains(ids[0], rooms, StringComparison.Ordinal);
        Assert.Contains(ids[1], rooms, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenTheAdminClosesTheRoomEveryPageSaysSoInItsLanguage()
    {
        await using var parley = await StartParleyAsync("http://127.0.0.1:0");
        var room = UniqueRoom("closed");
        var ana = await OpenAsync(new Uri(parley.BaseUri, $"r/{room}"), "Ana");
        var bo = await OpenAsync(new Uri(parley.BaseUri, $"r/{room}"), "Bo");
        await bo.Page.Locator("#lang").SelectOptionAsync("zh-CN");
        await ana.JoinAsync();
        await bo.JoinAsync();
        await WaitForFullMeshAsync([ana, bo]);

        using var admin = new HttpClient { BaseAddress = parley.BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var closed = await admin.DeleteAsync(new Uri($"/admin/rooms/{room}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);

        foreach (var (page, text) in new[] { (ana, "The host closed this room."), (bo, "主持人关闭了此房间。") })
        {
            var notice = page.Page.Locator("#notice");
            await Assertions.Expect(notice).ToBeVisibleAsync();
            await Assertions.Expect(notice).ToHaveAttributeAsync("data-error-id", "room-closed");
            await Assertions.Expect(notice).ToHaveTextAsync(text);
            await Assertions.Expect(page.Page.Locator("#call")).ToBeHiddenAsync();
            // Ended for good: no reconnect brings the call back.
            Assert.Equal("closed", await page.SignalingStateAsync());
        }
    }

    [Fact]
    public async Task WhenTheAdminDisconnectsAParticipantItIsToldSoAndTheOthersTileGoes()
    {
        await using var parley = await StartParleyAsync("http://127.0.0.1:0");
        var room = UniqueRoom("kick");
        var ana = await OpenAsync(new Uri(parley.BaseUri, $"r/{room}"), "Ana");
        var bo = await OpenAsync(new Uri(parley.BaseUri, $"r/{room}"), "Bo");
        await ana.JoinAsync();
        await bo.JoinAsync();
        var ids = await WaitForFullMeshAsync([ana, bo]);

        using var admin = new HttpClient { BaseAddress = parley.BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var disconnected = await admin.DeleteAsync(new Uri($"/admin/sessions/{ids[1]}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, disconnected.StatusCode);

        var notice = bo.Page.Locator("#notice");
        await Assertions.Expect(notice).ToHaveAttributeAsync("data-error-id", "session-closed");
        await Assertions.Expect(notice).ToHaveTextAsync("The host disconnected you from this call. You can join again.");
        await Assertions.Expect(bo.Page.Locator("#call")).ToBeHiddenAsync();
        await Assertions.Expect(ana.Tile(ids[1])).ToHaveCountAsync(0);
        // Not resumed behind the user's back.
        await Poll.HoldsForAsync("Bo stays out", bo.SignalingStateAsync, state => state == "closed", TimeSpan.FromSeconds(2));
        Assert.Empty(await ana.PeerIdsAsync());
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Draining: .* for (\d+) TURN allocations")]
    private static partial System.Text.RegularExpressions.Regex AllocationsAtDrain();

    private static async Task<HttpStatusCode> ReadyzAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode;
        }
        catch (HttpRequestException)
        {
            return HttpStatusCode.BadGateway; // nobody listening any more: the drain was too short to see
        }
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}
