using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Base of the browser tests: opens participants in fresh contexts, closes them afterwards, and writes every
/// page's console to the test output so a failure can be read without re-running it.
/// </summary>
[Collection(OneBrowserAtATime.Name)]
public abstract class BrowserTest(BrowserFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<CallPage> _pages = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private protected BrowserFixture Fixture { get; } = fixture;

    private protected ITestOutputHelper Output { get; } = output;

    private protected Uri BaseUri => Fixture.Server.BaseUri;

    /// <summary>Notes a step with the time since the test started: where a slow or failed test spent its time.</summary>
    private protected void Step(string what) =>
        Output.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"{TimeProvider.System.GetLocalNow():HH:mm:ss.fff} [{_clock.Elapsed.TotalSeconds,5:0.0} s] {what}"));

    /// <summary>A room name no other test uses (letters, digits and '-' only).</summary>
    private protected static string UniqueRoom(string purpose) => $"{purpose}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Opens the invite link of <paramref name="room"/> (the lobby, with the room prefilled).</summary>
    private protected Task<CallPage> OpenRoomAsync(
        string room, string name, MediaPermission permission = MediaPermission.CameraAndMicrophone, ViewportSize? viewport = null) =>
        OpenAsync(new Uri(BaseUri, $"r/{Uri.EscapeDataString(room)}"), name, permission, viewport);

    private protected async Task<CallPage> OpenAsync(
        Uri url, string name, MediaPermission permission = MediaPermission.CameraAndMicrophone, ViewportSize? viewport = null)
    {
        var page = await CallPage.OpenAsync(Fixture.Browser, url, name, permission, viewport);
        _pages.Add(page);
        return page;
    }

    /// <summary>Opens and joins <paramref name="room"/> for each name, one after another, as people arrive.</summary>
    private protected async Task<CallPage[]> JoinAllAsync(string room, params string[] names)
    {
        var pages = new List<CallPage>();
        foreach (var name in names)
        {
            var page = await OpenRoomAsync(room, name);
            await page.JoinAsync();
            Step($"{name} joined {room}");
            pages.Add(page);
        }
        return [.. pages];
    }

    /// <summary>Waits until every page sees all the others connected with video decoding; returns their peer ids.</summary>
    private protected async Task<string[]> WaitForFullMeshAsync(IReadOnlyList<CallPage> pages, TimeSpan? timeout = null)
    {
        foreach (var page in pages)
            await page.WaitForPeersAsync(pages.Count - 1, peer => peer.HasVideo, "every peer connected with video decoding", timeout);
        Step($"all {pages.Count} pages connected with video decoding");
        var peerIds = new string[pages.Count];
        for (var i = 0; i < pages.Count; i++)
            peerIds[i] = await pages[i].PeerIdAsync() ?? throw new InvalidOperationException($"{pages[i].Name} has no peer id in a call.");
        return peerIds;
    }

    public virtual Task InitializeAsync() =>
        // A test that failed mid-restart must not take the server away from the tests after it.
        Fixture.Server.StartAgainAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var page in _pages)
        {
            Output.WriteLine($"--- {page.Name}: {page.Page.Url}");
            foreach (var line in page.Log)
                Output.WriteLine(line);
            try
            {
                await page.DisposeAsync();
            }
            catch (PlaywrightException)
            {
                // Already closed by the test (a closed tab).
            }
        }
    }
}
