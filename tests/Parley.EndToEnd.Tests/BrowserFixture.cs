using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Shared by every browser test: one Parley server (in-process, 127.0.0.1, OS-chosen port) and one Chromium
/// process. Tests isolate themselves with fresh browser contexts and unique room names.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private ParleyServer? _server;

    internal IBrowser Browser => _browser ?? throw new InvalidOperationException("The fixture is not started.");

    internal ParleyServer Server => _server ?? throw new InvalidOperationException("The fixture is not started.");

    public async Task InitializeAsync()
    {
        LoopbackOnly.Ensure();
        // Playwright's 5 s default is short on a busy 2-core machine running a four-page call.
        Assertions.SetDefaultExpectTimeout(15_000);
        _server = await ParleyServer.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_server is not null)
            await _server.DisposeAsync();
    }
}

/// <summary>All browser test classes share one collection, so they never run in parallel (2 cores).</summary>
[CollectionDefinition(Name)]
public sealed class OneBrowserAtATime : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
