using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests;

/// <summary>(d) A full room turns the next person away and leaves the call inside untouched.</summary>
public sealed class RoomFullTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task FifthJoinerIsToldTheRoomIsFullAndTheFourInsideKeepTheirConnections()
    {
        Assert.Equal(4, ParleyServer.RoomCapacity);
        var room = UniqueRoom("full");
        // Eve waits in the lobby while the others join (a fifth page opened next to a running four-way call
        // can take over 10 s to get its camera on 2 cores).
        var eve = await OpenRoomAsync(room, "Eve");
        await eve.FillLobbyAsync();
        await eve.WaitForPreviewAsync();
        Step("Eve's lobby ready");
        var inside = await JoinAllAsync(room, "Ana", "Bo", "Cy", "Di");
        await WaitForFullMeshAsync(inside, TimeSpan.FromSeconds(40));
        var before = await SnapshotAsync(inside);

        await eve.Page.Locator("#join").ClickAsync();

        await Expect(eve.Page.Locator("#notice[data-error-id=room-full]")).ToBeVisibleAsync();
        await Expect(eve.Page.Locator("#call")).ToBeHiddenAsync();
        Step("Eve told the room is full");
        // Watch long enough for a wrongly sent peer-joined/peer-left to have shown.
        await Poll.HoldsForAsync(
            "the four inside keep the same peers and peer connections, all connected",
            () => SnapshotAsync(inside),
            after => after.Zip(before).All(pair => pair.First.SameCallAs(pair.Second)),
            TimeSpan.FromSeconds(3));
    }

    private static async Task<Snapshot[]> SnapshotAsync(CallPage[] pages)
    {
        var snapshots = new Snapshot[pages.Length];
        for (var i = 0; i < pages.Length; i++)
        {
            snapshots[i] = new Snapshot(
                [.. (await pages[i].PeerIdsAsync()).Order(StringComparer.Ordinal)],
                [.. (await pages[i].ConnectionIdsAsync()).Order(StringComparer.Ordinal)],
                await pages[i].StatsAsync());
        }
        return snapshots;
    }

    private sealed record Snapshot(string[] PeerIds, string[] ConnectionIds, IReadOnlyList<PeerStats> Stats)
    {
        public bool SameCallAs(Snapshot before) =>
            PeerIds.SequenceEqual(before.PeerIds)
            && ConnectionIds.SequenceEqual(before.ConnectionIds)
            && Stats.Count == 3
            && Stats.All(peer => peer.IsConnected);
    }
}
