using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Parley behind Debian's nginx, with the site configuration docs/operations.md gives: TLS at nginx, Parley under
/// /parley/, the WebSocket upgraded through the proxy, forwarded headers from the configured proxy.
/// </summary>
public sealed class NginxProxyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task A_call_through_nginx_under_a_path_base_connects_and_decodes_video()
    {
        await using var parley = await ParleyServer.StartAsync("--Proxy:PathBase=/parley", "--Proxy:KnownProxies:0=127.0.0.1");
        await using var nginx = await Nginx.StartAsync(parley.BaseUri.Port);
        Step($"nginx on {nginx.BaseUri} in front of Parley on {parley.BaseUri}");
        var room = UniqueRoom("nginx");
        var invite = new Uri(nginx.BaseUri, $"parley/r/{room}");

        try
        {
            var ana = await OpenAsync(invite, "Ana");
            Assert.Equal(new Uri(nginx.BaseUri, "parley/").ToString(), await ana.Page.EvaluateAsync<string>("() => document.baseURI"));
            await ana.JoinAsync();
            var bo = await OpenAsync(invite, "Bo");
            await bo.JoinAsync();
            Step("both joined through nginx");

            var anaSees = await ana.WaitForPeersAsync(1, peer => peer.HasVideo, "Bo's video decoded");
            var boSees = await bo.WaitForPeersAsync(1, peer => peer.HasVideo, "Ana's video decoded");
            Assert.Equal(await bo.PeerIdAsync(), anaSees[0].PeerId);
            Assert.Equal(await ana.PeerIdAsync(), boSees[0].PeerId);
            Assert.Equal(new Uri(nginx.BaseUri, $"parley/r/{room}").ToString(), ana.Page.Url);

            // The pages, scripts and the signaling sockets all went through nginx, under the path base. nginx logs
            // an upgraded socket when it closes: leave the call first.
            await ana.Context.CloseAsync();
            await bo.Context.CloseAsync();
            var log = await Poll.UntilAsync("both signaling sockets logged by nginx as upgraded (101)",
                () => Task.FromResult(nginx.AccessLog), text => text.Split("\"GET /parley/ws HTTP/1.1\" 101").Length == 3, TimeSpan.FromSeconds(10));
            Assert.Contains($"\"GET /parley/r/{room} HTTP/1.1\" 200", log, StringComparison.Ordinal);
            Assert.Contains("\"GET /parley/ui/app.js HTTP/1.1\" 200", log, StringComparison.Ordinal);
        }
        catch
        {
            Output.WriteLine($"nginx: {nginx.Diagnostics}");
            Output.WriteLine($"access.log: {nginx.AccessLog}");
            throw;
        }
    }
}

/// <summary>The nginx site the end-to-end test runs is the one the operations guide shows.</summary>
public sealed class NginxSiteDocumentationTests
{
    [Fact]
    public void The_operations_guide_shows_the_tested_nginx_site_verbatim()
    {
        var site = File.ReadAllText(Nginx.SiteTemplatePath).ReplaceLineEndings("\n").TrimEnd();
        var guide = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "docs", "operations.md")).ReplaceLineEndings("\n");

        Assert.Contains("```nginx\n" + site + "\n```", guide, StringComparison.Ordinal);
    }
}
