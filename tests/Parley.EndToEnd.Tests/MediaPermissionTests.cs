using System.Text.RegularExpressions;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// (e) A blocked camera is explained, and the person can still join without it.
/// Headless Chromium behaves like a user clicking "Block": a device without permission makes getUserMedia
/// reject at once with NotAllowedError, and asking for audio and video together fails if either is blocked.
/// So "camera blocked, microphone allowed" is a context granting only 'microphone' (audio alone then works),
/// and "both blocked" is a context granting nothing (audio-only then fails too and the UI falls back to
/// receive-only).
/// </summary>
public sealed partial class MediaPermissionTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task CameraBlockedShowsTheExplanationAndAnAudioOnlyJoinConnectsAndSendsAudio()
    {
        var room = UniqueRoom("nocam");
        var ana = await OpenRoomAsync(room, "Ana");
        await ana.JoinAsync();
        var bo = await OpenRoomAsync(room, "Bo", MediaPermission.MicrophoneOnly);

        await ExpectExplanationAsync(bo, "NotAllowedError");
        await bo.FillLobbyAsync();
        await bo.Page.Locator("#join-audio-only").ClickAsync();
        await bo.WaitForCallAsync();

        var boId = await bo.PeerIdAsync() ?? throw new InvalidOperationException("Bo has no peer id in the call.");
        var anaSees = await ana.WaitForPeersAsync(1, peer => peer.HasAudio, "Bo connected and his audio arriving");
        Assert.Equal(boId, anaSees[0].PeerId);
        await Expect(ana.Tile(boId)).ToHaveAttributeAsync("data-audio", "on");
        await Expect(ana.Tile(boId)).ToHaveAttributeAsync("data-video", "off");
        // Bo's missing camera does not stop him from seeing and hearing Ana.
        await bo.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Ana's video decoded and audio received");
    }

    [Fact]
    public async Task CameraAndMicrophoneBlockedFallsBackToReceiveOnlyAndStillConnects()
    {
        var room = UniqueRoom("nomedia");
        var ana = await OpenRoomAsync(room, "Ana");
        await ana.JoinAsync();
        var bo = await OpenRoomAsync(room, "Bo", MediaPermission.None);

        await ExpectExplanationAsync(bo, "NotAllowedError");
        await bo.FillLobbyAsync();
        // Audio alone is blocked too: the UI falls back to receive-only rather than leaving Bo in the lobby.
        await bo.Page.Locator("#join-audio-only").ClickAsync();
        await bo.WaitForCallAsync();

        var boId = await bo.PeerIdAsync() ?? throw new InvalidOperationException("Bo has no peer id in the call.");
        var anaSees = await ana.WaitForPeersAsync(1, peer => peer.IsConnected, "Bo connected");
        Assert.Equal(boId, anaSees[0].PeerId);
        await Expect(ana.Tile(boId)).ToHaveAttributeAsync("data-audio", "off");
        await Expect(ana.Tile(boId)).ToHaveAttributeAsync("data-video", "off");
        await bo.WaitForPeersAsync(1, peer => peer.HasVideo && peer.HasAudio, "Ana's video decoded and audio received");
    }

    private static async Task ExpectExplanationAsync(CallPage page, string errorName)
    {
        var error = page.Page.Locator("#media-error");
        await Expect(error).ToBeVisibleAsync();
        await Expect(error).ToHaveAttributeAsync("data-error", errorName);
        // The explanation itself, not just the buttons' labels.
        var explanation = await error.EvaluateAsync<string>(
            "element => { const copy = element.cloneNode(true); copy.querySelectorAll('button').forEach(b => b.remove()); return copy.textContent.trim(); }");
        Assert.Matches(SomeWords(), explanation);
        await Expect(page.Page.Locator("#join-audio-only")).ToBeVisibleAsync();
        await Expect(page.Page.Locator("#join-receive-only")).ToBeVisibleAsync();
    }

    [GeneratedRegex(@"\w{3,}\W+\w{3,}\W+\w{3,}")]
    private static partial Regex SomeWords();
}
