using Microsoft.Playwright;
using Parley.EndToEnd.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Relayed calls in real Chromium: forced onto TURN with the app's troubleshooting query (<c>?policy=relay&amp;turn=…</c>),
/// through the embedded TURN server over UDP and TCP, and through coturn with credentials Parley minted; the
/// connectivity panel; the "TURN is probably needed" hint when no relay can exist.
/// </summary>
public sealed class TurnRelayTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private readonly List<IAsyncDisposable> _ownServers = [];
    private readonly List<Coturn> _coturns = [];

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task ACallForcedOntoTheEmbeddedTurnServerIsRelayedBothWaysOverTheChosenTransport(string transport)
    {
        var stats = await RelayedCallAsync(BaseUri, $"policy=relay&turn={transport}", UniqueRoom($"relay-{transport}"));

        foreach (var peer in stats)
            Assert.Equal(transport, peer.RelayProtocol);
    }

    [Fact]
    public async Task ACallForcedOntoTurnsOnTheWebServersHttpsPortIsRelayedOverTls()
    {
        // Parley serving HTTPS itself, TURN sharing that port: the only turns: URL is https port's (no Turn:TlsPort).
        var server = await ParleyServer.StartHttpsAsync("--Turn:ShareHttpsPort=true");
        _ownServers.Add(server);
        Step($"Parley on {server.BaseUri}, TURN over TLS on the same port");

        var stats = await RelayedCallAsync(server.BaseUri, "policy=relay&turn=tls", UniqueRoom("relay-https-port"));

        foreach (var peer in stats)
            Assert.Equal("tls", peer.RelayProtocol);
    }

    [Fact]
    public async Task ACallForcedOntoCoturnConnectsWithCredentialsParleyMintedFromTheSharedSecret()
    {
        var coturn = await Coturn.StartAsync();
        _coturns.Add(coturn);
        Step($"coturn answering on 127.0.0.1:{coturn.Port}");
        var server = await ParleyServer.StartAsync(
            "--Turn:Enabled=false",
            $"--Signaling:IceServers:0:Urls:0=turn:127.0.0.1:{coturn.Port}?transport=udp",
            $"--Signaling:IceServers:0:SharedSecret={coturn.Secret}");
        _ownServers.Add(server);

        var stats = await RelayedCallAsync(server.BaseUri, "policy=relay", UniqueRoom("coturn"));

        foreach (var peer in stats)
            Assert.Equal("udp", peer.RelayProtocol);
    }

    [Fact]
    public async Task TheConnectivityPanelRelaysThroughTheEmbeddedServerOverUdpAndTcp()
    {
        var page = await OpenAsync(BaseUri, "Cy");
        await page.Page.Locator("#connectivity-open").ClickAsync();
        await Expect(page.Page.Locator("#connectivity")).ToBeVisibleAsync();

        var udp = page.Page.Locator("#connectivity-results tr[data-url^='turn:'][data-url$='transport=udp']");
        var tcp = page.Page.Locator("#connectivity-results tr[data-url^='turn:'][data-url$='transport=tcp']");
        var timeout = new LocatorAssertionsToHaveAttributeOptions { Timeout = 30_000 };
        await Expect(udp).ToHaveAttributeAsync("data-result", "ok", timeout);
        await Expect(udp).ToHaveAttributeAsync("data-relay-protocol", "udp");
        await Expect(tcp).ToHaveAttributeAsync("data-result", "ok", timeout);
        await Expect(tcp).ToHaveAttributeAsync("data-relay-protocol", "tcp");
        Step("the panel reports the embedded server OK over UDP and TCP");
    }

    [Fact]
    public async Task WithoutAnyTurnServerAForcedRelayCallShowsTheTurnHintOnBothSides()
    {
        var server = await ParleyServer.StartAsync("--Turn:Enabled=false");
        _ownServers.Add(server);
        var room = UniqueRoom("no-turn");
        var pages = new List<CallPage>();
        foreach (var name in new[] { "Ana", "Bo" })
        {
            var page = await OpenAsync(new Uri(server.BaseUri, $"r/{room}?policy=relay"), name);
            await page.JoinAsync();
            pages.Add(page);
        }
        Step("both joined; no relay can exist, so ICE cannot succeed");

        foreach (var page in pages)
        {
            var hint = page.Page.Locator("#turn-hint");
            await Expect(hint).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 25_000 });
            await Expect(hint).ToContainTextAsync("TURN server is probably needed");
            await Expect(page.Page.Locator("#tiles .tile[data-turn-hint='true']")).ToHaveCountAsync(1);
        }
        Step("the hint is shown on both pages");
    }

    /// <summary>Two pages on <paramref name="baseUri"/> with the troubleshooting <paramref name="query"/>, connected, decoding video, relay/relay.</summary>
    private async Task<IReadOnlyList<PeerStats>> RelayedCallAsync(Uri baseUri, string query, string room)
    {
        var pages = new List<CallPage>();
        foreach (var name in new[] { "Ana", "Bo" })
        {
            var page = await OpenAsync(new Uri(baseUri, $"r/{Uri.EscapeDataString(room)}?{query}"), name);
            await page.JoinAsync();
            pages.Add(page);
        }
        Step($"both joined {room} with ?{query}");
        List<PeerStats> all = [];
        foreach (var page in pages)
        {
            var stats = await page.WaitForPeersAsync(
                1, peer => peer.HasVideo && peer.LocalCandidateType == "relay" && peer.RemoteCandidateType == "relay",
                "the other's video decoded over a relay/relay pair");
            all.AddRange(stats);
        }
        Step($"relayed: {string.Join(", ", all.Select(s => s.RelayProtocol))}");
        return all;
    }

    public override async Task DisposeAsync()
    {
        // Pages first, so that stopping their server does not wait for open WebSockets.
        await base.DisposeAsync();
        foreach (var server in _ownServers)
            await server.DisposeAsync();
        foreach (var coturn in _coturns)
        {
            Output.WriteLine("--- coturn");
            foreach (var line in coturn.Output.TakeLast(40))
                Output.WriteLine(line);
            await coturn.DisposeAsync();
        }
    }
}
