using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>Keeps the README's screenshot true: it is taken from a real two-person call on every run.</summary>
public sealed class ScreenshotTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private static readonly ViewportSize s_hd = new() { Width = 1280, Height = 720 };

    [Fact]
    public async Task TwoPersonCallIsCapturedAsDocsImagesCallPng()
    {
        // Shown in the picture, so a name a person would choose; no other test uses it.
        const string room = "weekly-sync";
        var ana = await OpenRoomAsync(room, "Ana", viewport: s_hd);
        await ana.JoinAsync();
        var bo = await OpenRoomAsync(room, "Bo", viewport: s_hd);
        await bo.JoinAsync();
        await WaitForFullMeshAsync([ana, bo]);
        // Every <video> on Ana's page (hers and Bo's) must be showing a picture, not a black box.
        await Poll.UntilAsync(
            "Ana's videos are painted",
            () => ana.Page.EvaluateAsync<bool>(
                "() => [...document.querySelectorAll('#tiles video')].every(v => v.videoWidth > 0 && v.readyState >= 2)"),
            painted => painted);

        var path = Path.Combine(RepositoryRoot.Find(), "docs", "images", "call.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await ana.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });

        Output.WriteLine($"Wrote {path}");
        Assert.True(new FileInfo(path).Length > 10_000, "The screenshot is suspiciously small.");
    }
}
