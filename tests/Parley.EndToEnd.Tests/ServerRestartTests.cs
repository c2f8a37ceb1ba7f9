using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// (f) Restarting the server mid-call does not end the call: peer connections are browser-to-browser, and
/// the clients resume their signaling sessions on the new process (same resume-token key).
/// </summary>
public sealed class ServerRestartTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private static readonly TimeSpan s_reconnectWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CallSurvivesAServerRestartWithTheSamePeersAndPeerConnections()
    {
        var pages = await JoinAllAsync(UniqueRoom("restart"), "Ana", "Bo");
        var ids = await WaitForFullMeshAsync(pages);
        var connectionsBefore = new string[pages.Length][];
        var framesBefore = new long[pages.Length];
        for (var i = 0; i < pages.Length; i++)
        {
            connectionsBefore[i] = await pages[i].ConnectionIdsAsync();
            framesBefore[i] = (await pages[i].StatsAsync()).Single().FramesDecoded ?? 0;
        }

        await Fixture.Server.StopAsync();
        Step("server stopped");
        // Both clients must notice the old process is gone, or this would not test a restart at all.
        foreach (var page in pages)
            await Poll.UntilAsync($"{page.Name}: signaling lost", page.SignalingStateAsync, state => state != "open", TimeSpan.FromSeconds(10));
        await Fixture.Server.StartAgainAsync();
        Step("both pages lost signaling; server started again");

        for (var i = 0; i < pages.Length; i++)
        {
            var page = pages[i];
            await Poll.UntilAsync($"{page.Name}: signaling open again", page.SignalingStateAsync, state => state == "open", s_reconnectWithin);
            Step($"{page.Name}: signaling open again");
            Assert.Equal(ids[i], await page.PeerIdAsync());
            Assert.Equal(connectionsBefore[i], await page.ConnectionIdsAsync());
            Assert.Equal(new[] { ids[1 - i] }, await page.PeerIdsAsync());
            var frames = framesBefore[i];
            await page.WaitForPeersAsync(1, peer => peer.IsConnected && peer.FramesDecoded > frames, "still connected, video frames still increasing");
        }
    }
}
