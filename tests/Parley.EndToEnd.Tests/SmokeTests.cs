using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests;

/// <summary>The host is up: health check answers, and the site root serves the app to a real browser.</summary>
public sealed class SmokeTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task HealthzAnswersHealthy()
    {
        using var http = new HttpClient { BaseAddress = BaseUri };

        using var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SiteRootServesTheAppWithItsLobby()
    {
        using var http = new HttpClient { BaseAddress = BaseUri };
        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);

        var page = await OpenAsync(BaseUri, "Smoke");

        await Expect(page.Page.Locator("#lobby")).ToBeVisibleAsync();
        await Expect(page.Page.Locator("#join")).ToBeVisibleAsync();
    }
}
