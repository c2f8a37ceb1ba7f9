using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>(b) A full room: four people, six peer connections, video on every one of them.</summary>
public sealed class FourPersonMeshTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task FourPagesInOneRoomConnectAllSixPairsWithVideoFlowing()
    {
        var pages = await JoinAllAsync(UniqueRoom("four"), "Ana", "Bo", "Cy", "Di");

        var peerIds = await WaitForFullMeshAsync(pages, TimeSpan.FromSeconds(40));

        // Each page sees exactly the other three (so all six pairs), each connected and decoding video.
        for (var i = 0; i < pages.Length; i++)
        {
            var stats = await pages[i].StatsAsync();
            var others = peerIds.Where((_, j) => j != i).Order(StringComparer.Ordinal);
            Assert.Equal(others, stats.Select(peer => peer.PeerId).Order(StringComparer.Ordinal));
            Assert.All(stats, peer => Assert.True(peer.HasVideo, $"{pages[i].Name} -> {peer}"));
        }
    }
}
