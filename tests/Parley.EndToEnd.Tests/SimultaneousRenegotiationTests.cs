using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// (g) Glare: both sides restart ICE at the same moment, so both may make offers at once. Perfect negotiation
/// (the later joiner is polite) must resolve it without dropping the call.
/// </summary>
public sealed class SimultaneousRenegotiationTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private const int Rounds = 3;

    [Fact]
    public async Task BothSidesRenegotiatingAtTheSameMomentKeepsTheCallUpWithoutErrors()
    {
        var pages = await JoinAllAsync(UniqueRoom("glare"), "Ana", "Bo");
        await WaitForFullMeshAsync(pages);
        var errorMarks = pages.Select(page => page.ErrorCount).ToArray();
        var connectionsBefore = await Task.WhenAll(pages.Select(page => page.ConnectionIdsAsync()));

        for (var round = 1; round <= Rounds; round++)
        {
            var ufragsBefore = await Task.WhenAll(pages.Select(LocalIceUfragAsync));
            var framesBefore = await Task.WhenAll(pages.Select(async page => (await page.StatsAsync()).Single().FramesDecoded ?? 0));

            await Task.WhenAll(pages.Select(page => page.RenegotiateAllAsync()));

            for (var i = 0; i < pages.Length; i++)
            {
                var (page, ufrag, frames) = (pages[i], ufragsBefore[i], framesBefore[i]);
                // New ICE credentials on both sides and no offer left pending: the restart really completed.
                await Poll.UntilAsync(
                    $"{page.Name}, round {round}: ICE restarted, negotiation settled",
                    page.PeerConnectionsAsync,
                    pcs => pcs.Count == 1 && pcs[0].IsSettled && pcs[0].LocalIceUfrag != ufrag);
                await page.WaitForPeersAsync(1, peer => peer.IsConnected && peer.FramesDecoded > frames, $"round {round}: connected, frames increasing");
            }
            Step($"round {round}: ICE restarted on both sides, connected, frames increasing");
        }

        for (var i = 0; i < pages.Length; i++)
        {
            Assert.Equal(connectionsBefore[i], await pages[i].ConnectionIdsAsync());
            Assert.Equal("open", await pages[i].SignalingStateAsync());
            Assert.Empty(pages[i].ErrorsSince(errorMarks[i]));
        }
    }

    private static async Task<string?> LocalIceUfragAsync(CallPage page) => (await page.PeerConnectionsAsync()).Single().LocalIceUfrag;
}
