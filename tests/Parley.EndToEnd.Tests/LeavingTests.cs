using Parley.EndToEnd.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>(c) Leaving is seen promptly: hanging up and closing the tab both remove the tile for everyone else.</summary>
public sealed class LeavingTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    // Well under ICE's own failure detection (~30 s): only the signaling path (bye / close 1001) is this fast.
    private static readonly TimeSpan s_dropWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task HangingUpAndClosingTheTabDropTheTileForTheOthersWithin5Seconds()
    {
        var pages = await JoinAllAsync(UniqueRoom("leave"), "Ana", "Bo", "Cy");
        var (ana, bo, cy) = (pages[0], pages[1], pages[2]);
        var ids = await WaitForFullMeshAsync(pages);
        var (boId, cyId) = (ids[1], ids[2]);
        foreach (var (page, id) in new[] { (ana, boId), (ana, cyId), (cy, boId) })
            Assert.Equal(1, await page.Tile(id).CountAsync());

        await bo.Page.Locator("#hangup").ClickAsync();
        await WaitForTileGoneAsync(ana, boId, "Bo hung up");
        await WaitForTileGoneAsync(cy, boId, "Bo hung up");
        Step("Bo's tile gone for Ana and Cy");

        await cy.Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = true });
        await WaitForTileGoneAsync(ana, cyId, "Cy closed the tab");
        Step("Cy's tile gone for Ana");
    }

    private static async Task WaitForTileGoneAsync(CallPage page, string peerId, string why) =>
        await Poll.UntilAsync($"{page.Name}: {why}, tile removed", () => page.Tile(peerId).CountAsync(), count => count == 0, s_dropWithin);
}
