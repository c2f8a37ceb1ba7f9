using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// The lobby opens the signaling session before Join, so that Join only has to send <c>join</c>: that session is
/// the one the call runs on, and a session that never joins is invisible to the room. It also prepares the first
/// offer there, which the call then sends to the first member.
/// </summary>
public sealed class LobbySessionTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task TheSessionOpenedInTheLobbyJoinsTheCallAndANewOneOpensAfterHangingUp()
    {
        var (ana, bo, lobbyId) = await AnaInTheCallBoInTheLobbyAsync("lobby");

        await bo.Page.Locator("#join").ClickAsync();
        await bo.WaitForCallAsync();

        Assert.Equal(lobbyId, await bo.PeerIdAsync());
        Assert.Equal(1, bo.WebSocketCount);
        var anaSees = await ana.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Bo's video decoded and audio received");
        Assert.Equal(lobbyId, anaSees[0].PeerId);
        await bo.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Ana's video decoded and audio received");

        // Back in the lobby, the next call gets a session of its own again.
        await bo.Page.Locator("#hangup").ClickAsync();
        var nextId = await bo.WaitForLobbySessionAsync();
        Assert.NotEqual(lobbyId, nextId);
    }

    [Fact]
    public async Task TheOfferPreparedInTheLobbyStartsTheCall()
    {
        var (ana, bo, _) = await AnaInTheCallBoInTheLobbyAsync("prepared");
        var preparedSession = await bo.WaitForLobbyOfferAsync();
        Step($"Bo's offer prepared in the lobby (SDP session {preparedSession})");

        await bo.Page.Locator("#join").ClickAsync();
        await bo.WaitForCallAsync();

        var boSessions = await bo.Page.EvaluateAsync<string[]>("() => window.parley.localSessionIds()");
        Assert.Equal([preparedSession], boSessions);
        await ana.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Bo's video decoded and audio received");
        await bo.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Ana's video decoded and audio received");
        Assert.Equal("none", await bo.Page.EvaluateAsync<string>("() => window.parley.lobbyOfferState()"));
    }

    [Fact]
    public async Task ALobbyLeftWithoutJoiningLeavesNoTraceInTheRoom()
    {
        var room = UniqueRoom("lurk");
        var ana = await OpenRoomAsync(room, "Ana");
        await ana.JoinAsync();
        var cy = await OpenRoomAsync(room, "Cy");
        await cy.FillLobbyAsync();
        var cyId = await cy.WaitForLobbySessionAsync();
        Step("Cy's lobby session open");

        await Poll.HoldsForAsync("Ana sees nobody while Cy is in the lobby", ana.PeerIdsAsync, ids => ids.Length == 0, TimeSpan.FromSeconds(1));
        await cy.Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = true });
        Step("Cy closed the lobby");

        var di = await OpenRoomAsync(room, "Di");
        await di.JoinAsync();
        var diId = await di.PeerIdAsync();
        var anaSees = await ana.WaitForPeersAsync(1, peer => peer.IsConnected, "Di connected");
        Assert.Equal(diId, anaSees[0].PeerId);
        var diSees = await di.WaitForPeersAsync(1, peer => peer.IsConnected, "Ana connected");
        Assert.Equal(await ana.PeerIdAsync(), diSees[0].PeerId);
        Assert.DoesNotContain(ana.Log.Concat(di.Log), line => line.Contains(cyId, StringComparison.Ordinal));
    }

    /// <summary>Ana in a call in a new room; Bo in its lobby with the preview playing and the lobby session open.</summary>
    private async Task<(CallPage Ana, CallPage Bo, string BoLobbyId)> AnaInTheCallBoInTheLobbyAsync(string roomPrefix)
    {
        var room = UniqueRoom(roomPrefix);
        var ana = await OpenRoomAsync(room, "Ana");
        await ana.JoinAsync();
        var bo = await OpenRoomAsync(room, "Bo");
        await bo.FillLobbyAsync();
        await bo.WaitForPreviewAsync();
        var lobbyId = await bo.WaitForLobbySessionAsync();
        Step("Bo's lobby session open");
        return (ana, bo, lobbyId);
    }
}
