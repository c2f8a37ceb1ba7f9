using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests;

/// <summary>(a) The basic call: two people meet through the lobby and get each other's video and audio.</summary>
public sealed class TwoPersonCallTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task TwoPagesJoiningThroughTheLobbyDecodeEachOthersVideoAndReceiveAudio()
    {
        var room = UniqueRoom("two");

        // Ana starts from the site root and types the room; Bo follows the invite link, which prefills it.
        var ana = await OpenAsync(BaseUri, "Ana");
        await ana.JoinAsync(room);
        var bo = await OpenRoomAsync(room, "Bo");
        await Expect(bo.Page.Locator("#room")).ToHaveValueAsync(room);
        await bo.JoinAsync();

        var anaId = await ana.PeerIdAsync();
        var boId = await bo.PeerIdAsync();
        var anaSees = await ana.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Bo's video decoded and audio received");
        var boSees = await bo.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Ana's video decoded and audio received");

        Assert.Equal(boId, anaSees[0].PeerId);
        Assert.Equal(anaId, boSees[0].PeerId);
    }

    [Fact]
    public async Task JoiningBeforeTheCameraIsReadyWaitsForItAndSendsVideo()
    {
        var room = UniqueRoom("early");
        var ana = await OpenAsync(BaseUri, "Ana");
        await ana.JoinAsync(room);
        var bo = await OpenRoomAsync(room, "Bo");
        // A slow camera: getUserMedia answers 1.5 s late, and Bo clicks Join at once.
        await bo.Page.AddInitScriptAsync("""
            const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
            navigator.mediaDevices.getUserMedia = (constraints) =>
              new Promise((resolve) => setTimeout(resolve, 1500)).then(() => original(constraints));
            """);
        await bo.Page.ReloadAsync();
        await bo.FillLobbyAsync();

        await bo.Page.Locator("#join").ClickAsync();
        await bo.WaitForCallAsync();

        await ana.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Bo's video decoded and audio received");
        Assert.True(await bo.Page.EvaluateAsync<bool>("() => document.querySelector('#preview').srcObject === null"),
            "the lobby must not keep the camera after joining");
    }
}
